"""Tidying what a model wrote into the form asked for, and checking it: line counts, labelled parts,
numbered items, sentences, the language of the request, and repetition (distinct-2).

`tidy` removes what is not the text (a role line, an echoed request, "Here is a haiku:", markdown
bold, a quoted title) and ends the text where the form ends (a haiku's third line, the fifth item):
the same place where decoding stops. `check` then says whether the form and the language were kept.
Both backends (in-process and inference server) use them, and so does `make eval-text`.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from models.text.forms import Form, Language, Request, han_count, language_of

_ROLE_PREFIX = re.compile(r"^\s*(assistant|answer|response)\s*:?\s*\n", re.IGNORECASE)
_PREFACE = re.compile(
    r"^\s*(?:here(?:'s| is| are)|sure\b|certainly\b|of course\b|okay\b|ok\b|absolutely\b|title\s*:|"
    r"以下是|下面是|这是|好的|当然)",
    re.IGNORECASE,
)
_BOLD = re.compile(r"\*\*|__")
_QUOTED_TITLE = re.compile(r'^\s*(?:#+\s*)?["“«].{1,60}["”»]\s*$|^\s*#+\s+\S')
_LABEL = re.compile(
    r"^\s*(?:[\[【(（]\s*(?P<a>[^\]】)）\n]{1,24}?)\s*[\]】)）]"  # [Chorus], 【副歌】, (Verse 1)
    r"|(?P<b>(?:verse|chorus|refrain|bridge|hook|pre-chorus|outro|intro|主歌|副歌|桥段|前奏|尾声)[^:：\n]{0,6}?)\s*[:：]?)\s*$",
    re.IGNORECASE,
)
_ITEM = re.compile(r"^\s*(?:[-*•]\s*)?(?P<n>\d{1,2})\s*[.)、:：．]\s*(?P<body>\S.*)$")
_BULLET = re.compile(r"^\s*[-*•]\s+(?P<body>\S.*)$")
_SENTENCE_END = re.compile(r"[.!?…。！？]+[\"'”’)\]」』]*")
_WORD = re.compile(r"[A-Za-z0-9'’-]+|[\u3400-\u4dbf\u4e00-\u9fff]")


def squash(text: str) -> str:
    return re.sub(r"[\W_]+", " ", text).strip().lower()


def label_kind(label: str) -> str:
    """What a part is, whatever its number or language: "Verse 1" → "verse", "副歌" → "chorus"."""
    low = label.strip().lower()
    for kind, words in (
        ("pre-chorus", ("pre-chorus", "prechorus")),
        ("chorus", ("chorus", "refrain", "hook", "副歌", "合唱")),
        ("verse", ("verse", "主歌")),
        ("bridge", ("bridge", "桥段")),
    ):
        if any(word in low for word in words):
            return kind
    return low


def parse_label(line: str) -> str | None:
    """The part label a line holds ("[Chorus]", "Chorus:", "**Verse 2**", "【副歌】"), else None."""
    match = _LABEL.match(_BOLD.sub("", line))
    if not match:
        return None
    label = (match.group("a") or match.group("b") or "").strip()
    if not label or len(label.split()) > 3:
        return None
    known = {"verse", "chorus", "bridge", "pre-chorus", "intro", "outro", "interlude", "前奏", "尾声"}
    if label_kind(label) not in known and label_kind(label).rstrip(" 0123456789") not in known:
        return None  # a bracketed word that names no part ("(softly)") is a stage direction
    return label


def line_length(line: str, language: Language) -> int:
    """Words in an English line, Han characters in a Chinese one."""
    if language == "zh":
        return han_count(line)
    return len(re.findall(r"[A-Za-z0-9'’-]+", line))


def distinct_2(text: str) -> float:
    """Unique bigrams over all bigrams of the words (Han characters count as words); 1.0 if under two."""
    words = [word.lower() for word in _WORD.findall(text)]
    bigrams = list(itertools.pairwise(words))
    return len(set(bigrams)) / len(bigrams) if bigrams else 1.0


def strip_wrapping(text: str, echoes: list[str] = ()) -> str:  # type: ignore[assignment]
    """Whitespace, a leftover role line, markdown bold, and opening lines that repeat the request."""
    text = _ROLE_PREFIX.sub("", text.replace("\r\n", "\n")).strip()
    text = _BOLD.sub("", text)
    echoed = {squash(echo) for echo in echoes if squash(echo)}
    while text:
        first, _, rest = text.partition("\n")
        if squash(first) not in echoed:
            break
        text = rest.strip()
    return text


def _drop_preface(lines: list[str], form: Form) -> list[str]:
    """Drop "Here is a haiku about rain:" and a quoted or '#' title before the text proper."""
    out = list(lines)
    for _ in range(2):
        while out and not out[0].strip():
            out.pop(0)
        if not out:
            break
        first = out[0].strip()
        if parse_label(first) or _ITEM.match(first):
            break
        preface = bool(_PREFACE.match(first)) or (first.endswith((":", "：")) and len(first) < 120)
        title = bool(_QUOTED_TITLE.match(first)) and not form.free
        if preface or title:
            out.pop(0)
            continue
        break
    return out


@dataclass
class FormCheck:
    """What `check` found: the tidied text, whether form and language were kept, and why not."""

    text: str
    form_kept: bool | None  # None: free form, nothing to keep
    language_kept: bool
    distinct2: float
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.form_kept is not False and self.language_kept and not self.degenerate

    @property
    def degenerate(self) -> bool:
        return self.distinct2 < 0.5 and len(self.text) > 40


def _length_ok(line: str, form: Form, language: Language) -> bool:
    low, high = form.line_len
    size = line_length(line, language)
    return max(1, low - 2) <= size <= max(high + 2, round(high * 1.5))


def _tidy_lines(lines: list[str], form: Form, language: Language, problems: list[str]) -> list[str]:
    """Cut the text after the form's lines; record a part with too few or too long lines."""
    if len(form.parts) == 1 and form.parts[0].label is None:
        content = [line.strip() for line in lines if line.strip()]
        want = form.parts[0].lines
        if len(content) < want:
            problems.append(f"{len(content)} lines, not {want}")
        kept = content[:want]
        if any(not _length_ok(line, form, language) for line in kept):
            problems.append("a line is far too long or too short")
        return kept
    # several unlabelled stanzas: blocks separated by blank lines
    blocks: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            blocks[-1].append(line.strip())
        elif blocks[-1]:
            blocks.append([])
    blocks = [block for block in blocks if block]
    want_blocks = len(form.parts)
    if len(blocks) == 1 and len(blocks[0]) >= form.total_lines:  # stanzas without blank lines
        per = form.parts[0].lines
        flat = blocks[0]
        blocks = [flat[i : i + per] for i in range(0, form.total_lines, per)]
    if len(blocks) < want_blocks:
        problems.append(f"{len(blocks)} stanzas, not {want_blocks}")
    kept_blocks = blocks[:want_blocks]
    for block, part in zip(kept_blocks, form.parts, strict=False):
        if len(block) != part.lines and not (2 <= len(block) <= 2 * part.lines and not form.exact_lines):
            problems.append(f"a stanza of {len(block)} lines, not {part.lines}")
            break
    if any(not _length_ok(line, form, language) for block in kept_blocks for line in block):
        problems.append("a line is far too long or too short")
    return ["\n".join(block) for block in kept_blocks]


def _tidy_parts(lines: list[str], form: Form, language: Language, problems: list[str]) -> str:
    """Normalise labels to "[Label]", keep the expected parts in order, cut after the last."""
    found: list[tuple[str, list[str]]] = []
    for line in lines:
        label = parse_label(line)
        if label is not None:
            found.append((label, []))
        elif line.strip():
            if not found:
                found.append(("", []))
            found[-1][1].append(line.strip())
    found = [(label, body) for label, body in found if label or body]
    expected = [part.label or "" for part in form.parts]
    chosen: list[tuple[str, list[str]]] = []
    cursor = 0
    for want in expected:
        while cursor < len(found) and label_kind(found[cursor][0]) != label_kind(want):
            cursor += 1
        if cursor >= len(found):
            problems.append(f"no [{want}] part")
            break
        chosen.append((want, found[cursor][1]))
        cursor += 1
    for (label, body), part in zip(chosen, form.parts, strict=False):
        if form.exact_lines and len(body) != part.lines:
            problems.append(f"[{label}] has {len(body)} lines, not {part.lines}")
        elif not form.exact_lines and not 2 <= len(body) <= max(2 * part.lines, 4):
            problems.append(f"[{label}] has {len(body)} lines")
        if any(not _length_ok(line, form, language) for line in body):
            problems.append(f"a line of [{label}] is far too long or too short")
    if not chosen:  # keep what there is, so the member still gets the text
        return "\n".join(line.strip() for line in lines if line.strip())
    return "\n\n".join(f"[{label}]\n" + "\n".join(body) for label, body in chosen)


def _tidy_items(lines: list[str], form: Form, language: Language, problems: list[str]) -> str:
    """Keep items 1 to N (numbered, or bulleted and then numbered), one per line; cut the rest."""
    want = form.items or 0
    items: list[str] = []
    for line in lines:
        stripped = line.strip()
        if not stripped:
            continue
        match = _ITEM.match(stripped) or _BULLET.match(stripped)
        if match:
            items.append(match.group("body").strip())
        elif items and not parse_label(stripped):
            items[-1] = f"{items[-1]} {stripped}"  # a continuation of the item above
        if len(items) > want:
            break
    items = items[:want]
    if len(items) < want:
        problems.append(f"{len(items)} numbered items, not {want}")
    low = 2 if language == "zh" else 3
    if any(line_length(item, language) < low for item in items):
        problems.append("an item is too short")
    return "\n".join(f"{index}. {item}" for index, item in enumerate(items, 1))


def split_sentences(text: str) -> list[str]:
    sentences: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        piece = text[start : match.end()].strip()
        if _WORD.search(piece):
            sentences.append(piece)
        start = match.end()
    tail = text[start:].strip()
    if tail and _WORD.search(tail):
        sentences.append(tail)
    return sentences


def _tidy_sentences(text: str, form: Form, language: Language, problems: list[str]) -> str:
    want = form.sentences or 0
    sentences = split_sentences(text.replace("\n", " "))
    finished = [sentence for sentence in sentences if _SENTENCE_END.search(sentence[-3:])]
    if len(finished) < want:
        problems.append(f"{len(finished)} sentences, not {want}")
    kept = finished[:want] if len(finished) >= want else sentences[:want]
    joiner = "" if language == "zh" else " "
    return joiner.join(kept)


def tidy(raw: str, request: Request, echoes: list[str] = ()) -> FormCheck:  # type: ignore[assignment]
    """The text as it will be delivered, cut where the form ends, and what was wrong with it."""
    form = request.form
    problems: list[str] = []
    text = strip_wrapping(raw, list(echoes))
    lines = _drop_preface(text.split("\n"), form)
    if form.items is not None:
        body = _tidy_items(lines, form, request.language, problems)
    elif form.labelled:
        body = _tidy_parts(lines, form, request.language, problems)
    elif form.parts:
        blocks = _tidy_lines(lines, form, request.language, problems)
        body = "\n\n".join(blocks) if len(form.parts) > 1 else "\n".join(blocks)
    elif form.sentences is not None:
        body = _tidy_sentences("\n".join(lines).strip(), form, request.language, problems)
    else:
        body = "\n".join(lines).strip()
    body = body.strip()
    if not body:
        problems.append("no text")
    language_kept = language_of(body, default=request.language) == request.language if body else False
    if not language_kept:
        problems.append(f"not written in {'Chinese' if request.language == 'zh' else 'English'}")
    form_kept = (
        None
        if form.free
        else not any(
            problem for problem in problems if not problem.startswith("not written") and problem != "no text"
        )
        and bool(body)
    )
    return FormCheck(body, form_kept, language_kept, distinct_2(body), problems)
