"""A tiny randomly initialised Stable Diffusion pipeline, built offline and saved to a folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable-unicode-character table."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    codes = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            codes.append(256 + extra)
            extra += 1
    return dict(zip(printable, map(chr, codes), strict=True))


def write_tokenizer_files(folder: Path) -> tuple[Path, Path]:
    """A byte-level CLIP vocabulary (each byte symbol with and without </w>) and an empty merges file."""
    folder.mkdir(parents=True, exist_ok=True)
    symbols = list(bytes_to_unicode().values())
    tokens = symbols + [s + "</w>" for s in symbols] + ["<|startoftext|>", "<|endoftext|>"]
    vocab = folder / "vocab.json"
    vocab.write_text(json.dumps({token: i for i, token in enumerate(tokens)}), encoding="utf-8")
    merges = folder / "merges.txt"
    merges.write_text("#version: 0.2\n", encoding="utf-8")
    return vocab, merges


def build_pipeline(folder: Path, *, with_safety_checker: bool = False, image_size: int = 64) -> Path:
    """Save a tiny StableDiffusionPipeline (2-layer text encoder) to `folder`.

    `image_size` 64 (the default): a VAE that halves the image once, for 64x64 pictures.
    `image_size` 512 (the smallest size `/imagine` offers): a VAE that divides by 8, as Stable
    Diffusion's does, so the UNet works on 64x64 latents and a 512x512 picture takes about a second
    on a CPU; its decoder's output layer is damped, so the pictures are smooth and their PNGs a
    realistic few hundred KB (random weights would make incompressible noise)."""
    if image_size not in (64, 512):
        raise ValueError(f"image_size is 64 or 512, not {image_size}")
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    torch.manual_seed(0)
    source = folder.parent / (folder.name + "-tokenizer-files")
    write_tokenizer_files(source)
    tokenizer = CLIPTokenizer.from_pretrained(source, model_max_length=77)
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=len(tokenizer),
            hidden_size=32,
            intermediate_size=37,
            num_hidden_layers=2,
            num_attention_heads=4,
            projection_dim=32,
            max_position_embeddings=77,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
    )
    unet = UNet2DConditionModel(
        block_out_channels=(8, 16),
        layers_per_block=1,
        sample_size=32 if image_size == 64 else 64,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32,
        norm_num_groups=4,
        attention_head_dim=2,
    )
    if image_size == 64:
        vae = AutoencoderKL(
            block_out_channels=(8, 16),
            in_channels=3,
            out_channels=3,
            latent_channels=4,
            norm_num_groups=4,
            down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
            up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
            sample_size=64,
        )
    else:
        vae = AutoencoderKL(
            block_out_channels=(8, 8, 8, 8),
            in_channels=3,
            out_channels=3,
            latent_channels=4,
            norm_num_groups=4,
            down_block_types=("DownEncoderBlock2D",) * 4,
            up_block_types=("UpDecoderBlock2D",) * 4,
            sample_size=512,
            mid_block_add_attention=False,
        )
        damped: Any = vae  # diffusers does not type its modules' children
        with torch.no_grad():
            damped.decoder.conv_out.weight.mul_(0.02)
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", steps_offset=1
    )
    safety_checker, feature_extractor = (None, None)
    if with_safety_checker:
        safety_checker, feature_extractor = build_safety_checker()
    pipe: Any = StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=safety_checker,
        feature_extractor=feature_extractor,
        requires_safety_checker=with_safety_checker,
    )
    pipe.save_pretrained(folder)
    return folder


def build_safety_checker() -> tuple[object, object]:
    """A tiny StableDiffusionSafetyChecker and its CLIP image processor (32x32 input)."""
    from diffusers.pipelines.stable_diffusion.safety_checker import StableDiffusionSafetyChecker
    from transformers import CLIPConfig, CLIPImageProcessor

    config = CLIPConfig(
        text_config={
            "hidden_size": 32,
            "intermediate_size": 37,
            "num_hidden_layers": 1,
            "num_attention_heads": 4,
        },
        vision_config={
            "hidden_size": 32,
            "intermediate_size": 37,
            "num_hidden_layers": 1,
            "num_attention_heads": 4,
            "image_size": 32,
            "patch_size": 8,
        },
        projection_dim=32,
    )
    processor = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    return StableDiffusionSafetyChecker(config).eval(), processor
