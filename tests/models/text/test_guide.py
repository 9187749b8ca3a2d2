"""The form guide on text: what it lets come next, and where it says the form is done."""

from __future__ import annotations

from models.text.forms import recognise
from models.text.guide import FormGuide


def guide(kind: str, prompt: str) -> FormGuide:
    return FormGuide(recognise(kind, prompt))


def test_a_haiku_can_not_end_early_breaks_long_lines_and_is_done_after_three() -> None:
    haiku = guide("poem", "a haiku about rain")
    start = haiku.next("")
    assert not start.allow_end and not start.allow_newline  # no blank first line
    assert not haiku.next("Rain").allow_newline  # shorter than a line may be
    assert haiku.next("Rain on the old roof").allow_newline
    assert haiku.next("Rain on the old tin roof of the").newline_push > 0
    assert haiku.next("Rain on the old tin roof of the shed by the sea").force == "\n"
    assert not haiku.next("Rain on the roof\n").allow_newline  # no blank lines inside
    assert not haiku.next("Rain on the roof\nthe night is long\nkettle").done
    assert haiku.next("Rain on the roof\nthe night is long\nkettle hums back\n").done
    assert haiku.done("Here is a haiku:\nRain on the roof\nthe night is long\nkettle hums back\n")


def test_a_song_has_its_labels_written_for_it() -> None:
    song = guide("lyrics", "a verse and a chorus about summer")
    assert song.next("").force == "[Verse]\n"
    verse = "[Verse]\nsun on the water\nwe ran to the pier\nthe boats were asleep\nthe gulls were near\n"
    assert song.next(verse).force == "\n[Chorus]\n"
    assert not song.next("[Verse]\nsun on the").allow_brackets
    chorus = "\n[Chorus]\nsummer stay here\ndon't go away\nstay by the sea\nuntil the last day\n"
    assert song.next(verse + chorus).done and song.done(verse + chorus)


def test_items_get_their_numbers_and_end_at_the_last() -> None:
    ideas = guide("prompt_ideas", "three prompts for a neon city")
    assert ideas.next("").force == "1."
    assert not ideas.next("1. Neon").allow_newline
    assert ideas.next("1. Neon rain on a wet street, photo, night\n").force == "2."
    assert not ideas.next("1. Neon rain on a street at night\n2. A tram in pink light at dusk").allow_digits
    done = (
        "1. Neon rain on a wet street\n2. A tram in pink light at dusk\n3. Rooftop garden in blue glow now\n"
    )
    assert ideas.next(done).done and ideas.done(done)


def test_sentences_can_not_end_early() -> None:
    story = guide("story", "a story in two sentences about a key")
    assert not story.next("The key was lost.").allow_end
    assert story.next("The key was lost. Mina found it.").done


def test_stanzas_are_separated_by_one_blank_line() -> None:
    poem = guide("poem", "two stanzas about the sea")
    stanza = "the sea is wide and grey\nthe boats go out today\nthe gulls cry on the wind\nthe tide comes rolling in\n"
    assert poem.next(stanza).force == "\n"
    assert not poem.next(stanza + "\n").allow_newline


def test_a_chinese_answer_opens_on_its_subject() -> None:
    assert guide("poem", "一首关于秋天月亮的俳句").next("").force == "秋天月亮"
    assert guide("prompt_ideas", "三个关于未来城市的提示词").next("").force == "1. 未来城市"
    assert guide("poem", "a haiku about rain").next("").force is None
    assert guide("free", "关于雨的诗").next("").force == "雨"


def test_free_form_is_never_done_by_the_guide() -> None:
    free = guide("free", "what colour should I paint my bedroom?")
    assert free.next("Blue.").allow_end and not free.done("Blue.\n\nOr green.\n")
