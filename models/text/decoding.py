"""A lean token-by-token sampling loop (instead of `model.generate`), with streaming and cancel.

Per step it runs one forward pass on the new token with a KV cache, applies the repetition penalty,
temperature and top-p from a `GenerationConfig`, and picks the next token (argmax at temperature 0).
It avoids `generate`'s per-step bookkeeping, keeps the whole sequence in one preallocated tensor, and
computes logits only for the last prompt position during prefill.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal, cast

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

FinishReason = Literal["eos", "length", "stopped"]


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


@torch.inference_mode()
def sample(
    model: PreTrainedModel,
    prompt_ids: torch.Tensor,
    config: GenerationConfig,
    *,
    seed: int,
    stopping: StoppingCriteriaList | None = None,
    on_token: Callable[[list[int]], None] | None = None,
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
    step_input = sequence[:, :prompt_len]
    for step in range(max_new):
        output = model(input_ids=step_input, cache=cache, use_cache=True, logits_to_keep=1)
        if step == 0:
            prefill_s = time.perf_counter() - started
        scores = processors(cast(torch.LongTensor, sequence[:, :length]), output.logits[:, -1, :].float())
        if step == 0 and eos_ids:  # never end before the first token
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
        step_input = sequence[:, length - 1 : length]
    return DecodeResult(new_ids, finish, prefill_s, time.perf_counter() - started)
