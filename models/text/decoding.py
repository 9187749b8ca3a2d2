"""A lean token-by-token sampling loop (instead of `model.generate`), with streaming and cancel.

Per step it runs one forward pass on the new token with a KV cache, applies the repetition penalty,
temperature and top-p from a `GenerationConfig`, and picks the next token (argmax at temperature 0).
It avoids `generate`'s per-step bookkeeping, keeps the whole sequence in one preallocated tensor, and
computes logits only for the last prompt position during prefill.

An optional `guide` shapes each step (`Directive`): tokens to write without sampling (a part's label,
an item's number), tokens banned (the other script, a line break too early, the end before the form
is complete), tokens boosted (a line break once a line is long), or stop (the form is complete).
`TokenTable` knows which tokens are which, and `GuideAdapter` turns a `models.text.guide.FormGuide`'s
text-level answer into a `Directive`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, cast

import torch
from transformers import (
    DynamicCache,
    GenerationConfig,
    LogitsProcessorList,
    PreTrainedModel,
    RepetitionPenaltyLogitsProcessor,
    StoppingCriteria,
    StoppingCriteriaList,
    TemperatureLogitsWarper,
    TopPLogitsWarper,
)

FinishReason = Literal["eos", "length", "stopped", "complete"]


def sampling_config(
    *,
    max_new_tokens: int,
    temperature: float,
    top_p: float,
    repetition_penalty: float,
    eos_token_ids: Iterable[int],
) -> GenerationConfig:
    """The sampling settings of one job; temperature 0 means greedy decoding."""
    greedy = temperature <= 0.0
    return GenerationConfig(
        max_new_tokens=max_new_tokens,
        do_sample=not greedy,
        temperature=None if greedy else temperature,
        top_p=None if greedy else top_p,
        repetition_penalty=repetition_penalty,
        eos_token_id=sorted(set(eos_token_ids)) or None,
    )


def logits_processors(config: GenerationConfig) -> LogitsProcessorList:
    """Repetition penalty, then (when sampling) temperature and top-p, as transformers applies them."""
    processors = LogitsProcessorList()
    if config.repetition_penalty and config.repetition_penalty != 1.0:
        processors.append(RepetitionPenaltyLogitsProcessor(penalty=config.repetition_penalty))
    if config.do_sample:
        if config.temperature is not None and config.temperature != 1.0:
            processors.append(TemperatureLogitsWarper(config.temperature))
        if config.top_p is not None and config.top_p < 1.0:
            processors.append(TopPLogitsWarper(top_p=config.top_p))
    return processors


class CancelCriteria(StoppingCriteria):
    """Stops generation once `is_cancelled()` says the job was cancelled."""

    def __init__(self, is_cancelled: Callable[[], bool]) -> None:
        self.is_cancelled = is_cancelled
        self.triggered = False

    def __call__(
        self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **kwargs: object
    ) -> torch.BoolTensor:
        self.triggered = self.triggered or bool(self.is_cancelled())
        return torch.full((input_ids.shape[0],), self.triggered, dtype=torch.bool, device=input_ids.device)  # type: ignore[return-value]


@dataclass(frozen=True)
class DecodeResult:
    """The new tokens, why decoding stopped, and how long prefill and the whole run took."""

    token_ids: list[int]
    finish_reason: FinishReason
    prefill_s: float
    total_s: float

    @property
    def tokens_per_s(self) -> float:
        return len(self.token_ids) / self.total_s if self.total_s > 0 else 0.0


def _eos_ids(config: GenerationConfig) -> set[int]:
    eos = config.eos_token_id
    if eos is None:
        return set()
    return {int(eos)} if isinstance(eos, int) else {int(token) for token in eos}


@dataclass(frozen=True)
class Directive:
    """How a guide shapes the next step: see the module's docstring."""

    stop: bool = False
    forced: tuple[int, ...] = ()
    ban: torch.Tensor | None = None  # bool [vocab]
    boost: tuple[torch.Tensor, float] | None = None  # (token ids, added logit)


Guide = Callable[[list[int]], Directive | None]


class TokenTable:
    """Which tokens of a vocabulary break a line, hold Latin letters, Han characters or brackets."""

    def __init__(self, tokenizer: Any, vocab_size: int, eos_ids: Iterable[int]) -> None:
        import re

        size = max(vocab_size, len(tokenizer))
        texts = tokenizer.batch_decode([[index] for index in range(len(tokenizer))])
        self.size = size
        self.newline = torch.zeros(size, dtype=torch.bool)
        self.latin = torch.zeros(size, dtype=torch.bool)
        self.han = torch.zeros(size, dtype=torch.bool)
        self.brackets = torch.zeros(size, dtype=torch.bool)
        self.digits = torch.zeros(size, dtype=torch.bool)
        self.special = torch.zeros(size, dtype=torch.bool)
        latin, han = re.compile(r"[A-Za-z]"), re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
        special_ids = set(getattr(tokenizer, "all_special_ids", []) or [])
        for index, text in enumerate(texts):
            self.newline[index] = "\n" in text
            self.latin[index] = bool(latin.search(text))
            self.han[index] = bool(han.search(text))
            self.brackets[index] = any(char in text for char in "[]【】")
            self.digits[index] = any(char in text for char in "0123456789#＃")
            self.special[index] = index in special_ids
        self.special[len(texts) :] = True  # padding rows of the embedding beyond the tokenizer
        self.eos = torch.zeros(size, dtype=torch.bool)
        for index in eos_ids:
            if 0 <= index < size:
                self.eos[index] = True
        self.newline_ids = torch.nonzero(self.newline).flatten()
        self.encode = lambda text: list(tokenizer(text, add_special_tokens=False)["input_ids"])


class GuideAdapter:
    """Turns a `FormGuide` (text-level) into per-step `Directive`s for `sample`."""

    def __init__(self, guide: Any, table: TokenTable, decode: Callable[[list[int]], str]) -> None:
        self.guide = guide
        self.table = table
        self.decode = decode
        language = guide.language
        self.script_ban = table.latin if language == "zh" else table.han
        self.base_ban = self.script_ban | table.special & ~table.eos

    def __call__(self, new_ids: list[int]) -> Directive:
        step = self.guide.next(self.decode(new_ids))
        if step.done:
            return Directive(stop=True)
        if step.force is not None:
            return Directive(forced=tuple(self.table.encode(step.force)))
        ban = self.base_ban
        if not step.allow_end:
            ban = ban | self.table.eos
        if not step.allow_newline:
            ban = ban | self.table.newline
        if not step.allow_brackets:
            ban = ban | self.table.brackets
        if not step.allow_digits:
            ban = ban | self.table.digits
        boost = (self.table.newline_ids, step.newline_push) if step.newline_push > 0 else None
        return Directive(ban=ban, boost=boost)


@torch.inference_mode()
def sample(
    model: PreTrainedModel,
    prompt_ids: torch.Tensor,
    config: GenerationConfig,
    *,
    seed: int,
    stopping: StoppingCriteriaList | None = None,
    on_token: Callable[[list[int]], None] | None = None,
    guide: Guide | None = None,
) -> DecodeResult:
    """Generate up to `config.max_new_tokens` tokens after `prompt_ids` (shape [1, n]) for one sequence."""
    if prompt_ids.dim() != 2 or prompt_ids.shape[0] != 1 or prompt_ids.shape[1] == 0:
        raise ValueError("prompt_ids must have shape [1, n] with n > 0")
    started = time.perf_counter()
    device = model.device
    max_new = int(config.max_new_tokens or 0)
    prompt_len = int(prompt_ids.shape[1])
    sequence = torch.empty((1, prompt_len + max_new), dtype=torch.long, device=device)
    sequence[:, :prompt_len] = prompt_ids.to(device)
    processors = logits_processors(config)
    eos_ids = _eos_ids(config)
    generator = torch.Generator(device=device).manual_seed(seed)
    stopping = stopping or StoppingCriteriaList()
    cache = DynamicCache(config=model.config)
    new_ids: list[int] = []
    finish: FinishReason = "length"
    prefill_s = 0.0
    length = prompt_len
    fed = 0  # tokens of `sequence` already in the cache
    steps = 0
    while len(new_ids) < max_new:
        directive = guide(new_ids) if guide is not None else None
        if directive is not None and directive.stop:
            finish = "complete"
            break
        if directive is not None and directive.forced:
            forced = list(directive.forced[: max_new - len(new_ids)])
            sequence[0, length : length + len(forced)] = torch.tensor(forced, dtype=torch.long)
            length += len(forced)
            new_ids.extend(forced)
            if on_token is not None:
                on_token(new_ids)
            if stopping(cast(torch.LongTensor, sequence[:, :length]), None).any():  # type: ignore[arg-type]
                finish = "stopped"
                break
            continue
        output = model(input_ids=sequence[:, fed:length], cache=cache, use_cache=True, logits_to_keep=1)
        fed = length
        if steps == 0:
            prefill_s = time.perf_counter() - started
        steps += 1
        logits = output.logits[:, -1, :].float()
        if directive is not None:  # before the warpers, so top-p chooses among allowed tokens only
            if directive.boost is not None:
                ids, value = directive.boost
                logits[:, ids[ids < logits.shape[1]]] += value
            if directive.ban is not None:
                ban = directive.ban[: logits.shape[1]]
                if not bool(ban.all()):
                    logits[:, ban] = -float("inf")
        scores = processors(cast(torch.LongTensor, sequence[:, :length]), logits)
        if not new_ids and eos_ids:  # never end before the first token
            scores[:, sorted(eos_ids)] = -float("inf")
        if config.do_sample:
            next_token = torch.multinomial(torch.softmax(scores, dim=-1), 1, generator=generator)
        else:
            next_token = scores.argmax(dim=-1, keepdim=True)
        token = int(next_token)
        if token in eos_ids:
            finish = "eos"
            break
        sequence[0, length] = token
        length += 1
        new_ids.append(token)
        if on_token is not None:
            on_token(new_ids)
        if stopping(cast(torch.LongTensor, sequence[:, :length]), scores).any():
            finish = "stopped"
            break
    return DecodeResult(new_ids, finish, prefill_s, time.perf_counter() - started)
