"""The in-process text backend: a causal language model (transformers) that writes poems, stories,
lyrics and ideas in the form the request names (`models.text.writer`), shaped token by token."""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any, Self

import torch
from transformers import StoppingCriteriaList

from config.settings import Settings, TextPreset
from models.base import (
    AnyJob,
    Backend,
    GenerationContext,
    GenerationError,
    GenerationOutput,
    JobCancelled,
)
from models.text.decoding import CancelCriteria, GuideAdapter, TokenTable, sample, sampling_config
from models.text.guide import FormGuide
from models.text.loading import LoadedModel, load_model
from models.text.prompts import plain_prompt
from models.text.writer import TIME_SHARE, Draft, OnText, text_output, write
from wire.contract import ErrorCode, TextJob

log = logging.getLogger(__name__)


class TransformersTextBackend(Backend):
    """Serves one text preset with a transformers causal LM, streaming the text as it is written."""

    modality = "text"

    def __init__(
        self, name: str, preset: TextPreset, loaded: LoadedModel, time_budget_s: float = 240.0
    ) -> None:
        self.name = name
        self.preset = preset
        self.loaded = loaded
        self.time_budget_s = time_budget_s
        self._lock = threading.Lock()
        self._table: TokenTable | None = None

    @classmethod
    def from_preset(
        cls, name: str, preset: TextPreset, settings: Settings, *, quantize: str | None = None
    ) -> Self:
        """Load (and on first use convert and cache) the preset's model, then warm it up.

        `quantize` ("none" or "int8") overrides the preset's setting; see `models.text.quantize`.
        """
        loaded = load_model(name, preset, settings.model_cache_dir, quantize)
        budget_s = settings.queue_limits("text").soft_time_limit * TIME_SHARE
        backend = cls(name, preset, loaded, budget_s)
        backend.warm_up()
        return backend

    @property
    def model_label(self) -> str:
        """What provenance and the footer call this model."""
        return self.loaded.source.label

    def warm_up(self) -> None:
        """One tiny forward pass, so the first job does not pay for kernel set-up."""
        with torch.inference_mode():
            token = torch.zeros((1, 1), dtype=torch.long, device=self.loaded.model.device)
            self.loaded.model(input_ids=token, use_cache=False)

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "preset": self.name,
            "model": self.model_label,
            "device": self.preset.device,
            "dtype": self.preset.dtype,
            "quantize": self.loaded.quantize,
            "threads": torch.get_num_threads(),
            "max_new_tokens": self.preset.max_new_tokens,
            "load_s": round(self.loaded.load_s, 2),
            "cache": self.loaded.cache,
            "cache_dir": str(self.loaded.cache_dir) if self.loaded.cache_dir else None,
        }

    def prompt_ids(self, messages: list[dict[str, str]]) -> torch.Tensor:
        """Token ids of the chat prompt, ending where the assistant's reply begins."""
        tokenizer = self.loaded.tokenizer
        if getattr(tokenizer, "chat_template", None):
            text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        else:
            text = plain_prompt(messages)
        ids = tokenizer(str(text), add_special_tokens=False, return_tensors="pt")["input_ids"]
        return torch.as_tensor(ids, dtype=torch.long)

    def token_budget(self, requested: int, prompt_len: int) -> int:
        """The job's max_new_tokens, bounded by the preset's maximum and the model's context."""
        budget = min(requested, self.preset.max_new_tokens)
        context = getattr(self.loaded.model.config, "max_position_embeddings", None)
        if context:
            budget = min(budget, int(context) - prompt_len)
        if budget < 1:
            raise GenerationError(
                ErrorCode.INVALID_INPUT, "That request is too long for this model; shorten it."
            )
        return budget

    def eos_ids(self) -> set[int]:
        ids: set[int] = set()
        for source in (self.loaded.model.generation_config.eos_token_id, self.loaded.tokenizer.eos_token_id):
            if isinstance(source, int):
                ids.add(source)
            elif source:
                ids.update(int(token) for token in source)
        return ids

    def decode_text(self, token_ids: list[int]) -> str:
        """Text of the tokens so far, without a half-decoded character at the end."""
        text = self.loaded.tokenizer.decode(token_ids, skip_special_tokens=True)
        return str(text).rstrip("\ufffd")

    def token_table(self) -> TokenTable:
        """Which tokens break lines or belong to a script (built once, on the first guided draft)."""
        if self._table is None:
            self._table = TokenTable(
                self.loaded.tokenizer, int(self.loaded.model.config.vocab_size), self.eos_ids()
            )
        return self._table

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
    ) -> Draft:
        """One draft with the lean loop, shaped by the guide; JobCancelled if cancelled meanwhile."""
        prompt_ids = self.prompt_ids(messages)
        budget = self.token_budget(max_new_tokens, int(prompt_ids.shape[1]))
        config = sampling_config(
            max_new_tokens=budget,
            temperature=temperature,
            top_p=top_p,
            repetition_penalty=self.preset.repetition_penalty,
            eos_token_ids=self.eos_ids(),
        )
        cancel = CancelCriteria(is_cancelled)
        adapter = GuideAdapter(guide, self.token_table(), self.decode_text)
        started = time.perf_counter()
        first_token_s = 0.0

        def on_token(token_ids: list[int]) -> None:
            nonlocal first_token_s
            if not first_token_s:
                first_token_s = time.perf_counter() - started
            on_text(self.decode_text(token_ids), len(token_ids))

        with self._lock:
            result = sample(
                self.loaded.model,
                prompt_ids,
                config,
                seed=seed,
                stopping=StoppingCriteriaList([cancel]),
                on_token=on_token,
                guide=adapter,
            )
        if cancel.triggered:
            raise JobCancelled()
        return Draft(
            text=self.decode_text(result.token_ids),
            tokens=len(result.token_ids),
            finish_reason=result.finish_reason,
            first_token_s=first_token_s or result.prefill_s,
            total_s=result.total_s,
            extra={"prefill_s": round(result.prefill_s, 3)},
        )

    def generate(self, job: AnyJob, ctx: GenerationContext) -> GenerationOutput:
        """Write the text a text job asks for, in the form it names, streaming progress."""
        if not isinstance(job, TextJob):
            raise GenerationError(
                ErrorCode.INVALID_INPUT, f"the text backend cannot run a {job.modality} job"
            )
        ctx.check_cancelled()
        seed = job.options.seed if job.options.seed is not None else secrets.randbelow(2**32)
        budget = min(job.options.max_new_tokens, self.preset.max_new_tokens)
        try:
            written = write(
                job,
                ctx,
                self,
                budget=budget,
                attempts=self.preset.attempts,
                time_budget_s=self.time_budget_s,
                few_shot=self.preset.few_shot,
                seed=seed,
                max_tokens=self.preset.max_new_tokens,
            )
        except JobCancelled:
            log.info("text job %s cancelled", job.id)
            raise JobCancelled(job.id) from None
        return text_output(
            job,
            written,
            model=self.model_label,
            preset=self.name,
            seed=seed,
            load_s=round(self.loaded.load_s, 2),
            quantize=self.loaded.quantize,
        )
