"""Audio (FluidSynth → OGG Vorbis with provenance comments) and a piano-roll PNG of a piece."""

from __future__ import annotations

import io
import logging
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pretty_midi
import soundfile as sf
from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo

log = logging.getLogger(__name__)

SAMPLE_RATE = 44100
SOUNDFONTS = ("/usr/share/sounds/sf2/FluidR3_GM.sf2",)
VOICE_COLOURS = ((230, 85, 60), (60, 140, 230), (70, 180, 110), (200, 150, 40), (160, 90, 200))


def soundfont_path() -> str | None:
    """FluidR3_GM if installed (or $ATELIER_SOUNDFONT), else the small font pretty_midi ships."""
    candidates = [os.environ.get("ATELIER_SOUNDFONT", ""), *SOUNDFONTS]
    for path in candidates:
        if path and Path(path).is_file():
            return path
    bundled = Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"
    return str(bundled) if bundled.is_file() else None


class Synth:
    """A FluidSynth instance with its soundfont loaded once (loading FluidR3 takes a while)."""

    _lock = threading.Lock()
    _shared: Synth | None = None

    def __init__(self) -> None:
        import fluidsynth  # pyfluidsynth; needs libfluidsynth

        self.path = soundfont_path()
        if self.path is None:
            raise RuntimeError("no soundfont found")
        self.synth = fluidsynth.Synth(samplerate=float(SAMPLE_RATE))
        self.sfid = self.synth.sfload(self.path)

    @classmethod
    def shared(cls) -> Synth | None:
        """The process-wide synth, or None when FluidSynth is not available."""
        with cls._lock:
            if cls._shared is None:
                try:
                    cls._shared = cls()
                except Exception as error:  # missing library or font: fall back to sine synthesis
                    log.warning("FluidSynth unavailable (%s); using pretty_midi's simple synthesis", error)
                    return None
            return cls._shared

    def render(self, midi: pretty_midi.PrettyMIDI) -> np.ndarray:
        with self._lock:
            return np.asarray(midi.fluidsynth(fs=SAMPLE_RATE, synthesizer=self.synth, sfid=self.sfid))


def render_audio(midi: pretty_midi.PrettyMIDI) -> tuple[np.ndarray, str]:
    """(mono float32 samples in −1..1, what rendered them)."""
    synth = Synth.shared()
    if synth is not None:
        audio, engine = synth.render(midi), f"FluidSynth ({Path(synth.path or '').name})"
    else:
        audio, engine = np.asarray(midi.synthesize(fs=SAMPLE_RATE)), "pretty_midi sine synthesis"
    peak = float(np.abs(audio).max()) if audio.size else 0.0
    if peak > 0:
        audio = audio / peak * 0.9
    tail = np.zeros(SAMPLE_RATE // 2)
    return np.concatenate([audio, tail]).astype(np.float32), engine


def ogg_bytes(audio: np.ndarray, comments: dict[str, str]) -> bytes:
    """OGG Vorbis of the samples, written in one-second blocks, with title/comment/software tags."""
    buffer = io.BytesIO()
    buffer.name = "tune.ogg"
    with sf.SoundFile(
        buffer, mode="w", samplerate=SAMPLE_RATE, channels=1, format="OGG", subtype="VORBIS"
    ) as out:
        for key, value in comments.items():
            setattr(out, key, value)
        for start in range(0, len(audio), SAMPLE_RATE):
            out.write(audio[start : start + SAMPLE_RATE])
    return buffer.getvalue()


def _font(size: int) -> Any:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:
        return ImageFont.load_default()


def piano_roll_png(
    voices: list[list[tuple[float, float, int]]],
    *,
    bar_seconds: float,
    title: str,
    subtitle: str,
    text_meta: dict[str, str],
    names: list[str] | None = None,
    mark_seconds: float | None = None,
    first_bar_seconds: float = 0.0,
    part_marks: list[tuple[float, str]] | None = None,
) -> bytes:
    """A piano roll: one colour per voice, bar lines and numbers, pitch names, a title line.

    `first_bar_seconds`: where bar 1 starts (after an upbeat); `part_marks`: (seconds, label) of each
    part of the tune's form, drawn as a band above the roll."""
    notes = [n for v in voices for n in v]
    end = max((s + d for s, d, _ in notes), default=1.0)
    lo = min((p for _, _, p in notes), default=60) - 2
    hi = max((p for _, _, p in notes), default=72) + 2
    left, top, right, bottom = 56, 70, 24, 40
    width = int(min(2400, max(900, end * 40))) + left + right
    row = max(5, min(14, 560 // (hi - lo + 1)))
    height = top + row * (hi - lo + 1) + bottom
    image = Image.new("RGB", (width, height), (250, 250, 247))
    draw = ImageDraw.Draw(image)
    scale = (width - left - right) / end
    for pitch in range(lo, hi + 1):
        y = top + (hi - pitch) * row
        if pitch % 12 in (1, 3, 6, 8, 10):
            draw.rectangle([left, y, width - right, y + row], fill=(238, 238, 233))
        if pitch % 12 == 0:
            draw.line([left, y + row, width - right, y + row], fill=(205, 205, 200))
            draw.text((6, y + row - 12), f"C{pitch // 12 - 1}", fill=(90, 90, 90), font=_font(11))
    bar = 0
    time = first_bar_seconds
    while time <= end + 1e-6:
        x = left + time * scale
        draw.line([x, top, x, height - bottom], fill=(150, 150, 150), width=1)
        if bar % 4 == 0 and time < end - 1e-6:
            draw.text((x + 3, height - bottom + 4), str(bar + 1), fill=(90, 90, 90), font=_font(12))
        bar += 1
        time = first_bar_seconds + bar * bar_seconds
    for index, (start, label) in enumerate(part_marks or []):
        x = left + start * scale
        stop = part_marks[index + 1][0] if part_marks and index + 1 < len(part_marks) else end
        shade = (225, 232, 245) if index % 2 == 0 else (240, 228, 215)
        draw.rectangle([x, top - 14, left + stop * scale, top - 2], fill=shade)
        draw.line([x, top - 14, x, height - bottom], fill=(60, 60, 60), width=2)
        draw.text((x + 4, top - 14), label, fill=(30, 30, 30), font=_font(11))
    if mark_seconds:
        x = left + mark_seconds * scale
        draw.line([x, top, x, height - bottom], fill=(230, 85, 60), width=3)
        draw.text((x + 5, top - 16), "continuation", fill=(230, 85, 60), font=_font(12))
    for index, voice in enumerate(voices):
        colour = VOICE_COLOURS[index % len(VOICE_COLOURS)]
        for start, duration, pitch in voice:
            y = top + (hi - pitch) * row
            x0, x1 = left + start * scale, left + (start + duration) * scale
            draw.rectangle(
                [x0 + 1, y + 1, max(x0 + 2, x1 - 1), y + row - 1], fill=colour, outline=(40, 40, 40)
            )
    draw.text((left, 12), title, fill=(20, 20, 20), font=_font(22))
    draw.text((left, 42), subtitle, fill=(80, 80, 80), font=_font(13))
    if names:
        x = width - right
        for index, name in reversed(list(enumerate(names))):
            label_w = int(draw.textlength(name, font=_font(13))) + 22
            x -= label_w
            draw.rectangle([x, 46, x + 12, 58], fill=VOICE_COLOURS[index % len(VOICE_COLOURS)])
            draw.text((x + 16, 44), name, fill=(60, 60, 60), font=_font(13))
    info = PngInfo()
    for key, value in text_meta.items():
        info.add_text(key, value)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=info, optimize=False)
    return buffer.getvalue()
