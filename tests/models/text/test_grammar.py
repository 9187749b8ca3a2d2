"""A form as a GBNF grammar (`models.text.grammar`): llama.cpp's own parser reads every grammar the
eval set's requests give, and the real SmolLM2-135M GGUF sampling within one writes text that
`models.text.checks` finds in form, in the request's language."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bench.llama_server import available, gguf_path
from models.text.checks import tidy
from models.text.forms import recognise
from models.text.grammar import form_grammar
from models.text.guide import FormGuide
from models.text.prompts import form_messages

REQUESTS = Path(__file__).parents[2] / "data" / "text" / "requests.jsonl"

if not available():  # `make setup` installs llama-cpp-python (the llama-server extra)
    if os.environ.get("CI"):
        raise RuntimeError("llama-cpp-python is not installed: make setup installs it")
    pytest.skip("llama-cpp-python is not installed (make setup)", allow_module_level=True)

import llama_cpp  # noqa: E402


def grammar_for(kind: str, prompt: str) -> str | None:
    return form_grammar(FormGuide(recognise(kind, prompt)))


def test_free_form_has_no_grammar() -> None:
    assert grammar_for("free", "tell me about lighthouses") is None


def test_a_haiku_is_three_lines_and_a_song_writes_its_labels() -> None:
    haiku = grammar_for("poem", "a haiku about rain on a tin roof")
    assert haiku is not None and haiku.startswith('root ::= (line ("\\n" line){2,2})\n')
    song = grammar_for("lyrics", "a song about crossing the desert by train")
    assert song is not None
    assert '"[Verse 1]\\n"' in song and '"[Chorus]\\n"' in song and '"[Verse 2]\\n"' in song
    listed = grammar_for("prompt_ideas", "a whale in a city")
    assert listed is not None and all(f'"{n}. "' in listed for n in range(1, 6))


def test_llama_cpp_parses_the_grammar_of_every_eval_request() -> None:
    requests = [json.loads(line) for line in REQUESTS.read_text(encoding="utf-8").splitlines() if line]
    parsed = 0
    for request in requests:
        grammar = grammar_for(request["kind"], request["prompt"])
        if grammar is None:
            continue
        llama_cpp.LlamaGrammar.from_string(grammar, verbose=False)  # raises on a bad grammar
        parsed += 1
    assert parsed >= 150


@pytest.fixture(scope="module")
def smollm2() -> llama_cpp.Llama:
    return llama_cpp.Llama(str(gguf_path()), n_ctx=2048, n_threads=2, verbose=False, seed=1)


@pytest.mark.parametrize(
    ("kind", "prompt"),
    [
        ("poem", "a haiku about rain on a tin roof"),
        ("poem", "a limerick about a chef who hates onions"),
        ("lyrics", "a song about crossing the desert by train"),
        ("prompt_ideas", "a whale in a city"),
        ("story", "a story in 4 sentences about a baker's son"),
        ("poem", "写一首关于春天的绝句"),
        ("lyrics", "写一首关于小镇火车的歌，要有主歌和副歌"),
    ],
)
def test_smollm2_sampling_within_the_grammar_keeps_the_form(
    smollm2: llama_cpp.Llama, kind: str, prompt: str
) -> None:
    request = recognise(kind, prompt)
    grammar = form_grammar(FormGuide(request))
    assert grammar is not None
    answer = smollm2.create_chat_completion(
        form_messages(request),  # type: ignore[arg-type]
        grammar=llama_cpp.LlamaGrammar.from_string(grammar, verbose=False),
        max_tokens=400,
        temperature=0.7,
        top_p=0.9,
        seed=3,
        repeat_penalty=1.1,
    )
    text = answer["choices"][0]["message"]["content"]  # type: ignore[index]
    checked = tidy(str(text), request)
    assert checked.form_kept, (request.form.describe(), checked.problems, text)
    assert checked.language_kept, text
