"""The inference-server text backend against real HTTP servers on loopback (`scripted_server`): the
stream feeds progress, cancel closes it, 429 and 5xx are retried and end in a clear error, a server
that is down or silent is a clear result, never a hang, and the key is sent but never logged."""

from __future__ import annotations

import itertools
import logging
import socket
from typing import Any

import pytest

from config.settings import Settings, TextPreset
from models.base import GenerationError, JobCancelled
from models.text.server import OpenAITextBackend, sse_data
from tests.helpers.context import RecordingContext, streamed
from tests.models.text.scripted_server import Answer, ScriptedServer
from wire.contract import ErrorCode, TextJob, TextOptions

KEY_ENV = "ATELIER_TEST_TEXT_SERVER_KEY"
SECRET = "sk-test-never-in-a-log-0123456789"
WORDS = ["The ", "keeper ", "climbed ", "the ", "stair ", "and ", "lit ", "the ", "lamp."]


def preset(base_url: str, **overrides: Any) -> TextPreset:
    fields: dict[str, Any] = {
        "backend": "openai",
        "base_url": base_url,
        "model": "scripted",
        "max_retries": 2,
        "retry_backoff_s": 0.05,
        "connect_timeout_s": 1.0,
        "read_timeout_s": 1.0,
        "attempts": 1,
        "extra_body": {"repeat_penalty": 1.1},
    }
    fields.update(overrides)
    return TextPreset.model_validate(fields)


def backend_for(base_url: str, settings: Settings, **overrides: Any) -> OpenAITextBackend:
    return OpenAITextBackend.from_preset("scripted", preset(base_url, **overrides), settings)


def story(**options: Any) -> TextJob:
    fields: dict[str, Any] = {"kind": "story", "prompt": "a lighthouse keeper's long night", "seed": 5}
    fields.update(options)
    return TextJob(options=TextOptions.model_validate(fields))


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_sse_data_joins_multiline_events_skips_comments_and_stops_at_done() -> None:
    lines = [": ping", 'data: {"a":', "data: 1}", "", "", "data: two", "", "data: [DONE]", "", "data: late"]
    assert list(sse_data(iter(lines))) == ['{"a":\n1}', "two"]


def test_a_streamed_answer_feeds_progress_and_the_result(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, SECRET)
    with ScriptedServer([Answer(chunks=WORDS)]) as server:
        backend = backend_for(server.base_url, settings, api_key_env=KEY_ENV)
        ctx = RecordingContext()
        output = backend.generate(story(max_new_tokens=64, temperature=0.3, top_p=0.8), ctx)
    [seen] = server.seen
    assert seen.path == "/v1/chat/completions"
    assert seen.headers["authorization"] == f"Bearer {SECRET}"
    body = seen.body
    assert body["model"] == "scripted" and body["stream"] is True and body["seed"] == 5
    assert (body["temperature"], body["top_p"], body["repeat_penalty"]) == (0.3, 0.8, 1.1)
    assert body["messages"][-1]["role"] == "user" and "lighthouse" in body["messages"][-1]["content"]
    previews = [str(report.preview_text) for report in ctx.reports if streamed(report)]
    assert previews == ["".join(WORDS[: n + 1]) for n in range(len(WORDS))]
    assert all(later.startswith(earlier) for earlier, later in itertools.pairwise(previews))
    assert output.text == "".join(WORDS)
    meta = output.metadata
    assert meta["model"] == "scripted" and meta["preset"] == "scripted" and meta["server"] is True
    assert meta["tokens"] == len(WORDS) and meta["finish_reason"] == "eos"
    assert meta["server_retries"] == 0
    assert backend.describe()["api_key"] == "set" and SECRET not in repr(backend.describe())


def test_cancel_closes_the_stream(settings: Settings) -> None:
    with ScriptedServer([Answer(endless=True)]) as server:
        backend = backend_for(server.base_url, settings)
        ctx = RecordingContext(cancel_after=3, counts=streamed)
        with pytest.raises(JobCancelled):
            backend.generate(story(max_new_tokens=512), ctx)
        [seen] = server.seen
        assert seen.done.wait(20), "the server never saw the client hang up"
    assert seen.client_hung_up
    assert sum(1 for report in ctx.reports if streamed(report)) == 3


def test_429_with_retry_after_and_500_are_retried_then_answered(settings: Settings) -> None:
    answers = [
        Answer(status=429, headers={"retry-after": "0.3"}, body={"error": {"message": "slow down"}}),
        Answer(status=500),
        Answer(chunks=WORDS),
    ]
    with ScriptedServer(answers) as server:
        output = backend_for(server.base_url, settings).generate(story(), RecordingContext())
    assert len(server.seen) == 3
    assert output.text == "".join(WORDS)
    # the first wait is the server's Retry-After (0.3 s), the second the backoff (0.05 × 2)
    assert output.metadata["server_retries"] == 2
    assert output.metadata["server_wait_s"] == pytest.approx(0.3 + 0.1)


def test_a_server_that_keeps_failing_ends_in_a_clear_error(settings: Settings) -> None:
    answer = Answer(status=503, body={"error": {"message": "overloaded"}})
    with ScriptedServer([answer]) as server, pytest.raises(GenerationError) as caught:
        backend_for(server.base_url, settings).generate(story(), RecordingContext())
    assert len(server.seen) == 3  # the first try and max_retries = 2
    assert caught.value.code == ErrorCode.NOT_AVAILABLE
    message = caught.value.message
    assert "busy or failing" in message and "503" in message and "3 tries" in message
    assert "Traceback" not in message


def test_a_server_that_is_down_is_a_clear_error_not_a_hang(settings: Settings) -> None:
    base_url = f"http://127.0.0.1:{closed_port()}/v1"
    with pytest.raises(GenerationError) as caught:
        backend_for(base_url, settings, max_retries=1).generate(story(), RecordingContext())
    assert caught.value.code == ErrorCode.NOT_AVAILABLE
    assert "not reachable (2 tries)" in caught.value.message and base_url in caught.value.message


def test_a_silent_server_is_bounded_by_the_read_timeout(settings: Settings) -> None:
    with (
        ScriptedServer([Answer(chunks=WORDS, silent_s=1.5)]) as server,
        pytest.raises(GenerationError) as caught,
    ):
        backend_for(server.base_url, settings, read_timeout_s=0.3, max_retries=1).generate(
            story(), RecordingContext()
        )
    assert len(server.seen) == 2
    assert caught.value.code == ErrorCode.NOT_AVAILABLE
    assert "no answer within 0.3 s" in caught.value.message


def test_a_cancel_during_the_wait_before_a_retry_is_not_held_up(settings: Settings) -> None:
    with ScriptedServer([Answer(status=429, headers={"retry-after": "25"})]) as server:

        class CancelledOnceRefused(RecordingContext):
            """Cancelled as soon as the server has answered the first request (the 429)."""

            def is_cancelled(self) -> bool:
                return bool(server.seen) and server.seen[0].done.is_set()

        with pytest.raises(JobCancelled):
            backend_for(server.base_url, settings).generate(story(), CancelledOnceRefused())
    assert len(server.seen) == 1  # not retried after the cancel, and the 25 s wait was cut short


@pytest.mark.parametrize(
    ("status", "code", "words"),
    [
        (401, ErrorCode.NOT_AVAILABLE, f"credentials (the key in {KEY_ENV}) (401)"),
        (404, ErrorCode.MODEL_MISSING, "no model 'scripted'"),
        (400, ErrorCode.INVALID_INPUT, "refused the request (400): context too long"),
    ],
)
def test_other_4xx_answers_end_at_once_in_a_clear_error(
    status: int,
    code: ErrorCode,
    words: str,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv(KEY_ENV, SECRET)
    caplog.set_level(logging.DEBUG)
    answer = Answer(status=status, body={"error": {"message": "context too long"}})
    with ScriptedServer([answer]) as server, pytest.raises(GenerationError) as caught:
        backend_for(server.base_url, settings, api_key_env=KEY_ENV).generate(story(), RecordingContext())
    assert len(server.seen) == 1  # never retried
    assert caught.value.code == code and words in caught.value.message
    assert SECRET not in caught.value.message and SECRET not in caplog.text


def test_a_gbnf_preset_sends_the_form_as_a_grammar_and_a_plain_one_does_not(settings: Settings) -> None:
    haiku = TextJob(options=TextOptions(kind="poem", prompt="a haiku about rain on a tin roof", seed=2))
    lines = ["Rain taps the tin roof\n", "a slow drum in the dark night\n", "the gutter sings on"]
    with ScriptedServer([Answer(chunks=lines), Answer(chunks=lines), Answer(chunks=lines)]) as server:
        backend_for(server.base_url, settings, form_grammar="gbnf").generate(haiku, RecordingContext())
        backend_for(
            server.base_url,
            settings,
            form_grammar="gbnf",
            grammar_field="structured_outputs.grammar",
            extra_body={"structured_outputs": {"backend": "xgrammar"}},
        ).generate(haiku, RecordingContext())
        backend_for(server.base_url, settings).generate(haiku, RecordingContext())
    llama, nested, plain = (seen.body for seen in server.seen)
    assert llama["grammar"].startswith("root ::= ") and 'line ("\\n" line){2,2}' in llama["grammar"]
    assert nested["structured_outputs"] == {"backend": "xgrammar", "grammar": llama["grammar"]}
    assert "grammar" not in plain and "structured_outputs" not in plain


def test_a_free_form_request_sends_no_grammar(settings: Settings) -> None:
    with ScriptedServer([Answer(chunks=WORDS)]) as server:
        backend_for(server.base_url, settings, form_grammar="gbnf").generate(story(), RecordingContext())
    [seen] = server.seen
    assert "grammar" not in seen.body
