"""Per-kind prompts and output cleaning."""

from __future__ import annotations

import pytest

from models.text.prompts import SYSTEM_PROMPTS, build_messages, clean_output, plain_prompt, trim_unfinished
from wire.contract import TEXT_KINDS


@pytest.mark.parametrize("kind", TEXT_KINDS)
def test_each_kind_has_its_own_system_prompt_and_carries_the_request(kind: str) -> None:
    messages = build_messages(kind, "  a lighthouse in a storm ")
    assert [message["role"] for message in messages] == ["system", "user"]
    assert messages[0]["content"] == SYSTEM_PROMPTS[kind]
    assert "a lighthouse in a storm" in messages[1]["content"].splitlines()[0]
    assert len(set(SYSTEM_PROMPTS.values())) == len(TEXT_KINDS)


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError):
        build_messages("sonnet-ish", "x")


def test_plain_prompt_ends_where_the_assistant_answers() -> None:
    text = plain_prompt(build_messages("free", "hello"))
    assert text.startswith("System: ") and "User: hello" in text and text.endswith("Assistant:")


def test_clean_output_drops_role_line_and_echoed_request_but_keeps_the_poem() -> None:
    raw = "assistant:\nWrite a poem about: autumn rain\n\nAutumn rain\non a tin roof  \n"
    assert clean_output(raw, ["Write a poem about: autumn rain"]) == "Autumn rain\non a tin roof"


def test_clean_output_leaves_text_that_only_mentions_the_request() -> None:
    text = "The sea is wide.\nThe sea is deep."
    assert clean_output(f"  {text}\r\n", ["the sea"]) == text


def test_trim_unfinished_drops_a_cut_off_line_or_sentence() -> None:
    assert (
        trim_unfinished("Leaves fall slowly,\nrain taps the roof,\nand the night")
        == "Leaves fall slowly,\nrain taps the roof,"
    )
    assert (
        trim_unfinished("The keeper lit the lamp. A ship came near. Then the")
        == "The keeper lit the lamp. A ship came near."
    )
    assert trim_unfinished("A short start. Then a much longer sentence that never ends and goes on") == (
        "A short start. Then a much longer sentence that never ends and goes on"
    )
    assert trim_unfinished("Finished sentence.") == "Finished sentence."
