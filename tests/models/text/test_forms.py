"""Reading the form and language a request names, in English and Chinese (pure Python)."""

from __future__ import annotations

import pytest

from models.text.forms import Part, language_of, recognise


@pytest.mark.parametrize(
    ("kind", "prompt", "described", "subject"),
    [
        ("poem", "a haiku about rain on a tin roof", "haiku (3 lines)", "rain on a tin roof"),
        (
            "poem",
            "Write me a limerick about a cat who plays the piano",
            "limerick (5 lines)",
            "a cat who plays the piano",
        ),
        ("poem", "a sonnet on the sea", "sonnet (14 lines)", "the sea"),
        ("poem", "four lines about autumn", "4 lines (4 lines)", "autumn"),
        ("poem", "a 6-line poem about trains", "6 lines (6 lines)", "trains"),
        ("poem", "a poem in three stanzas about the moon", "stanzas (12 lines, 3 stanzas)", "the moon"),
        ("lyrics", "a chorus about leaving home", "[Chorus]", "leaving home"),
        (
            "lyrics",
            "a song with two verses and a chorus about summer",
            "[Verse 1] [Chorus] [Verse 2]",
            "summer",
        ),
        ("prompt_ideas", "give me four image prompts of a cozy cabin", "list of 4", "a cozy cabin"),
        ("challenge_theme", "three challenge themes about the ocean", "list of 3", "the ocean"),
        ("story", "a story in three sentences about a lost key", "3 sentences", "a lost key"),
        ("story", "a one-sentence story about a ghost", "1 sentence", "a ghost"),
        ("poem", "一首关于秋天月亮的俳句", "haiku (3 lines)", "秋天月亮"),
        ("poem", "写一首关于大海的四行诗", "4 lines (4 lines)", "大海"),
        ("poem", "写一首七言绝句，关于春天", "jueju (4 lines)", "春天"),
        ("poem", "写一首关于爱情的十四行诗", "sonnet (14 lines)", "爱情"),
        ("lyrics", "写一段关于离家的副歌", "[副歌]", "离家"),
        ("lyrics", "两段主歌和一段副歌，关于夏天", "[主歌一] [副歌] [主歌二]", "夏天"),
        ("prompt_ideas", "给我五个关于龙的绘画点子", "list of 5", "龙"),
        ("story", "用三句话讲一个关于猫的故事", "3 sentences", "猫"),
    ],
)
def test_a_named_form_is_recognised_with_its_subject(
    kind: str, prompt: str, described: str, subject: str
) -> None:
    request = recognise(kind, prompt)
    assert request.form.named
    assert request.form.describe() == described
    assert request.subject == subject
    assert request.language == ("zh" if any("\u4e00" <= char <= "\u9fff" for char in prompt) else "en")


def test_a_kind_implies_a_form_when_the_request_names_none() -> None:
    lyrics = recognise("lyrics", "summer nights")
    assert not lyrics.form.named and [part.label for part in lyrics.form.parts] == [
        "Verse 1",
        "Chorus",
        "Verse 2",
    ]
    ideas = recognise("prompt_ideas", "a castle in the clouds")
    assert not ideas.form.named and ideas.form.items == 5
    assert recognise("lyrics", "关于城市灯光的歌").form.parts[1] == Part("副歌", 4)
    assert recognise("poem", "a poem about a red bicycle").form.free
    assert recognise("free", "what colour should I paint my bedroom?").form.free


def test_a_haiku_wants_short_lines_and_a_sonnet_longer_ones() -> None:
    haiku, sonnet = recognise("poem", "haiku: frost").form, recognise("poem", "a sonnet on frost").form
    assert haiku.exact_lines and haiku.line_len[1] < sonnet.line_len[1]


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Rain on the tin roof", "en"),
        ("秋天的月亮", "zh"),
        ("写一首关于 Python 的诗", "zh"),
        ("a haiku about 月亮 and the sea", "en"),
        ("[Verse 1]\n夜班火车带我回家\n[Chorus]\n轻轻摇我", "zh"),
        ("1234 !!", "en"),
    ],
)
def test_language_follows_the_script_that_carries_the_text(text: str, language: str) -> None:
    assert language_of(text) == language
