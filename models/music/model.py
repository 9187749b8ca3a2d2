"""The network: a small GPT-2 (transformers) and a lean KV-cache forward for fast sampling on CPU.

`transformers` builds and trains the model; at generation time `LeanGPT2` runs the same weights with a
preallocated key/value cache and no per-step framework overhead (about 10× fewer Python calls than
`generate`), which is what makes a 32-bar tune fit the 3-second budget on two cores.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from transformers import GPT2Config, GPT2LMHeadModel

from models.music.vocab import Vocab

DEFAULT_SHAPE: dict[str, int] = {"n_layer": 4, "n_head": 4, "n_embd": 192, "n_positions": 512}


def build_config(vocab: Vocab, **shape: int) -> GPT2Config:
    """A GPT-2 config for the vocabulary (tied input/output embeddings)."""
    dims = {**DEFAULT_SHAPE, **shape}
    return GPT2Config(
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


def build_model(vocab: Vocab, seed: int = 0, **shape: int) -> GPT2LMHeadModel:
    torch.manual_seed(seed)
    return GPT2LMHeadModel(build_config(vocab, **shape))


def load_model(folder: Path) -> GPT2LMHeadModel:
    """The trained model from a weights folder (config.json + model.safetensors)."""
    model = GPT2LMHeadModel.from_pretrained(str(folder))
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
        shape = (self.n_layer, self.n_head, self.max_len, self.head_dim)
        self.keys = torch.zeros(shape)
        self.values = torch.zeros(shape)
        self.length = 0

    def reset(self) -> None:
        self.length = 0

    @torch.inference_mode()
    def forward(self, ids: list[int]) -> torch.Tensor:
        """Append `ids` to the cache; the logits after the last of them (vocab,)."""
        n = len(ids)
        start = self.length
        if start + n > self.max_len:
            raise ValueError("context full: reset and re-prime with a shorter window")
        x = self.wte[torch.tensor(ids)] + self.wpe[start : start + n]
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
