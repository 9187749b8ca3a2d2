"""A real HTTP server on a free loopback port that answers chat-completion requests from a script: a
streamed answer, a 429 with Retry-After, a 500, an answer that never ends (it notes when the client
hangs up), or silence. For the inference-server backend's failure tests."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ENDLESS_LIMIT = 2000  # chunks an endless answer sends at most (20 s) before it gives up on the client


@dataclass
class Answer:
    """One scripted reply: `status` with `body` (JSON), or a 200 stream of `chunks` (content pieces);
    `endless` streams until the client hangs up; `silent_s` sleeps that long before answering."""

    status: int = 200
    chunks: list[str] = field(default_factory=list)
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    endless: bool = False
    silent_s: float = 0.0


@dataclass
class Seen:
    """One request as the server received it, and how its answer ended."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    chunks_sent: int = 0
    client_hung_up: bool = False
    done: threading.Event = field(default_factory=threading.Event)


def chunk(content: str = "", finish: str | None = None) -> bytes:
    event = {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {"content": content} if content else {}, "finish_reason": finish}],
    }
    return f"data: {json.dumps(event)}\n\n".encode()


class ScriptedServer:
    """Serves `answers` in order (the last one again once they run out); records every request."""

    def __init__(self, answers: list[Answer]) -> None:
        self.answers = answers
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return None

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                seen = Seen(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                with server._lock:
                    server.seen.append(seen)
                    answer = server.answers[min(len(server.seen) - 1, len(server.answers) - 1)]
                try:
                    server.answer(self, answer, seen)
                except (BrokenPipeError, ConnectionResetError):
                    seen.client_hung_up = True
                finally:
                    seen.done.set()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def answer(self, handler: BaseHTTPRequestHandler, answer: Answer, seen: Seen) -> None:
        if answer.silent_s:
            time.sleep(answer.silent_s)
        if answer.status != 200:
            data = json.dumps(answer.body or {"error": {"message": "scripted failure"}}).encode()
            handler.send_response(answer.status)
            for name, value in {"content-type": "application/json", **answer.headers}.items():
                handler.send_header(name, value)
            handler.send_header("content-length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
            return
        handler.send_response(200)
        handler.send_header("content-type", "text/event-stream")
        handler.send_header("connection", "close")
        handler.end_headers()
        handler.close_connection = True
        for piece in self._pieces(answer):
            handler.wfile.write(piece)
            handler.wfile.flush()
            seen.chunks_sent += 1
            if answer.endless:
                time.sleep(0.01)

    @staticmethod
    def _pieces(answer: Answer) -> Iterator[bytes]:
        if answer.endless:
            for index in range(ENDLESS_LIMIT):
                yield chunk(f"word{index} ")
            return
        for content in answer.chunks:
            yield chunk(content)
        yield chunk(finish="stop")
        yield b"data: [DONE]\n\n"

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
