"""One text job, whatever runs the model: read the request's form, ask for it, check what comes back,
and where it misses try again, choosing the best of the drafts within the job's time.

An `Engine` writes one draft for a chat (in process with transformers, or on an inference server);
`write` runs the drafts:
1. `recognise` the request (form, language, subject); `form_messages` asks for the form.
2. Each draft streams progress ("Writing… 12/160 tokens", with the text so far) and stops where the
   form ends (`FormGuide`); `tidy` cuts it there and `check`s line counts, labelled parts, numbered
   items, sentences, the language of the request and repetition.
3. A draft that keeps its form (or has none to keep), keeps the language, is not degenerate, and stays
   close enough to the request (MiniLM cosine ≥ `ACCEPT_SIMILARITY`) is taken at once. Otherwise
   another is written (seed + 1, …) while `attempts` allow and the time left fits one more as long as
   the longest so far; then the best is taken: first the ones that keep form and language, then the
   closest to the request.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from models.base import GenerationContext, GenerationError, GenerationOutput, OutputFile
from models.text.checks import FormCheck, tidy
from models.text.forms import Request, recognise
from models.text.guide import FormGuide
from models.text.prompts import form_messages, trim_unfinished
from models.text.similarity import scorer
from provenance import provenance_record
from provenance.text import add_footer
from wire.contract import ErrorCode, TextJob

log = logging.getLogger(__name__)

# Of the text queue's soft time limit, the share a job's drafts may use (the rest: storing, events).
TIME_SHARE = 0.8
# A bare subject ("autumn rain") may rightly open a poem; only a sentence-long request is an echo.
MIN_ECHO_WORDS = 5
ACCEPT_SIMILARITY = 0.35


@dataclass
class Draft:
    """What an engine wrote for one chat."""

    text: str
    tokens: int
    finish_reason: str  # eos | length | complete | stopped
    first_token_s: float
    total_s: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.total_s if self.total_s > 0 else 0.0


OnText = Callable[[str, int], None]


class Engine(Protocol):
    """Writes one draft: streams `on_text(text_so_far, tokens)`, stops once `guide.done` (in process
    it also follows `guide.next`), raises JobCancelled when `is_cancelled()` turns true."""

    def draft(
        self,
        messages: list[dict[str, str]],
        *,
        max_new_tokens: int,
        temperature: float,
        top_p: float,
        seed: int,
        guide: FormGuide,
        on_text: OnText,
        is_cancelled: Callable[[], bool],
    ) -> Draft: ...


@dataclass
class Candidate:
    attempt: int
    seed: int
    draft: Draft
    check: FormCheck
    similarity: float

    @property
    def rank(self) -> tuple[int, int, int, float]:
        check = self.check
        return (
            int(check.language_kept),
            int(check.form_kept is not False),
            int(not check.degenerate),
            self.similarity,
        )

    def accepted(self) -> bool:
        return self.check.ok and self.similarity >= ACCEPT_SIMILARITY


@dataclass
class Written:
    """The chosen draft, the request as read, and every attempt (for metadata and the eval)."""

    request: Request
    chosen: Candidate
    candidates: list[Candidate]
    budget: int
    seconds: float
    scorer: str
    asked_tokens: int = 0

    @property
    def text(self) -> str:
        return self.chosen.check.text

    def metadata(self) -> dict[str, Any]:
        chosen, check = self.chosen, self.chosen.check
        draft = chosen.draft
        return {
            "form": self.request.form.describe(),
            "form_named": self.request.form.named,
            "form_kept": check.form_kept,
            "language": self.request.language,
            "language_kept": check.language_kept,
            "problems": check.problems,
            "attempts": len(self.candidates),
            "chosen_attempt": chosen.attempt + 1,
            "similarity": round(chosen.similarity, 3),
            "similarity_model": self.scorer,
            "distinct_2": round(check.distinct2, 3),
            "tokens": draft.tokens,
            "tokens_per_s": round(draft.tokens_per_s, 2),
            "first_token_s": round(draft.first_token_s, 3),
            "generate_s": round(draft.total_s, 3),
            "write_s": round(self.seconds, 3),
            "finish_reason": draft.finish_reason,
            "max_new_tokens": self.budget,
            **({"asked_max_new_tokens": self.asked_tokens} if self.asked_tokens != self.budget else {}),
            **draft.extra,
        }


def tokens_for(request: Request) -> int:
    """About how many tokens the form asked for takes (lines at their longest, labels, numbers), so a
    sonnet is not cut at line nine by the default length."""
    form = request.form
    per_unit = 2.6 if request.language == "zh" else 1.4  # tokens per Han character / per English word
    low, high = form.line_len
    line = (low + 3 * high) / 4 * per_unit + 2
    if form.items is not None:
        return round(form.items * (line + 3))
    if form.parts:
        return round(form.total_lines * line + 6 * len(form.parts))
    if form.sentences is not None:
        return round(form.sentences * (45 if request.language == "zh" else 28))
    return 0


def echoes_for(messages: list[dict[str, str]], prompt: str) -> list[str]:
    echoes = messages[-1]["content"].splitlines()
    if len(prompt.split()) >= MIN_ECHO_WORDS:
        echoes.append(prompt)
    return echoes


def write(
    job: TextJob,
    ctx: GenerationContext,
    engine: Engine,
    *,
    budget: int,
    attempts: int,
    time_budget_s: float,
    few_shot: bool = True,
    seed: int | None = None,
    max_tokens: int | None = None,
) -> Written:
    """Run the drafts for one job (see the module's docstring); GenerationError if none has text.

    `budget` is the job's length; a form that needs more (a sonnet at the default 160 tokens, five
    Chinese image prompts) gets what it needs, up to `max_tokens` (the preset's maximum).
    """
    started = time.monotonic()
    options = job.options
    request = recognise(options.kind, options.prompt)
    asked = budget
    if tokens_for(request) > budget:
        budget = min(max_tokens or budget, tokens_for(request))
    messages = form_messages(request, few_shot=few_shot)
    echoes = echoes_for(messages, options.prompt)
    base_seed = (
        seed if seed is not None else (options.seed if options.seed is not None else secrets.randbelow(2**32))
    )
    score = scorer()
    candidates: list[Candidate] = []
    longest = 0.0
    ctx.progress(0.0, "Reading your request…", step=0, total=budget)
    for attempt in range(max(1, attempts)):
        if attempt:
            remaining = time_budget_s - (time.monotonic() - started)
            if remaining < longest * 1.2:
                log.info(
                    "no time for another draft (%.1f s left, the longest took %.1f s)", remaining, longest
                )
                break
            problems = "; ".join(candidates[-1].check.problems) or "not close enough to the request"
            ctx.progress(
                0.0, f"Trying again ({problems}): draft {attempt + 1} of {attempts}…", step=0, total=budget
            )
        ctx.check_cancelled()
        note = f" (draft {attempt + 1} of {attempts})" if attempt else ""

        def on_text(text: str, tokens: int, note: str = note) -> None:
            ctx.progress(
                min(1.0, tokens / budget),
                f"Writing… {tokens}/{budget} tokens{note}",
                step=tokens,
                total=budget,
                preview_text=text,
            )

        seed_now = (base_seed + attempt) % 2**32
        began = time.monotonic()
        draft = engine.draft(
            messages,
            max_new_tokens=budget,
            temperature=options.temperature,
            top_p=options.top_p,
            seed=seed_now,
            guide=FormGuide(request),
            on_text=on_text,
            is_cancelled=ctx.is_cancelled,
        )
        longest = max(longest, time.monotonic() - began)
        raw = (
            trim_unfinished(draft.text)
            if draft.finish_reason == "length" and request.form.free
            else draft.text
        )
        check = tidy(raw, request, echoes)
        similarity = score.similarity(options.prompt, [check.text])[0] if check.text else -1.0
        candidate = Candidate(attempt, seed_now, draft, check, similarity)
        candidates.append(candidate)
        log.info(
            "draft %d: form %s, language %s, distinct-2 %.2f, similarity %.2f%s",
            attempt + 1,
            check.form_kept,
            check.language_kept,
            check.distinct2,
            similarity,
            f" ({'; '.join(check.problems)})" if check.problems else "",
        )
        if candidate.accepted():
            break
    with_text = [candidate for candidate in candidates if candidate.check.text]
    if not with_text:
        raise GenerationError(
            ErrorCode.INTERNAL, "The model wrote nothing this time; try again or rephrase your request."
        )
    chosen = max(with_text, key=lambda candidate: candidate.rank)
    written = Written(request, chosen, candidates, budget, time.monotonic() - started, score.label)
    written.asked_tokens = asked
    return written


def text_output(job: TextJob, written: Written, **metadata: Any) -> GenerationOutput:
    """The text, its .txt file with a provenance footer, and the job's metadata."""
    record = provenance_record(job, **metadata, **written.metadata())
    data = (add_footer(written.text, record) + "\n").encode()
    filename = f"{job.options.kind}.txt"
    return GenerationOutput(
        text=written.text,
        files=[OutputFile(filename, "text/plain; charset=utf-8", "text", data)],
        metadata=record,
    )
