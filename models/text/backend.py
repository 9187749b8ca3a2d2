"""The text backend: a causal language model that writes poems, stories, lyrics and ideas."""

from __future__ import annotations

import logging
import secrets
import threading
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
    OutputFile,
)
from models.text.decoding import CancelCriteria, DecodeResult, sample, sampling_config
from models.text.loading import LoadedModel, load_model
from models.text.prompts import build_messages, clean_output, plain_prompt, trim_unfinished
from provenance import provenance_record
from provenance.text import add_footer
from wire.contract import ErrorCode, TextJob

log = logging.getLogger(__name__)

# A bare subject ("autumn rain") may rightly open a poem; only a sentence-long request is an echo.
MIN_ECHO_WORDS = 5


class TransformersTextBackend(Backend):
    """Serves one text preset with a transformers causal LM, streaming the text as it is written."""

    modality = "text"

    def __init__(self, name: str, preset: TextPreset, loaded: LoadedModel) -> None:
        self.name = name
        self.preset = preset
        self.loaded = loaded
        self._lock = threading.Lock()

    @classmethod
    def from_preset(
        cls, name: str, preset: TextPreset, settings: Settings, *, quantize: str | None = None
    ) -> Self:
        """Load (and on first use convert and cache) the preset's model, then warm it up.

        `quantize` ("none" or "int8") overrides the preset's setting; see `models.text.quantize`.
        """
        backend = cls(name, preset, load_model(name, preset, settings.model_cache_dir, quantize))
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

    def generate(self, job: AnyJob, ctx: GenerationContext) -> GenerationOutput:
        """Write the text a text job asks for, streaming progress; JobCancelled if cancelled."""
        if not isinstance(job, TextJob):
            raise GenerationError(
                ErrorCode.INVALID_INPUT, f"the text backend cannot run a {job.modality} job"
            )
        ctx.check_cancelled()
        options = job.options
        messages = build_messages(options.kind, options.prompt)
        prompt_ids = self.prompt_ids(messages)
        budget = self.token_budget(options.max_new_tokens, int(prompt_ids.shape[1]))
        seed = options.seed if options.seed is not None else secrets.randbelow(2**32)
        config = sampling_config(
            max_new_tokens=budget,
            temperature=options.temperature,
            top_p=options.top_p,
            repetition_penalty=self.preset.repetition_penalty,
            eos_token_ids=self.eos_ids(),
        )
        cancel = CancelCriteria(ctx.is_cancelled)

        def on_token(token_ids: list[int]) -> None:
            count = len(token_ids)
            ctx.progress(
                min(1.0, count / budget),
                f"Writing… {count}/{budget} tokens",
                step=count,
                total=budget,
                preview_text=self.decode_text(token_ids),
            )

        ctx.progress(0.0, "Reading your request…", step=0, total=budget)
        with self._lock:
            result = sample(
                self.loaded.model,
                prompt_ids,
                config,
                seed=seed,
                stopping=StoppingCriteriaList([cancel]),
                on_token=on_token,
            )
        if cancel.triggered:
            log.info("text job %s cancelled after %d tokens", job.id, len(result.token_ids))
            raise JobCancelled(job.id)
        echoes = messages[-1]["content"].splitlines()
        if len(options.prompt.split()) >= MIN_ECHO_WORDS:
            echoes.append(options.prompt)
        text = clean_output(self.decode_text(result.token_ids), echoes)
        if result.finish_reason == "length":
            text = trim_unfinished(text)
        if not text:
            raise GenerationError(
                ErrorCode.INTERNAL, "The model wrote nothing this time; try again or rephrase your request."
            )
        return self.output(job, text, seed, result, budget)

    def output(
        self, job: TextJob, text: str, seed: int, result: DecodeResult, budget: int
    ) -> GenerationOutput:
        """The text, its .txt file with a provenance footer, and the job's metadata."""
        metadata = provenance_record(
            job,
            model=self.model_label,
            seed=seed,
            preset=self.name,
            tokens=len(result.token_ids),
            tokens_per_s=round(result.tokens_per_s, 2),
            prefill_s=round(result.prefill_s, 3),
            generate_s=round(result.total_s, 3),
            load_s=round(self.loaded.load_s, 2),
            quantize=self.loaded.quantize,
            finish_reason=result.finish_reason,
            max_new_tokens=budget,
        )
        data = (add_footer(text, metadata) + "\n").encode()
        filename = f"{job.options.kind}.txt"
        return GenerationOutput(
            text=text,
            files=[OutputFile(filename, "text/plain; charset=utf-8", "text", data)],
            metadata=metadata,
        )
