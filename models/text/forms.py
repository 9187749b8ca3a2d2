"""Recognising the form a request names (a haiku, a limerick, four lines, a chorus, a list of five…),
in English and Chinese, and the language it is written in.

The job contract carries only a kind and a prompt, so the form is read from the prompt; a kind may
imply one (lyrics: verse, chorus, verse; prompt ideas and challenge themes: a numbered list of five),
which counts as *implied* rather than *named*. Pure Python: the bot may show it, the eval reports on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

Language = Literal["en", "zh"]

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
_LABEL_LINE = re.compile(r"^\s*[\[【(（].{1,20}?[\]】)）]\s*$", re.MULTILINE)


def language_of(text: str, default: Language = "en") -> Language:
    """Chinese ("zh") when Han characters carry the text (one counts as about three Latin letters),
    else English ("en").

    Part labels such as "[Chorus]" are left out, so a Chinese lyric with English labels stays Chinese.
    """
    body = _LABEL_LINE.sub("", text)
    han = len(_HAN.findall(body))
    latin = len(_LATIN.findall(body))
    if han == 0 and latin == 0:
        return default
    return "zh" if han * 3 >= latin else "en"


def han_count(text: str) -> int:
    return len(_HAN.findall(text))


@dataclass(frozen=True)
class Part:
    """A run of lines, with its label ("Chorus", "副歌") or none (a haiku's one stanza)."""

    label: str | None
    lines: int


@dataclass(frozen=True)
class Form:
    """What shape the text should have. Exactly one of `parts`, `items` and `sentences` is set, or
    none (free form).

    `exact_lines`: each part must have exactly its number of lines (a haiku, "four lines"); otherwise a
    part's count is a target and 2 to 2×target lines pass (a chorus the member did not size).
    `line_len`: the (shortest, longest) line the decoder aims for, in words (English) or Han
    characters (Chinese).
    """

    name: str = "free"
    named: bool = False
    parts: tuple[Part, ...] = ()
    exact_lines: bool = True
    items: int | None = None
    sentences: int | None = None
    line_len: tuple[int, int] = (3, 12)

    @property
    def free(self) -> bool:
        return not self.parts and self.items is None and self.sentences is None

    @property
    def total_lines(self) -> int:
        return sum(part.lines for part in self.parts)

    @property
    def labelled(self) -> bool:
        return any(part.label for part in self.parts)

    def describe(self) -> str:
        """A short label for reports: "haiku (3 lines)", "list of 5", "[Verse 1] [Chorus] [Verse 2]"."""
        if self.items is not None:
            return f"list of {self.items}"
        if self.sentences is not None:
            return f"{self.sentences} sentence{'s' if self.sentences != 1 else ''}"
        if self.labelled:
            return " ".join(f"[{part.label}]" for part in self.parts)
        if self.parts:
            stanzas = f", {len(self.parts)} stanzas" if len(self.parts) > 1 else ""
            return f"{self.name} ({self.total_lines} lines{stanzas})"
        return "free"


@dataclass(frozen=True)
class Request:
    """A member's text request, read: kind, the prompt as written, its language, the form it names
    (or the kind implies) and its subject (the prompt less the form words)."""

    kind: str
    prompt: str
    language: Language
    form: Form
    subject: str = field(default="")


# ---- numbers ------------------------------------------------------------------------------------

_EN_NUMBERS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "single": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fourteen": 14,
    "sixteen": 16,
    "twenty": 20,
}
_EN_NUM = (
    r"(\d{1,2}|one|single|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fourteen|sixteen|twenty)"
)
_ZH_DIGITS = {
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_ZH_NUM = r"(\d{1,2}|[一二两三四五六七八九十]{1,3})"


def _en_number(word: str) -> int:
    return int(word) if word.isdigit() else _EN_NUMBERS[word.lower()]


def _zh_number(text: str) -> int:
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, units = text.partition("十")
        return (_ZH_DIGITS.get(tens, 1) if tens else 1) * 10 + (_ZH_DIGITS.get(units, 0) if units else 0)
    return _ZH_DIGITS[text]


def _clamp(count: int, low: int = 1, high: int = 20) -> int:
    return max(low, min(high, count))


# ---- English ------------------------------------------------------------------------------------

# name, lines, (shortest, longest line in words)
_EN_POEMS: list[tuple[str, str, int, tuple[int, int]]] = [
    (r"\bhaikus?\b", "haiku", 3, (2, 7)),
    (r"\blimericks?\b", "limerick", 5, (4, 11)),
    (r"\bsonnets?\b", "sonnet", 14, (5, 12)),
    (r"\btankas?\b", "tanka", 5, (2, 8)),
    (r"\bcinquains?\b", "cinquain", 5, (1, 8)),
    (r"\bquatrains?\b", "quatrain", 4, (4, 11)),
    (r"\b(?:tercet|triplet)s?\b", "tercet", 3, (4, 11)),
    (r"\bcouplets?\b", "couplet", 2, (4, 11)),
]
_EN_LINES = re.compile(
    rf"\b(?:in\s+)?{_EN_NUM}[-\s](?:short\s+|rhyming\s+)?lines?\b|\bone[-\s]liner\b", re.IGNORECASE
)
_EN_STANZAS = re.compile(rf"\b{_EN_NUM}\s+(?:short\s+)?(?:stanzas|verses)\b", re.IGNORECASE)
_EN_VERSES = re.compile(rf"\b(?:{_EN_NUM}|a)\s+verses?\b", re.IGNORECASE)
_EN_CHORUS = re.compile(r"\b(?:chorus|refrain|hook)\b", re.IGNORECASE)
_EN_BRIDGE = re.compile(r"\bbridge\b", re.IGNORECASE)
_EN_ITEMS = re.compile(
    rf"\b(?:(?:a\s+)?list\s+of\s+{_EN_NUM}|top\s+{_EN_NUM}|{_EN_NUM}\s+(?:[a-z]+\s+){{0,2}}?(?:(?:short|quick|more|new|different|"
    r"fresh|fun|simple|creative|possible|distinct|catchy)\s+)?(?:ideas|prompts|themes|titles|names|things|ways|tips|"
    r"suggestions|options|reasons|questions|challenges|concepts|places|images|scenes|characters|subjects|"
    r"words|facts|steps|items|lines\s+of\s+dialogue))\b",
    re.IGNORECASE,
)
_EN_SENTENCES = re.compile(
    rf"\b(?:in\s+)?(?:{_EN_NUM}|a)[-\s]sentences?\b|\bin\s+{_EN_NUM}\s+sentences?\b", re.IGNORECASE
)

# ---- Chinese ------------------------------------------------------------------------------------

_ZH_POEMS: list[tuple[str, str, int, tuple[int, int]]] = [
    (r"十四行诗", "sonnet", 14, (6, 16)),
    (r"俳句", "haiku", 3, (3, 10)),
    (r"五言绝句", "jueju", 4, (5, 5)),
    (r"七言绝句", "jueju", 4, (7, 7)),
    (r"绝句", "jueju", 4, (5, 7)),
    (r"五言律诗", "lushi", 8, (5, 5)),
    (r"七言律诗", "lushi", 8, (7, 7)),
    (r"律诗", "lushi", 8, (5, 7)),
    (r"对联|春联", "couplet", 2, (5, 11)),
    (r"打油诗", "doggerel", 4, (5, 9)),
]
_ZH_LINES = re.compile(rf"{_ZH_NUM}\s*(?:行|句)(?!话)")
_ZH_STANZAS = re.compile(rf"{_ZH_NUM}\s*(?:节|段)(?!主歌)")
_ZH_VERSES = re.compile(rf"{_ZH_NUM}\s*段主歌")
_ZH_CHORUS = re.compile(r"副歌|合唱")
_ZH_VERSE = re.compile(r"主歌")
_ZH_BRIDGE = re.compile(r"桥段")
_ZH_ITEMS = re.compile(
    rf"{_ZH_NUM}\s*(?:个|条|种|项|则|句)\s*(?:[\u4e00-\u9fff]{{0,12}}?)(?:点子|想法|主意|提示词|提示|主题|标题|名字|建议|创意|方法|挑战|画面|场景|题目)"
    rf"|列出\s*{_ZH_NUM}"
)
_ZH_SENTENCES = re.compile(rf"{_ZH_NUM}\s*句话")

_ZH_ORDINALS = "一二三四五六七八九十"


def _verse_label(language: Language, index: int, count: int) -> str:
    if language == "zh":
        return "主歌" if count == 1 else f"主歌{_ZH_ORDINALS[index]}"
    return "Verse" if count == 1 else f"Verse {index + 1}"


def _song(language: Language, verses: int, chorus: bool, bridge: bool, lines: int = 4) -> tuple[Part, ...]:
    """Verse 1, Chorus, Verse 2, … (the chorus once, after the first verse), then the bridge."""
    chorus_label = "副歌" if language == "zh" else "Chorus"
    parts: list[Part] = []
    for index in range(verses):
        parts.append(Part(_verse_label(language, index, verses), lines))
        if index == 0 and chorus:
            parts.append(Part(chorus_label, lines))
    if not verses and chorus:
        parts.append(Part(chorus_label, lines))
    if bridge:
        parts.append(Part("桥段" if language == "zh" else "Bridge", 2))
    return tuple(parts)


def _line_form(name: str, lines: int, line_len: tuple[int, int], stanzas: int = 1) -> Form:
    per = max(1, lines // stanzas) if stanzas > 1 else lines
    parts = tuple(Part(None, per) for _ in range(stanzas)) if stanzas > 1 else (Part(None, lines),)
    return Form(name=name, named=True, parts=parts, exact_lines=True, line_len=line_len)


def _recognise_en(kind: str, prompt: str) -> tuple[Form | None, list[tuple[int, int]]]:
    spans: list[tuple[int, int]] = []
    for pattern, name, lines, line_len in _EN_POEMS:
        match = re.search(pattern, prompt, re.IGNORECASE)
        if match:
            spans.append(match.span())
            return _line_form(name, lines, line_len), spans
    if match := _EN_ITEMS.search(prompt):
        spans.append(match.span())
        number = next(group for group in match.groups() if group)
        return Form(name="list", named=True, items=_clamp(_en_number(number), 2, 12), line_len=(6, 30)), spans
    chorus = _EN_CHORUS.search(prompt)
    verses = _EN_VERSES.search(prompt)
    if chorus or (verses and kind == "lyrics"):
        spans.extend(m.span() for m in (chorus, verses) if m)
        count = _en_number(verses.group(1)) if verses and verses.group(1) else (1 if verses else 0)
        parts = _song("en", _clamp(count, 0, 4), bool(chorus), bool(_EN_BRIDGE.search(prompt)))
        lines_match = _EN_LINES.search(prompt)
        if lines_match and lines_match.group(1):
            spans.append(lines_match.span())
            per = _clamp(_en_number(lines_match.group(1)), 2, 8)
            parts = tuple(Part(part.label, per) for part in parts)
            return Form(name="song", named=True, parts=parts, exact_lines=True, line_len=(3, 10)), spans
        return Form(name="song", named=True, parts=parts, exact_lines=False, line_len=(3, 10)), spans
    if match := _EN_STANZAS.search(prompt):
        spans.append(match.span())
        stanzas = _clamp(_en_number(match.group(1)), 1, 6)
        lines_match = _EN_LINES.search(prompt)
        per = _clamp(_en_number(lines_match.group(1)), 2, 8) if lines_match and lines_match.group(1) else 4
        return _line_form("stanzas", per * stanzas, (3, 11), stanzas), spans
    if match := _EN_LINES.search(prompt):
        spans.append(match.span())
        lines = 1 if not match.group(1) else _clamp(_en_number(match.group(1)), 1, 20)
        return _line_form(f"{lines} lines", lines, (3, 12)), spans
    if match := _EN_SENTENCES.search(prompt):
        spans.append(match.span())
        number = next((group for group in match.groups() if group), "one")
        return Form(name="sentences", named=True, sentences=_clamp(_en_number(number), 1, 10)), spans
    return None, spans


def _recognise_zh(kind: str, prompt: str) -> tuple[Form | None, list[tuple[int, int]]]:
    spans: list[tuple[int, int]] = []
    for pattern, name, lines, line_len in _ZH_POEMS:
        match = re.search(pattern, prompt)
        if match:
            spans.append(match.span())
            return _line_form(name, lines, line_len), spans
    if match := _ZH_ITEMS.search(prompt):
        spans.append(match.span())
        number = next(group for group in match.groups() if group)
        return Form(name="list", named=True, items=_clamp(_zh_number(number), 2, 12), line_len=(6, 24)), spans
    chorus = _ZH_CHORUS.search(prompt)
    verses = _ZH_VERSES.search(prompt)
    if chorus or verses:
        spans.extend(m.span() for m in (chorus, verses) if m)
        counted = _ZH_VERSES.search(prompt) and re.search(rf"{_ZH_NUM}\s*段主歌", prompt)
        count = _zh_number(counted.group(1)) if counted else (1 if verses else 0)
        parts = _song("zh", _clamp(count, 0, 4), bool(chorus), bool(_ZH_BRIDGE.search(prompt)))
        lines_match = _ZH_LINES.search(prompt)
        if lines_match:
            spans.append(lines_match.span())
            per = _clamp(_zh_number(lines_match.group(1)), 2, 8)
            parts = tuple(Part(part.label, per) for part in parts)
            return Form(name="song", named=True, parts=parts, exact_lines=True, line_len=(4, 12)), spans
        return Form(name="song", named=True, parts=parts, exact_lines=False, line_len=(4, 12)), spans
    if match := _ZH_STANZAS.search(prompt):
        spans.append(match.span())
        stanzas = _clamp(_zh_number(match.group(1)), 1, 6)
        lines_match = _ZH_LINES.search(prompt)
        per = _clamp(_zh_number(lines_match.group(1)), 2, 8) if lines_match else 4
        return _line_form("stanzas", per * stanzas, (4, 14), stanzas), spans
    if match := _ZH_SENTENCES.search(prompt):
        spans.append(match.span())
        return Form(name="sentences", named=True, sentences=_clamp(_zh_number(match.group(1)), 1, 10)), spans
    if match := _ZH_LINES.search(prompt):
        spans.append(match.span())
        lines = _clamp(_zh_number(match.group(1)), 1, 20)
        return _line_form(f"{lines} lines", lines, (4, 14)), spans
    return None, spans


def implied_form(kind: str, language: Language) -> Form:
    """The form a kind asks for when the request names none."""
    if kind == "lyrics":
        return Form(name="song", parts=_song(language, 2, True, False), exact_lines=False, line_len=(3, 10))
    if kind in {"prompt_ideas", "challenge_theme"}:
        return Form(name="list", items=5, line_len=(6, 24) if language == "zh" else (6, 30))
    return Form()


_EN_FILLER = re.compile(
    r"^\s*(?:please\s+)?(?:write|compose|make|create|give|generate|draft|suggest|list|come\s+up\s+with)?\s*(?:me|us)?\s*"
    r"(?:a|an|one|some|the)?\s*(?:short|little|brief|tiny|new|simple|funny|sad|rhyming)?\s*"
    r"(?:poem|song|story|lyrics|piece)?\s*(?:with|in|of|as)?\s*$",
    re.IGNORECASE,
)


_ZH_KEYWORDS = r"(?:诗歌|诗句|画面提示|提示词|建议|方法|诗|歌词|副歌|主歌|歌曲|歌|故事|小说|俳句|绝句|律诗|点子|想法|主意|提示词|主题|标题|创意|挑战|画面)"


def _zh_strip_tail(text: str) -> str:
    """The subject less its kind word: "秋天月亮的俳句" → "秋天月亮"; "龙的绘画点子" → "龙"."""
    stripped = re.sub(rf"的[^的]*{_ZH_KEYWORDS}$", "", text)
    if stripped == text:
        stripped = re.sub(rf"{_ZH_KEYWORDS}$", "", text)
    return stripped or text


def _subject(prompt: str, spans: list[tuple[int, int]], language: Language) -> str:
    """What the request is about: the words after "about" / "关于", else the prompt less the words
    that named the form and less 'write me a … on' framing."""
    if language == "zh":
        about = re.search(r"(?:关于|有关|以)(.+?)(?:为题|为主题)?(?:$|[，,。.！!？?])", prompt)
        text = about.group(1) if about else prompt
        if not about:
            for start, end in sorted(spans, reverse=True):
                text = text[:start] + text[end:]
            text = re.sub(
                r"^(?:请|帮我|给我|用)?(?:写|作|创作|列出|想|给出|讲)?(?:一首|一篇|一段|一个|一些|个|条|首|种)?",
                "",
                text,
            )
        text = _zh_strip_tail(text.strip(" ，,。、：:"))
        text = text.strip(" ，,。、的：:")
    else:
        about = re.search(r"\b(?:about|on the theme of|on the subject of)\s+(.+)$", prompt, re.IGNORECASE)
        if about:
            text = about.group(1)
        else:
            text = prompt
            for start, end in sorted(spans, reverse=True):
                text = text[:start] + " " + text[end:]
            match = re.search(r"\b(?:on|of|for|featuring|describing)\b\s+", text, re.IGNORECASE)
            if match and _EN_FILLER.match(text[: match.start()]):
                text = text[match.end() :]
        text = re.sub(r"\s+", " ", text).strip(" ,.:;-")
    cleaned = text.strip()
    return cleaned if len(cleaned) >= (1 if language == "zh" else 2) else prompt.strip()


def recognise(kind: str, prompt: str) -> Request:
    """Read the request: its language, the form it names (or its kind implies) and its subject."""
    prompt = prompt.strip()
    language = language_of(prompt)
    form, spans = _recognise_zh(kind, prompt) if language == "zh" else _recognise_en(kind, prompt)
    if form is None:
        form = implied_form(kind, language)
    return Request(kind, prompt, language, form, _subject(prompt, spans, language))
