"""Train the music transformer on the cached dataset: `python -m models.music.train`.

Deterministic: seeded initialisation, seeded batch order, fixed number of epochs (a wall-clock cap
only stops early and is then recorded). Saves model.safetensors, config.json, vocab.json and
training.json into the weights folder.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import random
import time
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel

from models.music.data import Example, load, summary
from models.music.model import DEFAULT_SHAPE, build_model, count_parameters, load_model, save_training_record
from models.music.vocab import Vocab

log = logging.getLogger(__name__)

WEIGHTS_DIR = Path(__file__).parent / "weights"


@dataclass
class TrainConfig:
    epochs: float = 2.0
    lr: float = 1e-3
    min_lr: float = 1e-4
    warmup_steps: int = 100
    weight_decay: float = 0.01
    batch_tokens: int = 4096
    seed: int = 1234
    threads: int = 2
    max_minutes: float | None = None
    eval_every: int = 200
    shape: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_SHAPE))
    init_from: str | None = None  # continue from these weights (a second, lower-lr stage)
    device: str = "cpu"
    voices_above: bool = False  # new weights get the voices-above embedding (`make train-music` sets it)
    balance: float | None = None  # each epoch draws styles in proportion to (sequences) ** balance


def windows(ids: Sequence[int], vocab: Vocab, limit: int) -> list[list[int]]:
    """A piece as training sequences of at most `limit` tokens: control prefix + bar-aligned chunks."""
    if len(ids) <= limit:
        return [list(ids)]
    prefix, body = list(ids[:4]), list(ids[4:])
    bar_positions = [i for i, t in enumerate(body) if t == vocab.bar]
    size = limit - len(prefix)
    out: list[list[int]] = []
    start = 0
    while True:
        chunk = body[start : start + size]
        out.append(prefix + chunk)
        if start + size >= len(body):
            break
        target = start + (3 * size) // 4
        start = max((b for b in bar_positions if start < b <= target), default=start + size)
    return out


def balanced(seqs: list[list[int]], styles: list[str], power: float, rng: random.Random) -> list[list[int]]:
    """One epoch's sequences with each style's share in proportion to its sequence count ** `power`.

    The epoch keeps the same number of sequences; a style above its share is subsampled, one below it
    repeats its sequences (each at least once before any twice). `power` 1 is the data as it is, 0
    every style equal.
    """
    by_style: dict[str, list[list[int]]] = {}
    for seq, style in zip(seqs, styles, strict=True):
        by_style.setdefault(style, []).append(seq)
    weights = {style: len(group) ** power for style, group in sorted(by_style.items())}
    total = sum(weights.values())
    out: list[list[int]] = []
    for style, weight in weights.items():
        group, want = by_style[style], round(len(seqs) * weight / total)
        whole, part = divmod(want, len(group))
        out += group * whole + rng.sample(group, part)
    return out


def make_batches(seqs: list[list[int]], batch_tokens: int, rng: random.Random) -> list[list[list[int]]]:
    """Group sequences of similar length so that each padded batch stays under `batch_tokens`."""
    order = sorted(range(len(seqs)), key=lambda i: (len(seqs[i]), rng.random()))
    batches: list[list[list[int]]] = []
    current: list[list[int]] = []
    for i in order:
        longest = max([len(seqs[i])] + [len(s) for s in current])
        if current and longest * (len(current) + 1) > batch_tokens:
            batches.append(current)
            current = []
        current.append(seqs[i])
    if current:
        batches.append(current)
    rng.shuffle(batches)
    return batches


def collate(
    batch: list[list[int]], pad: int, device: str = "cpu"
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(input ids, attention mask, labels with -100 on padding)."""
    width = max(len(s) for s in batch)
    ids = torch.full((len(batch), width), pad, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for row, seq in enumerate(batch):
        ids[row, : len(seq)] = torch.tensor(seq)
        mask[row, : len(seq)] = 1
    labels = ids.masked_fill(mask == 0, -100)
    return ids.to(device), mask.to(device), labels.to(device)


@torch.no_grad()
def mean_nll(
    model: torch.nn.Module, seqs: list[list[int]], pad: int, batch_tokens: int = 8192, device: str = "cpu"
) -> float:
    """Mean negative log-likelihood per predicted token (nats) of `seqs`."""
    model.eval()
    total, count = 0.0, 0
    for batch in make_batches(seqs, batch_tokens, random.Random(0)):
        ids, mask, labels = collate(batch, pad, device)
        logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1]
        target = labels[:, 1:]
        loss = torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), target.reshape(-1), ignore_index=-100, reduction="sum"
        )
        total += float(loss)
        count += int((target != -100).sum())
    model.train()
    return total / max(count, 1)


def hardware(config: TrainConfig) -> str:
    """What the run trained on, for the training record."""
    if config.device.startswith("cuda"):
        return torch.cuda.get_device_name(torch.device(config.device))
    return f"CPU, {config.threads} threads"


def train(examples: list[Example], config: TrainConfig, out_dir: Path) -> dict[str, Any]:
    """Train on the examples' train split, validate on their validation split, save to `out_dir`."""
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(config.threads)
    on_gpu = config.device.startswith("cuda")
    if on_gpu:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS
    # should any op lack a deterministic CUDA kernel, it warns there instead of stopping the run
    torch.use_deterministic_algorithms(True, warn_only=on_gpu)
    # on the GPU, the memory-efficient attention kernels' backward pass is not deterministic
    kernels = sdpa_kernel(SDPBackend.MATH) if on_gpu else nullcontext()
    try:
        with kernels:
            return _train(examples, config, out_dir)
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)


def _train(examples: list[Example], config: TrainConfig, out_dir: Path) -> dict[str, Any]:
    torch.manual_seed(config.seed)
    vocab = Vocab()
    model = build_model(vocab, seed=config.seed, voices_above=config.voices_above, **config.shape)
    if config.init_from:
        model = load_model(Path(config.init_from))
        # the record says what the continued model has, whatever the flag of this call
        config = replace(config, voices_above=bool(getattr(model.config, "upper_gaps", None)))
    model.to(torch.device(config.device))  # type: ignore[arg-type]  # transformers' stub wraps `to`
    model.train()
    limit = model.config.n_positions
    train_windows = [
        (w, e.style) for e in examples if e.split == "train" for w in windows(e.ids, vocab, limit)
    ]
    train_seqs = [w for w, _ in train_windows]
    train_styles = [style for _, style in train_windows]
    val_seqs = [w for e in examples if e.split == "validation" for w in windows(e.ids, vocab, limit)]
    rng = random.Random(config.seed)
    per_epoch = len(make_batches(train_seqs, config.batch_tokens, random.Random(0)))
    total_steps = max(1, math.ceil(per_epoch * config.epochs))
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay, betas=(0.9, 0.98)
    )

    def lr_at(step: int) -> float:
        if step < config.warmup_steps:
            return config.lr * (step + 1) / config.warmup_steps
        progress = (step - config.warmup_steps) / max(1, total_steps - config.warmup_steps)
        return config.min_lr + 0.5 * (config.lr - config.min_lr) * (
            1 + math.cos(math.pi * min(progress, 1.0))
        )

    log.info("%d params, %d train sequences, %d steps", count_parameters(model), len(train_seqs), total_steps)
    model.train()
    started = time.monotonic()
    step, tokens_seen, stopped_early = 0, 0, False
    history: list[dict[str, float]] = []
    while step < total_steps and not stopped_early:
        epoch = (
            train_seqs if config.balance is None else balanced(train_seqs, train_styles, config.balance, rng)
        )
        for batch in make_batches(epoch, config.batch_tokens, rng):
            if step >= total_steps:
                break
            for group in optimizer.param_groups:
                group["lr"] = lr_at(step)
            ids, mask, labels = collate(batch, vocab.pad, config.device)
            loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            step += 1
            tokens_seen += int(mask.sum())
            elapsed = time.monotonic() - started
            if step % 50 == 0:
                log.info(
                    "step %d/%d loss %.3f %.0f tok/s",
                    step,
                    total_steps,
                    float(loss.detach()),
                    tokens_seen / elapsed,
                )
            if val_seqs and (step % config.eval_every == 0 or step == total_steps):
                history.append(
                    {
                        "step": step,
                        "train_loss": float(loss.detach()),
                        "val_nll": mean_nll(model, val_seqs, vocab.pad, device=config.device),
                        "minutes": elapsed / 60,
                    }
                )
                log.info("validation %s", history[-1])
            if config.max_minutes is not None and elapsed > config.max_minutes * 60:
                stopped_early = True
                break
    elapsed = time.monotonic() - started
    out_dir.mkdir(parents=True, exist_ok=True)
    final_val_nll = mean_nll(model, val_seqs, vocab.pad, device=config.device) if val_seqs else None
    model.to(torch.device("cpu"))  # type: ignore[arg-type]
    model.save_pretrained(str(out_dir), safe_serialization=True)
    vocab.save(out_dir / "vocab.json")
    record: dict[str, Any] = {
        "parameters": count_parameters(model),
        "steps": step,
        "planned_steps": total_steps,
        "stopped_early": stopped_early,
        "train_tokens_seen": tokens_seen,
        "train_sequences": len(train_seqs),
        "minutes": round(elapsed / 60, 2),
        "hardware": hardware(config),
        "tokens_per_second": round(tokens_seen / elapsed),
        "final_val_nll": final_val_nll,
        "history": history,
        "config": asdict(config),
        "dataset": summary(examples),
    }
    save_training_record(out_dir, record)
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=WEIGHTS_DIR)
    parser.add_argument("--epochs", type=float, default=TrainConfig.epochs)
    parser.add_argument("--max-minutes", type=float, default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--layers", type=int, default=DEFAULT_SHAPE["n_layer"])
    parser.add_argument("--embd", type=int, default=DEFAULT_SHAPE["n_embd"])
    parser.add_argument("--lr", type=float, default=TrainConfig.lr)
    parser.add_argument("--min-lr", type=float, default=TrainConfig.min_lr)
    parser.add_argument("--warmup", type=int, default=TrainConfig.warmup_steps)
    parser.add_argument("--init-from", type=Path, default=None, help="continue training these weights")
    parser.add_argument("--device", default="cpu", help="cpu, or cuda where a GPU is present")
    parser.add_argument(
        "--balance",
        type=float,
        default=None,
        help="draw each epoch's styles in proportion to their sequence counts to this power (0: equal)",
    )
    parser.add_argument(
        "--voices-above", action="store_true", help="add the voices-above embedding (see the model card)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    shape = {**DEFAULT_SHAPE, "n_layer": args.layers, "n_embd": args.embd}
    config = TrainConfig(
        epochs=args.epochs,
        max_minutes=args.max_minutes,
        threads=args.threads,
        shape=shape,
        lr=args.lr,
        min_lr=args.min_lr,
        warmup_steps=args.warmup,
        init_from=str(args.init_from) if args.init_from else None,
        device=args.device,
        voices_above=args.voices_above,
        balance=args.balance,
    )
    record = train(load(), config, args.out)
    print(json.dumps({k: v for k, v in record.items() if k not in ("history", "dataset")}, indent=2))


if __name__ == "__main__":
    main()
