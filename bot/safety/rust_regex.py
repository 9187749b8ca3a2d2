"""AutoMod ``regex_patterns``: Rust regex syntax translated to the ``regex`` package, run with a time limit.

Discord evaluates AutoMod patterns with Rust's ``regex`` crate. The common subset carries over as it
is; what differs is rewritten (``\\z``, ``\\x{…}``, ``\\<``/``\\>``, ``\\b{start}``, ``(?<name>…)``), and what
Rust rejects or Python cannot mirror (look-around, back-references, the ``U`` and ``R`` flags,
possessive quantifiers) raises :class:`RegexTranslationError`. A pattern that fails to translate or
compile is skipped with a warning, and so is one that runs past its time limit on a prompt.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import regex

log = logging.getLogger(__name__)

MAX_PATTERNS = 10
MAX_PATTERN_LENGTH = 260
TIMEOUT_S = 0.005
_HEX = set("0123456789abcdefABCDEF")
_KEEP_ESCAPES = set("AbBdDsSwWntrfvapP") | set(r"\.+*?()|[]{}^$#&-~ ")
_REPEAT = regex.compile(r"\{ *\d+ *(?:, *\d* *)?\}")


class RegexTranslationError(ValueError):
    """The pattern is not Rust regex syntax that this module can run faithfully."""


def _braced_hex(pattern: str, i: int) -> tuple[str, int]:
    close = pattern.find("}", i)
    digits = pattern[i + 1 : close] if close > i else ""
    if not digits or not set(digits) <= _HEX or len(digits) > 6:
        raise RegexTranslationError(f"bad hex escape at {i}")
    return f"\\U{int(digits, 16):08X}", close + 1


def translate(pattern: str) -> str:
    """The pattern in the ``regex`` package's syntax (used with ``regex.V1``)."""
    out: list[str] = []
    i, n, depth = 0, len(pattern), 0
    quantified = False  # the last thing written was a quantifier
    while i < n:
        c = pattern[i]
        if depth == 0 and c in "*+?" and quantified:
            if c != "?":
                raise RegexTranslationError("possessive quantifiers are not Rust regex syntax")
            out.append(c)  # lazy
            quantified = False
            i += 1
            continue
        quantified = False
        if depth == 0 and c in "*+?":
            out.append(c)
            quantified = True
            i += 1
            continue
        if depth == 0 and c == "{":
            repeat = _REPEAT.match(pattern, i)
            if repeat:
                out.append(repeat.group().replace(" ", ""))
                quantified = True
                i = repeat.end()
                continue
        if c == "\\":
            if i + 1 >= n:
                raise RegexTranslationError("trailing backslash")
            e = pattern[i + 1]
            if e == "z":
                out.append(r"\Z")
                i += 2
            elif e in "xuU" and i + 2 < n and pattern[i + 2] == "{":
                text, i = _braced_hex(pattern, i + 2)
                out.append(text)
            elif e in "xuU":
                width = {"x": 2, "u": 4, "U": 8}[e]
                digits = pattern[i + 2 : i + 2 + width]
                if len(digits) != width or not set(digits) <= _HEX:
                    raise RegexTranslationError(f"bad hex escape at {i}")
                out.append(pattern[i : i + 2 + width])
                i += 2 + width
            elif e in "<>" and depth == 0:
                out.append(r"\m" if e == "<" else r"\M")
                i += 2
            elif e == "b" and depth == 0 and pattern.startswith("{", i + 2):
                close = pattern.find("}", i)
                kind = pattern[i + 3 : close]
                table = {"start": r"\m", "end": r"\M", "start-half": r"(?<!\w)", "end-half": r"(?!\w)"}
                if kind not in table:
                    raise RegexTranslationError(f"unknown word boundary {kind!r}")
                out.append(table[kind])
                i = close + 1
            elif e in "pP" and pattern.startswith("{", i + 2):
                close = pattern.find("}", i)
                if close < 0:
                    raise RegexTranslationError("unclosed Unicode class")
                out.append(pattern[i : close + 1])
                i = close + 1
            elif e in _KEEP_ESCAPES:
                out.append(pattern[i : i + 2])
                i += 2
            else:
                raise RegexTranslationError(f"escape \\{e} is not Rust regex syntax")
            continue
        if depth:
            if c == "[":
                depth += 1
                if pattern.startswith("[:", i):  # a POSIX class such as [:alpha:]
                    close = pattern.find(":]", i + 2)
                    if close < 0:
                        raise RegexTranslationError("unclosed POSIX class")
                    out.append(pattern[i : close + 2])
                    i = close + 2
                    depth -= 1
                    continue
            elif c == "]":
                depth -= 1
            out.append(c)
            i += 1
            continue
        if c == "[":
            depth = 1
            out.append(c)
            i += 1
            if i < n and pattern[i] == "^":
                out.append("^")
                i += 1
            if i < n and pattern[i] == "]":  # a leading ] is literal
                out.append(r"\]")
                i += 1
            continue
        if c == "(" and pattern.startswith("(?", i):
            i = _group(pattern, i, out)
            continue
        out.append(c)
        i += 1
    if depth:
        raise RegexTranslationError("unclosed character class")
    return "".join(out)


def _group(pattern: str, i: int, out: list[str]) -> int:
    rest = pattern[i + 2 :]
    if rest.startswith(("=", "!", "<=", "<!", ">", "#")):
        raise RegexTranslationError("look-around, atomic groups and comments are not Rust regex syntax")
    if rest.startswith("P<"):
        out.append("(?P<")
        return i + 4
    if rest.startswith("<"):
        out.append("(?P<")
        return i + 3
    if rest.startswith(":"):
        out.append("(?:")
        return i + 3
    end = next((k for k, ch in enumerate(rest) if ch in ":)"), -1)
    if end < 0:
        raise RegexTranslationError("unclosed group")
    flags = rest[:end]
    if not flags or any(f not in "imsxuUR-" for f in flags):
        raise RegexTranslationError(f"unknown group syntax (?{flags}")
    if "U" in flags or "R" in flags:
        raise RegexTranslationError("the U and R flags have no Python equivalent")
    kept = flags.replace("u", "").rstrip("-")
    closing = rest[end]
    if not kept.strip("-"):
        out.append("(?:" if closing == ":" else "")
    else:
        out.append(f"(?{kept}{closing}")
    return i + 2 + end + 1


@dataclass(frozen=True, slots=True)
class RustPattern:
    """A translated, compiled AutoMod pattern."""

    source: str
    compiled: regex.Pattern[str]

    def spans(self, text: str, *, timeout: float = TIMEOUT_S) -> Iterator[tuple[int, int]]:
        """Match spans in ``text``; stops with a warning when the pattern runs past ``timeout``."""
        try:
            for match in self.compiled.finditer(text, timeout=timeout):
                yield match.span()
        except TimeoutError:
            log.warning("AutoMod regex %r ran past %.0f ms and was skipped", self.source, timeout * 1000)


def compile_rust(pattern: str) -> RustPattern | None:
    """The pattern compiled case-insensitively, or None (with a warning) when it cannot be used."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        log.warning("AutoMod regex longer than %d characters skipped: %r", MAX_PATTERN_LENGTH, pattern[:40])
        return None
    try:
        compiled = regex.compile(translate(pattern), regex.V1 | regex.IGNORECASE)
    except (RegexTranslationError, regex.error) as exc:
        log.warning("AutoMod regex %r skipped: %s", pattern, exc)
        return None
    return RustPattern(pattern, compiled)


def compile_patterns(patterns: Iterable[str]) -> tuple[RustPattern, ...]:
    """Up to ten usable patterns (Discord's limit); the rest are skipped with a warning."""
    listed = list(patterns)
    if len(listed) > MAX_PATTERNS:
        log.warning("more than %d AutoMod regex patterns; the rest are ignored", MAX_PATTERNS)
    return tuple(p for p in map(compile_rust, listed[:MAX_PATTERNS]) if p is not None)
