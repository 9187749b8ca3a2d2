"""Following a form while the text is written: a guide reads the text so far and says what may come
next. It knows nothing of tokens; the in-process decoder turns its answer into banned, boosted and
forced tokens (`models.text.decoding`), and the inference-server client uses only `done` to close the
stream where the form ends.

What it asks for:
- lines (a haiku, four lines, stanzas): no end before the last line; no line break before a line has
  its shortest length, a growing push towards one past its longest, a forced one far past it; no
  blank lines inside a stanza, one between stanzas; done after the last line.
- labelled parts (a song): it writes each label ("[Verse 1]", "[Chorus]") itself, then guides the
  part's lines as above.
- numbered items: it writes "1.", "2.", … at the start of each line itself; one line per item.
- sentences: no end before the last sentence; done after it.
- the language: the decoder bans tokens of the other script (Latin letters for a Chinese request,
  Han characters for an English one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from models.text.checks import _ITEM, _PREFACE, _SENTENCE_END, line_length, parse_label
from models.text.forms import Form, Language, Request


@dataclass(frozen=True)
class Step:
    """What may come next: `force` text to write now (skipping the model), or limits on the model's
    next token. `done`: the form is complete; stop here."""

    done: bool = False
    force: str | None = None
    allow_end: bool = True
    allow_newline: bool = True
    newline_push: float = 0.0
    allow_brackets: bool = True
    allow_digits: bool = True


FREE = Step()


def _is_preface(line: str) -> bool:
    stripped = line.strip()
    return bool(_PREFACE.match(stripped)) or (stripped.endswith((":", "：")) and not parse_label(stripped))


class FormGuide:
    """The guide for one request's form and language."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self.form: Form = request.form
        self.language: Language = request.language
        low, high = self.form.line_len
        self.low = low
        self.high = high
        self.hard = max(high + 3, round(high * 1.6))
        # A Chinese answer opens on its subject ("秋天月亮……"): the small default model keeps to
        # the subject far better once it has written it (English needs no such help).
        subject = request.subject.strip()
        short = 1 <= len(subject) <= 8 and subject != request.prompt.strip()
        self.lead = subject if self.language == "zh" and short else None

    # -- shared --------------------------------------------------------------------------------
    def _line_step(
        self, current: str, *, allow_end: bool, allow_brackets: bool = True, allow_digits: bool = True
    ) -> Step:
        """Limits inside a line: break it neither too early nor too late. (A Chinese line's length
        counts Han characters; its hard limit counts every character, so a run of punctuation ends.)"""
        size = line_length(current, self.language)
        limits = {"allow_end": allow_end, "allow_brackets": allow_brackets, "allow_digits": allow_digits}
        if not current.strip():
            return Step(allow_newline=False, **limits)  # type: ignore[arg-type]
        every = len(current.strip()) if self.language == "zh" else size
        if size >= self.hard or every >= self.hard + 6:
            return Step(force="\n")
        if size < self.low:
            return Step(allow_newline=False, **limits)  # type: ignore[arg-type]
        push = 0.0 if size < self.high else 2.5 * (size - self.high + 1)
        return Step(newline_push=push, **limits)  # type: ignore[arg-type]

    def next(self, text: str) -> Step:
        """What may follow `text` (everything written so far)."""
        form = self.form
        if self.lead and not text.strip() and not form.labelled and form.items is None:
            return Step(force=self.lead)
        if form.items is not None:
            return self._items(text)
        if form.labelled:
            return self._parts(text)
        if form.parts:
            return self._lines(text)
        if form.sentences is not None:
            return self._sentences(text)
        return FREE

    def done(self, text: str) -> bool:
        """True once `text` holds the whole form (the server client closes the stream there)."""
        form = self.form
        if form.free:
            return False
        if form.items is not None:
            complete = [line for line in text.split("\n")[:-1] if _ITEM.match(line.strip())]
            return len(complete) >= form.items
        if form.labelled:
            return self._parts_progress(text)[0] >= len(form.parts)
        if form.parts:
            return len(self._content_lines(text.split("\n")[:-1])) >= form.total_lines
        return self.next(text).done

    # -- lines -----------------------------------------------------------------------------------
    @staticmethod
    def _content_lines(lines: list[str]) -> list[str]:
        content = [line for line in lines if line.strip() and not parse_label(line)]
        if content and _is_preface(content[0]):
            content = content[1:]
        return content

    def _lines(self, text: str) -> Step:
        lines = text.split("\n")
        current, finished = lines[-1], lines[:-1]
        content = self._content_lines(finished)
        total = self.form.total_lines
        if len(content) >= total:
            return Step(done=True)
        if not current.strip() and len(self.form.parts) > 1 and content:
            # between stanzas: one blank line after a stanza's last line, none inside a stanza
            ends = {sum(part.lines for part in self.form.parts[: i + 1]) for i in range(len(self.form.parts))}
            at_end = len(content) in ends
            blank_before = len(finished) >= 1 and not finished[-1].strip()
            if at_end and not blank_before:
                return Step(force="\n")
        return self._line_step(current, allow_end=False, allow_digits=False)

    # -- labelled parts --------------------------------------------------------------------------
    def _parts_progress(self, text: str) -> tuple[int, int]:
        """(parts complete, lines of the part being written)."""
        parts = self.form.parts
        labels_seen = 0
        lines_in_part = 0
        complete = 0
        for line in text.split("\n")[:-1]:
            if parse_label(line) is not None:
                labels_seen += 1
                lines_in_part = 0
            elif line.strip() and labels_seen:
                lines_in_part += 1
                if lines_in_part == parts[min(labels_seen, len(parts)) - 1].lines:
                    complete = labels_seen
        return complete, lines_in_part

    def _parts(self, text: str) -> Step:
        parts = self.form.parts
        if not text.strip():
            return Step(force=f"[{parts[0].label}]\n")
        current = text.split("\n")[-1]
        complete, in_part = self._parts_progress(text)
        if complete >= len(parts):
            return Step(done=True)
        labels_seen = sum(1 for line in text.split("\n")[:-1] if parse_label(line) is not None)
        if not current.strip() and complete == labels_seen:
            return Step(force=f"\n[{parts[complete].label}]\n")
        if self.lead and not current.strip() and labels_seen == 1 and in_part == 0:
            return Step(force=self.lead)
        return self._line_step(current, allow_end=False, allow_brackets=False, allow_digits=False)

    # -- numbered items --------------------------------------------------------------------------
    def _items(self, text: str) -> Step:
        want = self.form.items or 0
        lines = text.split("\n")
        current, finished = lines[-1], lines[:-1]
        numbered = [line for line in finished if _ITEM.match(line.strip())]
        if len(numbered) >= want:
            return Step(done=True)
        if not current.strip():
            number = len(numbered) + 1
            every = self.request.kind == "prompt_ideas"
            if self.lead and (every or number == 1):
                return Step(force=f"{number}. {self.lead}")
            return Step(force=f"{number}.")
        body = re.sub(r"^\s*\d{1,2}\s*[.)、:：．]\s*", "", current)
        return self._line_step(body if body.strip() else "", allow_end=False, allow_digits=False)

    # -- sentences -------------------------------------------------------------------------------
    def _sentences(self, text: str) -> Step:
        want = self.form.sentences or 0
        ends = list(_SENTENCE_END.finditer(text))
        written = 0
        start = 0
        for match in ends:
            if re.search(r"[A-Za-z\u4e00-\u9fff]", text[start : match.end()]):
                written += 1
            start = match.end()
        if written >= want and (not ends or text[ends[-1].end() :].strip() == ""):
            return Step(done=True)
        return Step(allow_end=False)
