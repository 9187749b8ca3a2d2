"""The network: a small GPT-2 (transformers) and a lean KV-cache forward for fast sampling on CPU.

`transformers` builds and trains the model; at generation time `LeanGPT2` runs the same weights with a
preallocated key/value cache and no per-step framework overhead (about 10× fewer Python calls than
`generate`), which is what makes a 32-bar tune fit the 3-second budget on two cores.

Metrical position: every input token also gets an embedding of where in the bar the next event
starts (the durations of its voice since the last `BAR` or `VOICE_n`, in grid steps). The model can
then line the voices of a chorale up with each other, and a tune with its beats, without having to
add up durations itself. The position is derived from the tokens, so callers pass token ids only.

Voices above (optional, `train --voices-above`): in a piece of several voices, written one bar at a
time and one voice after the other, every input token of a lower voice also gets an embedding of how
many steps ahead the voices already written in this bar next start an event (0 for the first voice and
for one-voice pieces). With it a lower voice can hold where the voices above hold, and move where they
move. Weights record whether they have it (config `upper_gaps`).
"""

from __future__ import annotations

import copy
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
# steps to the next event of the voices above: 1 .. the longest bar; 0 when there is no voice above
UPPER_GAPS = BAR_POSITIONS


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


class VoiceClock:
    """Reads tokens one by one; after each, where in the bar the next event starts and how many steps
    ahead the voices above (those already written in this bar) next start an event, or end the bar."""

    def __init__(self, vocab: Vocab) -> None:
        self.durations = list(vocab.duration)
        self.bar_lines = {vocab.bos, vocab.bar}
        self.voices = set(vocab.voice_ids)
        self.position = 0
        self.upper: list[int] = []  # sorted event starts (and the bar's end) of the voices above
        self.current: list[int] = []  # event starts of the voice being written

    def copy(self) -> VoiceClock:
        """An independent twin at the same state (as `BarGrammar.copy`)."""
        twin = copy.copy(self)
        twin.upper, twin.current = list(self.upper), list(self.current)
        return twin

    def step(self, token: int) -> tuple[int, int]:
        """Advance over `token`; (bar position, steps to the voices above's next event or 0)."""
        if token in self.bar_lines:
            self.position, self.upper, self.current = 0, [], []
        elif token in self.voices:
            if self.current:
                self.upper = sorted({*self.upper, *self.current, self.position})
            self.position, self.current = 0, []
        elif self.durations[token]:
            self.current.append(self.position)
            self.position += self.durations[token]
        ahead = next((start for start in self.upper if start > self.position), None)
        gap = 0 if ahead is None else min(ahead - self.position, UPPER_GAPS - 1)
        return min(self.position, BAR_POSITIONS - 1), gap


def upper_gaps(ids: torch.Tensor, vocab: Vocab) -> torch.Tensor:
    """VoiceClock's gaps for each token of each row of `ids` (batch, length)."""
    rows = []
    for row in ids.tolist():
        clock = VoiceClock(vocab)
        rows.append([clock.step(token)[1] for token in row])
    return torch.tensor(rows, dtype=torch.long, device=ids.device)


class MetricalGPT2(GPT2LMHeadModel):
    """GPT-2 whose input embedding adds the token's metrical position (see the module doc)."""

    def __init__(self, config: GPT2Config) -> None:
        super().__init__(config)
        self.bar_position = torch.nn.Embedding(config.bar_positions, config.n_embd)
        torch.nn.init.normal_(self.bar_position.weight, std=config.initializer_range)
        self.upper_gap: torch.nn.Embedding | None = None
        if getattr(config, "upper_gaps", None):
            self.upper_gap = torch.nn.Embedding(config.upper_gaps, config.n_embd)
            torch.nn.init.normal_(self.upper_gap.weight, std=config.initializer_range)
        self._vocab = Vocab()
        if len(self._vocab) != config.vocab_size:
            raise ValueError("the model's vocabulary size does not match this version of the code")
        # built on first use, per device (from_pretrained builds modules on the meta device)
        self._tables: dict[torch.device, tuple[torch.Tensor, torch.Tensor]] = {}

    def _position_tables(self, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        if device not in self._tables:
            durations, restarts = position_tables(self._vocab)
            self._tables[device] = (durations.to(device), restarts.to(device))
        return self._tables[device]

    def forward(self, input_ids: torch.Tensor | None = None, **kwargs: Any) -> Any:  # type: ignore[override]
        if input_ids is None or kwargs.get("inputs_embeds") is not None:
            return super().forward(input_ids=input_ids, **kwargs)
        positions = bar_positions(input_ids, *self._position_tables(input_ids.device))
        embeds = self.transformer.wte(input_ids) + self.bar_position(positions)
        if self.upper_gap is not None:
            embeds = embeds + self.upper_gap(upper_gaps(input_ids, self._vocab))
        return super().forward(inputs_embeds=embeds, **kwargs)


def build_config(vocab: Vocab, voices_above: bool = False, **shape: int) -> GPT2Config:
    """A GPT-2 config for the vocabulary (tied input/output embeddings); `voices_above` adds that
    embedding (see the module doc; the committed weights have it, see the card)."""
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
    if voices_above:
        config.upper_gaps = UPPER_GAPS
    return config


def build_model(vocab: Vocab, seed: int = 0, voices_above: bool = False, **shape: int) -> GPT2LMHeadModel:
    torch.manual_seed(seed)
    return MetricalGPT2(build_config(vocab, voices_above, **shape))


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
        self.upper_gap = state.get("upper_gap.weight")
        self.vocab = Vocab()
        shape = (self.n_layer, self.n_head, self.max_len, self.head_dim)
        self.keys = torch.zeros(shape)
        self.values = torch.zeros(shape)
        self.length = 0
        self.clock = VoiceClock(self.vocab)

    def reset(self) -> None:
        self.length = 0
        self.clock = VoiceClock(self.vocab)

    def checkpoint(self) -> tuple[int, VoiceClock]:
        """The state to come back to with `rewind` (the cache up to here is kept while nothing resets)."""
        return self.length, self.clock.copy()

    def rewind(self, checkpoint: tuple[int, VoiceClock]) -> None:
        self.length, clock = checkpoint
        self.clock = clock.copy()

    def _embed(self, ids: list[int], start: int) -> torch.Tensor:
        index = torch.tensor(ids)
        x = self.wte[index] + self.wpe[start : start + len(ids)]
        if self.bar_position is None:
            return x
        positions, gaps = zip(*(self.clock.step(token) for token in ids), strict=True)
        x = x + self.bar_position[torch.tensor(positions)]
        return x if self.upper_gap is None else x + self.upper_gap[torch.tensor(gaps)]

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
