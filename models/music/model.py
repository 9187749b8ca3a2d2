"""The network: a small GPT-2 (transformers) and a lean KV-cache forward for fast sampling on CPU.

`transformers` builds and trains the model; at generation time `LeanGPT2` runs the same weights with a
preallocated key/value cache and no per-step framework overhead (about 10× fewer Python calls than
`generate`), which is what makes a 32-bar tune fit the 3-second budget on two cores.

Metrical position: every input token also gets an embedding of where in the bar the next event
starts (the durations of its voice since the last `BAR` or `VOICE_n`, in grid steps). The model can
then line the voices of a chorale up with each other, and a tune with its beats, without having to
add up durations itself. The position is derived from the tokens, so callers pass token ids only.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from transformers import GPT2Config, GPT2LMHeadModel

from models.music.vocab import METERS, Vocab, bar_steps

DEFAULT_SHAPE: dict[str, int] = {"n_layer": 4, "n_head": 4, "n_embd": 192, "n_positions": 512}
# positions 0 .. the longest bar (a full bar of 3/2, 6/4 or 12/8 ends at 72 steps)
BAR_POSITIONS = max(bar_steps(m) for m in METERS) + 1


def position_tables(vocab: Vocab) -> tuple[torch.Tensor, torch.Tensor]:
    """Per id: its duration in steps, and whether it restarts the bar clock (BOS, BAR, VOICE_n)."""
    durations = torch.tensor(vocab.duration, dtype=torch.long)
    restarts = torch.zeros(len(vocab), dtype=torch.bool)
    restarts[[vocab.bos, vocab.bar, *vocab.voice_ids]] = True
    return durations, restarts


def bar_positions(ids: torch.Tensor, durations: torch.Tensor, restarts: torch.Tensor) -> torch.Tensor:
    """For each token of each row, where in the bar the next event starts (clamped to the table)."""
    elapsed = durations[ids].cumsum(-1)
    at_restart = torch.where(restarts[ids], elapsed, torch.zeros_like(elapsed))
    since = elapsed - at_restart.cummax(-1).values
    return since.clamp(max=BAR_POSITIONS - 1)


class MetricalGPT2(GPT2LMHeadModel):
    """GPT-2 whose input embedding adds the token's metrical position (see the module doc)."""

    def __init__(self, config: GPT2Config) -> None:
        super().__init__(config)
        self.bar_position = torch.nn.Embedding(config.bar_positions, config.n_embd)
        torch.nn.init.normal_(self.bar_position.weight, std=config.initializer_range)
        if len(Vocab()) != config.vocab_size:
            raise ValueError("the model's vocabulary size does not match this version of the code")
        # built on first use, per device (from_pretrained builds modules on the meta device)
        self._tables: dict[torch.device, tuple[torch.Tensor, torch.Tensor]] = {}

    def _position_tables(self, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        if device not in self._tables:
            durations, restarts = position_tables(Vocab())
            self._tables[device] = (durations.to(device), restarts.to(device))
        return self._tables[device]

    def forward(self, input_ids: torch.Tensor | None = None, **kwargs: Any) -> Any:  # type: ignore[override]
        if input_ids is None or kwargs.get("inputs_embeds") is not None:
            return super().forward(input_ids=input_ids, **kwargs)
        positions = bar_positions(input_ids, *self._position_tables(input_ids.device))
        embeds = self.transformer.wte(input_ids) + self.bar_position(positions)
        return super().forward(inputs_embeds=embeds, **kwargs)


def build_config(vocab: Vocab, **shape: int) -> GPT2Config:
    """A GPT-2 config for the vocabulary (tied input/output embeddings)."""
    dims = {**DEFAULT_SHAPE, **shape}
    config = GPT2Config(
        vocab_size=len(vocab),
        n_positions=dims["n_positions"],
        n_embd=dims["n_embd"],
        n_layer=dims["n_layer"],
        n_head=dims["n_head"],
        n_inner=4 * dims["n_embd"],
        bos_token_id=vocab.bos,
        eos_token_id=vocab.eos,
        pad_token_id=vocab.pad,
        resid_pdrop=0.1,
        embd_pdrop=0.1,
        attn_pdrop=0.1,
        tie_word_embeddings=True,
    )
    config.bar_positions = BAR_POSITIONS  # saved in config.json; load_model picks MetricalGPT2 by it
    return config


def build_model(vocab: Vocab, seed: int = 0, **shape: int) -> GPT2LMHeadModel:
    torch.manual_seed(seed)
    return MetricalGPT2(build_config(vocab, **shape))


def load_model(folder: Path) -> GPT2LMHeadModel:
    """The trained model from a weights folder (config.json + model.safetensors).

    Weights saved without the metrical-position embedding load as a plain GPT-2.
    """
    config = GPT2Config.from_pretrained(str(folder))
    kind = MetricalGPT2 if getattr(config, "bar_positions", None) else GPT2LMHeadModel
    model = kind.from_pretrained(str(folder))
    model.eval()
    return model


def count_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


class LeanGPT2:
    """Inference-only GPT-2 forward with a preallocated KV cache (batch size 1)."""

    def __init__(self, model: GPT2LMHeadModel) -> None:
        config = model.config
        self.n_layer, self.n_head, self.n_embd = config.n_layer, config.n_head, config.n_embd
        self.head_dim = self.n_embd // self.n_head
        self.max_len = config.n_positions
        self.eps = config.layer_norm_epsilon
        state = {k: v.detach().float().contiguous() for k, v in model.state_dict().items()}
        self.wte = state["transformer.wte.weight"]
        self.wpe = state["transformer.wpe.weight"]
        self.layers: list[dict[str, torch.Tensor]] = []
        for i in range(self.n_layer):
            p = f"transformer.h.{i}."
            self.layers.append(
                {
                    name: state[p + name]
                    for name in (
                        "ln_1.weight",
                        "ln_1.bias",
                        "attn.c_attn.weight",
                        "attn.c_attn.bias",
                        "attn.c_proj.weight",
                        "attn.c_proj.bias",
                        "ln_2.weight",
                        "ln_2.bias",
                        "mlp.c_fc.weight",
                        "mlp.c_fc.bias",
                        "mlp.c_proj.weight",
                        "mlp.c_proj.bias",
                    )
                }
            )
        self.ln_f = (state["transformer.ln_f.weight"], state["transformer.ln_f.bias"])
        self.bar_position = state.get("bar_position.weight")
        durations, restarts = position_tables(Vocab())
        self.durations: list[int] = durations.tolist()
        self.restarts: list[bool] = restarts.tolist()
        shape = (self.n_layer, self.n_head, self.max_len, self.head_dim)
        self.keys = torch.zeros(shape)
        self.values = torch.zeros(shape)
        self.length = 0
        self.clock = 0  # steps of the current voice's bar before the next event

    def reset(self) -> None:
        self.length = 0
        self.clock = 0

    def _embed(self, ids: list[int], start: int) -> torch.Tensor:
        index = torch.tensor(ids)
        x = self.wte[index] + self.wpe[start : start + len(ids)]
        if self.bar_position is None:
            return x
        positions = []
        for token in ids:
            self.clock = 0 if self.restarts[token] else self.clock + self.durations[token]
            positions.append(min(self.clock, BAR_POSITIONS - 1))
        return x + self.bar_position[torch.tensor(positions)]

    @torch.inference_mode()
    def forward(self, ids: list[int]) -> torch.Tensor:
        """Append `ids` to the cache; the logits after the last of them (vocab,)."""
        n = len(ids)
        start = self.length
        if start + n > self.max_len:
            raise ValueError("context full: reset and re-prime with a shorter window")
        x = self._embed(ids, start)
        scale = 1.0 / math.sqrt(self.head_dim)
        mask = None
        if n > 1:
            mask = torch.ones(n, start + n, dtype=torch.bool).tril(diagonal=start)
        for i, layer in enumerate(self.layers):
            h = F.layer_norm(x, (self.n_embd,), layer["ln_1.weight"], layer["ln_1.bias"], self.eps)
            qkv = torch.addmm(layer["attn.c_attn.bias"], h, layer["attn.c_attn.weight"])
            q, k, v = qkv.view(n, 3, self.n_head, self.head_dim).permute(1, 2, 0, 3)
            self.keys[i, :, start : start + n] = k
            self.values[i, :, start : start + n] = v
            keys = self.keys[i, :, : start + n]
            values = self.values[i, :, : start + n]
            att = torch.matmul(q, keys.transpose(1, 2)) * scale
            if mask is not None:
                att = att.masked_fill(~mask, float("-inf"))
            out = torch.matmul(att.softmax(-1), values).transpose(0, 1).reshape(n, self.n_embd)
            x = x + torch.addmm(layer["attn.c_proj.bias"], out, layer["attn.c_proj.weight"])
            h = F.layer_norm(x, (self.n_embd,), layer["ln_2.weight"], layer["ln_2.bias"], self.eps)
            h = F.gelu(torch.addmm(layer["mlp.c_fc.bias"], h, layer["mlp.c_fc.weight"]), approximate="tanh")
            x = x + torch.addmm(layer["mlp.c_proj.bias"], h, layer["mlp.c_proj.weight"])
        self.length = start + n
        last = F.layer_norm(x[-1], (self.n_embd,), self.ln_f[0], self.ln_f[1], self.eps)
        return torch.mv(self.wte, last)


def save_training_record(folder: Path, record: dict[str, Any]) -> None:
    (folder / "training.json").write_text(json.dumps(record, indent=2))
