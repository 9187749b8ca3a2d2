"""Tidying what a model wrote into the form asked for, and checking it."""

from __future__ import annotations

from models.text.checks import distinct_2, parse_label, tidy
from models.text.forms import recognise


def test_a_haiku_loses_its_preface_and_title_and_ends_at_its_third_line() -> None:
    request = recognise("poem", "a haiku about rain on a tin roof")
    raw = (
        'Here is a haiku about rain on a tin roof:\n\n**"Tin Roof"**\n'
        "Rain on the tin roof\ndrumming soft through the long night\nthe kettle hums back\n\n"
        "This haiku captures the sound of rain."
    )
    check = tidy(raw, request)
    assert check.text == "Rain on the tin roof\ndrumming soft through the long night\nthe kettle hums back"
    assert check.form_kept is True and check.language_kept and check.ok


def test_twelve_long_lines_are_not_a_haiku() -> None:
    """The issue's example: the first three lines of a long rambling poem are not a haiku."""
    request = recognise("poem", "a haiku about rain on a tin roof")
    line = "In twilight's hallow city I weave a cloud upon a canvas of the darkest grey threads"
    check = tidy("\n".join([line] * 12), request)
    assert check.form_kept is False and any("too long" in problem for problem in check.problems)


def test_a_haiku_of_two_lines_misses_its_form() -> None:
    check = tidy("Rain on the roof\nthe night is long", recognise("poem", "a haiku about rain"))
    assert check.form_kept is False and check.problems == ["2 lines, not 3"]


def test_labels_are_found_in_any_style_and_written_as_brackets() -> None:
    request = recognise("lyrics", "a song with two verses and a chorus about summer")
    raw = (
        "Verse 1:\nSun on the water\nwe ran to the pier\n\n**Chorus**\nSummer, stay\ndon't go away\n\n"
        "(Verse 2)\nNights grow longer\nthe wind is near\n\n[Chorus]\nSummer, stay\n"
    )
    check = tidy(raw, request)
    assert check.form_kept is True
    assert check.text.split("\n\n")[0] == "[Verse 1]\nSun on the water\nwe ran to the pier"
    assert [line for line in check.text.splitlines() if line.startswith("[")] == [
        "[Verse 1]",
        "[Chorus]",
        "[Verse 2]",
    ]
    assert parse_label("【副歌】") == "副歌" and parse_label("(softly)") is None


def test_a_missing_part_is_reported() -> None:
    check = tidy("[Verse 1]\nsun\nsea\n", recognise("lyrics", "a verse and a chorus about summer"))
    assert check.form_kept is False and "no [Chorus] part" in check.problems


def test_items_are_renumbered_and_cut_at_the_number_asked() -> None:
    request = recognise("prompt_ideas", "three prompts for a neon city at night")
    raw = "Sure! Here are some prompts:\n- Neon rain on a street, photo\n- A tram in pink light\n- Rooftop garden, blue glow\n- A fourth"
    check = tidy(raw, request)
    assert check.text.splitlines() == [
        "1. Neon rain on a street, photo",
        "2. A tram in pink light",
        "3. Rooftop garden, blue glow",
    ]
    assert check.form_kept is True
    assert tidy("1. One idea only here", request).form_kept is False


def test_sentences_are_counted_in_both_languages() -> None:
    english = recognise("story", "a story in two sentences about a key")
    check = tidy("The key was lost. Mina found it in the snow. Then spring came.", english)
    assert check.form_kept is True and check.text == "The key was lost. Mina found it in the snow."
    chinese = recognise("story", "用两句话讲一个关于猫的故事")
    assert tidy("猫在窗边睡觉。它梦见了大海。", chinese).form_kept is True
    assert tidy("猫在窗边睡觉", chinese).form_kept is False


def test_a_chinese_request_answered_in_english_keeps_its_form_but_not_its_language() -> None:
    request = recognise("poem", "写一首关于大海的四行诗")
    check = tidy("The sea is wide\nthe sea is blue\nthe waves come in\nthe gulls fly through", request)
    assert check.language_kept is False and not check.ok


def test_distinct_2_falls_with_repetition() -> None:
    assert (
        distinct_2("the sea the sea the sea the sea")
        < 0.5
        < distinct_2("the sea is wide and the night is long")
    )
    assert distinct_2("爱情爱情爱情爱情") < 0.5
