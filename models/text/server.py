"""The inference-server text backend: any server that speaks the OpenAI chat-completions API (vLLM,
llama.cpp's server, Ollama, TGI, LM Studio), streamed over server-sent events.

A preset with `backend = "openai"` names the server (`base_url`, e.g. http://127.0.0.1:8080/v1), the
model as the server knows it, the environment variable that holds the API key (`api_key_env`; the key
is sent as a Bearer token and never logged or shown), timeouts, retries and sampling defaults.

Per draft (`models.text.writer` runs the drafts, checks the form and retries):
- the answer streams in; each chunk feeds the same progress events as the in-process backend (the
  text so far, tokens so far);
- with `form_grammar = "gbnf"` the request carries the form as a grammar (`models.text.grammar`), so
  the server samples only text in the form: labels, numbers, line counts and lengths, the script;
- the stream is closed as soon as the form is complete (the fifth line of a limerick) or the job is
  cancelled (checked at every chunk; a silent server is bounded by `read_timeout_s`);
- 429 and 5xx answers and refused connections are retried with exponential backoff (honouring
  Retry-After, at most 30 s a wait) up to `max_retries` times, then end in a clear error; other 4xx
  answers end at once in one (a bad key, an unknown model); a server that is down is a clear result
  within `connect_timeout_s` × tries plus the waits, never a hang.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any, Self

import httpx

from config.settings import Settings, TextPreset
from models.base import AnyJob, Backend, GenerationContext, GenerationError, GenerationOutput, JobCancelled
from models.text.grammar import form_grammar
from models.text.guide import FormGuide
from models.text.writer import TIME_SHARE, Draft, OnText, text_output, write
from wire.contract import ErrorCode, TextJob

log = logging.getLogger(__name__)

MAX_WAIT_S = 30.0
CANCEL_POLL_S = 0.1
RETRYABLE = {429, 500, 502, 503, 504}


class _Retry(Exception):
    """An answer worth trying again: its status (None: no connection) and how long to wait."""

    def __init__(self, reason: str, wait_s: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait_s = wait_s


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def _error_detail(response: httpx.Response) -> str:
    """The server's own message from an error body, short (it never holds our key)."""
    try:
        response.read()
        body = response.json()
        message = body.get("error", body) if isinstance(body, dict) else body
        if isinstance(message, dict):
            message = message.get("message") or message.get("detail") or message
        text = str(message)
    except (ValueError, httpx.HTTPError):
        text = response.text if response.is_stream_consumed else ""
    text = " ".join(text.split())
    return text[:200] + ("…" if len(text) > 200 else "")


def sse_data(lines: Iterator[str]) -> Iterator[str]:
    """The `data:` payloads of a server-sent event stream (multi-line events joined), up to [DONE]."""
    buffer: list[str] = []
    for line in lines:
        if not line.strip():
            if buffer:
                payload = "\n".join(buffer)
                buffer = []
                if payload.strip() == "[DONE]":
                    return
                yield payload
            continue
        if line.startswith(":"):
            continue  # a comment: keep-alive pings
        if line.startswith("data:"):
            buffer.append(line[5:].lstrip(" "))
    if buffer and "\n".join(buffer).strip() != "[DONE]":
        yield "\n".join(buffer)


def place_field(body: dict[str, Any], dotted: str, value: Any) -> None:
    """Set `value` at a dotted path in a request body ("structured_outputs.grammar"), keeping what
    the preset's extra_body already put in the objects on the way."""
    *parents, last = dotted.split(".")
    target = body
    for key in parents:
        existing = target.get(key)
        target[key] = dict(existing) if isinstance(existing, dict) else {}  # never the preset's own
        target = target[key]
    target[last] = value


class OpenAITextBackend(Backend):
    """Serves one text preset from an OpenAI-compatible chat-completions server."""

    modality = "text"

    def __init__(self, name: str, preset: TextPreset, time_budget_s: float = 240.0) -> None:
        if not preset.base_url:
            raise GenerationError(ErrorCode.INTERNAL, f"text preset {name} has no base_url")
        self.name = name
        self.preset = preset
        self.time_budget_s = time_budget_s
        headers = {"Accept": "text/event-stream"}
        if preset.api_key is not None:
            headers["Authorization"] = f"Bearer {preset.api_key.get_secret_value()}"
        timeout = httpx.Timeout(
            connect=preset.connect_timeout_s,
            read=preset.read_timeout_s,
            write=preset.connect_timeout_s,
            pool=preset.connect_timeout_s,
        )
        self.client = httpx.Client(base_url=preset.base_url, headers=headers, timeout=timeout)
        self.sleep: Callable[[float], None] = time.sleep

    @classmethod
    def from_preset(
        cls, name: str, preset: TextPreset, settings: Settings, *, quantize: str | None = None
    ) -> Self:
        """The backend for a preset; nothing is sent to the server until a job runs."""
        if preset.api_key_env and preset.api_key is None:
            log.warning("text preset %s: the environment variable %s is not set", name, preset.api_key_env)
        return cls(name, preset, settings.queue_limits("text").soft_time_limit * TIME_SHARE)

    @property
    def model_label(self) -> str:
        return self.preset.model

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "preset": self.name,
            "model": self.preset.model,
            "base_url": self.preset.base_url,
            "api_key": "set" if self.preset.api_key is not None else "none",
            "max_new_tokens": self.preset.max_new_tokens,
            "max_retries": self.preset.max_retries,
        }

    def close(self) -> None:
        self.client.close()

    # -- one request --------------------------------------------------------------------------------
    def request_body(
        self,
        messages: list[dict[str, str]],
        *,
        max_new_tokens: int,
        temperature: float,
        top_p: float,
        seed: int,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.preset.model,
            "messages": messages,
            "max_tokens": max_new_tokens,
            "temperature": temperature,
            "top_p": top_p,
            "seed": seed,
            "stream": True,
        }
        if self.preset.frequency_penalty:
            body["frequency_penalty"] = self.preset.frequency_penalty
        if self.preset.presence_penalty:
            body["presence_penalty"] = self.preset.presence_penalty
        body.update(self.preset.extra_body)
        return body

    def _wait(self, seconds: float, is_cancelled: Callable[[], bool]) -> None:
        """Sleep before a retry, in short steps, so a cancel is not held up by the wait."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if is_cancelled():
                raise JobCancelled()
            self.sleep(min(CANCEL_POLL_S, left))

    def _refused(self, response: httpx.Response) -> GenerationError:
        detail = _error_detail(response)
        status = response.status_code
        suffix = f": {detail}" if detail else ""
        if status in {401, 403}:
            where = f" (the key in {self.preset.api_key_env})" if self.preset.api_key_env else ""
            return GenerationError(
                ErrorCode.NOT_AVAILABLE,
                f"The text server refused Atelier's credentials{where} ({status}); an operator checks them.",
            )
        if status == 404:
            return GenerationError(
                ErrorCode.MODEL_MISSING,
                f"The text server has no model '{self.preset.model}' or no chat-completions API at "
                f"{self.preset.base_url} (404){suffix}.",
            )
        return GenerationError(
            ErrorCode.INVALID_INPUT, f"The text server refused the request ({status}){suffix}."
        )

    def _stream_once(
        self, body: dict[str, Any], guide: FormGuide, on_text: OnText, is_cancelled: Callable[[], bool]
    ) -> Draft:
        started = time.perf_counter()
        text = ""
        chunks = 0
        usage_tokens: int | None = None
        first_token_s = 0.0
        finish = "length"
        try:
            with self.client.stream("POST", "/chat/completions", json=body) as response:
                if response.status_code in RETRYABLE:
                    detail = _error_detail(response)
                    raise _Retry(
                        f"{response.status_code} {response.reason_phrase}{': ' + detail if detail else ''}",
                        _retry_after(response),
                    )
                if response.status_code >= 400:
                    raise self._refused(response)
                for payload in sse_data(response.iter_lines()):
                    try:
                        event = json.loads(payload)
                    except ValueError:
                        log.warning("text server sent an unreadable event: %.80s", payload)
                        continue
                    if isinstance(event, dict) and event.get("error"):
                        error = event["error"]
                        message = error.get("message", error) if isinstance(error, dict) else error
                        if chunks == 0:
                            raise _Retry(f"error event: {str(message)[:200]}")
                        raise GenerationError(
                            ErrorCode.INTERNAL, f"The text server failed mid-answer: {str(message)[:200]}"
                        )
                    if isinstance(event.get("usage"), dict) and event["usage"].get("completion_tokens"):
                        usage_tokens = int(event["usage"]["completion_tokens"])
                    choices = event.get("choices") or []
                    if not choices:
                        continue
                    choice = choices[0]
                    content = (choice.get("delta") or {}).get("content") or ""
                    if content:
                        if not first_token_s:
                            first_token_s = time.perf_counter() - started
                        text += content
                        chunks += 1
                        on_text(text, chunks)
                    if choice.get("finish_reason"):
                        finish = "eos" if choice["finish_reason"] == "stop" else str(choice["finish_reason"])
                    if is_cancelled():
                        raise JobCancelled()  # leaving the block closes the stream
                    if content and guide.done(text):
                        finish = "complete"
                        break
        except (httpx.ConnectError, httpx.ConnectTimeout) as error:
            raise _Retry(f"not reachable ({type(error).__name__})") from None
        except httpx.ReadTimeout:
            if chunks == 0:
                raise _Retry(f"no answer within {self.preset.read_timeout_s:g} s") from None
            raise GenerationError(
                ErrorCode.TIMEOUT,
                f"The text server stopped sending for {self.preset.read_timeout_s:g} s in the middle of an answer.",
            ) from None
        except (httpx.RemoteProtocolError, httpx.ReadError) as error:
            if chunks == 0:
                raise _Retry(f"the connection broke ({type(error).__name__})") from None
            raise GenerationError(
                ErrorCode.NOT_AVAILABLE,
                "The connection to the text server broke off in the middle of an answer.",
            ) from None
        length_finish = {"length": "length", "eos": "eos", "complete": "complete"}
        return Draft(
            text=text,
            tokens=usage_tokens or chunks,
            finish_reason=length_finish.get(finish, finish),
            first_token_s=first_token_s,
            total_s=time.perf_counter() - started,
        )

    def draft(
        self,
        messages: list[dict[str, str]],
        *,
        max_new_tokens: int,
        temperature: float,
        top_p: float,
        seed: int,
        guide: FormGuide,
        on_text: OnText,
        is_cancelled: Callable[[], bool],
    ) -> Draft:
        """One draft from the server, with retries (see the module's docstring)."""
        body = self.request_body(
            messages, max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p, seed=seed
        )
        grammar = form_grammar(guide) if self.preset.form_grammar == "gbnf" else None
        if grammar is not None:
            place_field(body, self.preset.grammar_field, grammar)
        retries = 0
        waited = 0.0
        while True:
            if is_cancelled():
                raise JobCancelled()
            try:
                draft = self._stream_once(body, guide, on_text, is_cancelled)
                draft.extra.update({"server_retries": retries, "server_wait_s": round(waited, 2)})
                return draft
            except _Retry as retry:
                if retries >= self.preset.max_retries:
                    tries = retries + 1
                    log.warning(
                        "text server %s: giving up after %d tries: %s",
                        self.preset.base_url,
                        tries,
                        retry.reason,
                    )
                    if retry.reason.startswith("not reachable"):
                        raise GenerationError(
                            ErrorCode.NOT_AVAILABLE,
                            f"The text server at {self.preset.base_url} is not reachable ({tries} tries); "
                            "an operator checks that it is running.",
                        ) from None
                    raise GenerationError(
                        ErrorCode.NOT_AVAILABLE,
                        f"The text server is busy or failing ({retry.reason}) after {tries} tries; try again in a minute.",
                    ) from None
                wait = retry.wait_s if retry.wait_s is not None else self.preset.retry_backoff_s * 2**retries
                wait = min(MAX_WAIT_S, wait)
                retries += 1
                log.info(
                    "text server %s: %s; retry %d of %d in %.1f s",
                    self.preset.base_url,
                    retry.reason,
                    retries,
                    self.preset.max_retries,
                    wait,
                )
                self._wait(wait, is_cancelled)
                waited += wait

    def generate(self, job: AnyJob, ctx: GenerationContext) -> GenerationOutput:
        """Write the text a text job asks for, in the form it names, streamed from the server."""
        if not isinstance(job, TextJob):
            raise GenerationError(
                ErrorCode.INVALID_INPUT, f"the text backend cannot run a {job.modality} job"
            )
        ctx.check_cancelled()
        import secrets

        seed = job.options.seed if job.options.seed is not None else secrets.randbelow(2**31)
        budget = min(job.options.max_new_tokens, self.preset.max_new_tokens)
        try:
            written = write(
                job,
                ctx,
                self,
                budget=budget,
                attempts=self.preset.attempts,
                time_budget_s=self.time_budget_s,
                few_shot=self.preset.few_shot,
                seed=seed,
                max_tokens=self.preset.max_new_tokens,
            )
        except JobCancelled:
            log.info("text job %s cancelled", job.id)
            raise JobCancelled(job.id) from None
        return text_output(job, written, model=self.model_label, preset=self.name, seed=seed, server=True)
