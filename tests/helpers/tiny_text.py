"""A tiny random Llama-style chat model, built in the test run (no hub): a real model for pipeline tests."""

from __future__ import annotations

from pathlib import Path

WORDS = [
    "rain",
    "falls",
    "soft",
    "on",
    "the",
    "old",
    "roof",
    "wind",
    "sings",
    "low",
    "through",
    "pines",
    "light",
    "fades",
    "gold",
    "over",
    "hills",
    "night",
    "comes",
    "slow",
    "river",
    "runs",
    "cold",
    "stone",
    "and",
    "moss",
    "moon",
    "rises",
    "bright",
    "stars",
    "wake",
    "field",
    "of",
    "wheat",
    "bird",
    "calls",
    "door",
    "opens",
    "song",
    "begins",
    "bell",
    "rings",
    "far",
    "away",
    "snow",
    "drifts",
    "the",
    "lantern",
    "glows",
    "ember",
    "warms",
    "heart",
]
SPECIALS = ["[UNK]", "<|end|>", "<|system|>", "<|user|>", "<|assistant|>"]
CHAT_TEMPLATE = (
    "{% for message in messages %}<|{{ message['role'] }}|> {{ message['content'] }} <|end|> {% endfor %}"
    "{% if add_generation_prompt %}<|assistant|> {% endif %}"
)


def build_tiny_text_model(
    folder: Path, *, hidden: int = 64, layers: int = 2, never_stop: bool = True
) -> Path:
    """Save a tiny LlamaForCausalLM + tokenizer to `folder`; with never_stop it runs to max_new_tokens."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    vocab = {token: i for i, token in enumerate(SPECIALS + sorted(set(WORDS)))}
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    core.decoder = decoders.WordPiece(prefix="##")
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core,
        unk_token="[UNK]",
        eos_token="<|end|>",
        pad_token="<|end|>",
        bos_token="<|system|>",
    )
    tokenizer.add_special_tokens({"additional_special_tokens": SPECIALS[2:]})
    tokenizer.chat_template = CHAT_TEMPLATE
    config = LlamaConfig(
        vocab_size=len(vocab),
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        eos_token_id=vocab["<|end|>"],
        bos_token_id=vocab["<|system|>"],
        pad_token_id=vocab["<|end|>"],
        tie_word_embeddings=False,
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(config)
    if never_stop:
        with torch.no_grad():
            model.lm_head.weight.mul_(50.0)
            for special in SPECIALS:
                model.lm_head.weight[vocab[special]] = 0.0
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
