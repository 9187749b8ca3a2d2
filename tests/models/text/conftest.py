"""A tiny random Llama-style model and word-level tokenizer, saved to disk like a real checkpoint."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from config.settings import Settings, TextPreset, load_settings
from wire.contract import TextJob, TextOptions

WORDS = [
    "the",
    "a",
    "moon",
    "sea",
    "rain",
    "light",
    "night",
    "song",
    "river",
    "stone",
    "wind",
    "blue",
    "gold",
    "quiet",
    "slow",
    "bright",
    "dark",
    "falls",
    "sings",
    "dreams",
    "over",
    "under",
    "through",
    "and",
    "with",
    "of",
    "in",
    "on",
    "is",
    "was",
    "my",
    "your",
    "its",
    "old",
    "new",
    "poem",
    "story",
    "lyrics",
    "idea",
    "theme",
    "write",
    "about",
]
SPECIAL = ["<unk>", "<|im_start|>", "<|im_end|>"]
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|> {{ message['role'] }} {{ message['content'] }} <|im_end|> "
    "{% endfor %}{% if add_generation_prompt %}<|im_start|> assistant {% endif %}"
)


def build_tiny_model(folder: Path) -> Path:
    """Save a 2-layer random Llama and a word-level tokenizer with a chat template into `folder`.

    The model has no end-of-sequence token, so generation always runs to its token budget.
    """
    vocab = {token: index for index, token in enumerate(SPECIAL + WORDS + ["assistant", "user", "system"])}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    backend.decoder = decoders.WordPiece(prefix="##")  # joins words with single spaces
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        unk_token="<unk>",
        bos_token="<|im_start|>",
        pad_token="<|im_end|>",
        chat_template=CHAT_TEMPLATE,
    )
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        bos_token_id=vocab["<|im_start|>"],
        eos_token_id=None,
        pad_token_id=None,
        tie_word_embeddings=False,
    )
    model = LlamaForCausalLM(config)
    with torch.no_grad():  # logits spread wide enough that sampling really varies with the seed
        model.lm_head.weight.normal_(0.0, 0.3)
    model.generation_config.eos_token_id = None
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-llama"))


@pytest.fixture
def tiny_preset(tiny_model_dir: Path) -> TextPreset:
    return TextPreset(
        model=str(tiny_model_dir), max_new_tokens=48, threads=1, repetition_penalty=1.1, attempts=1
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(model_cache_dir=tmp_path / "model-cache")


@pytest.fixture
def make_job() -> Callable[..., TextJob]:
    def make(**options: object) -> TextJob:
        fields: dict[str, object] = {"kind": "poem", "prompt": "the moon over the sea", "seed": 7}
        fields.update(options)
        return TextJob(options=TextOptions.model_validate(fields))

    return make
