"""blind-watermark 0.4.4 itself, imported quietly: the reference that `dwt_svd` is checked against.

The library sets the multiprocessing start method to "fork" and prints a banner; this module imports
it with both suppressed and runs it single-process ("common" mode), which is deterministic.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import threading
from types import ModuleType
from typing import Any

import numpy as np

_lock = threading.Lock()
_module: ModuleType | None = None


def library() -> ModuleType:
    """blind_watermark, imported without touching the global multiprocessing start method or stdout."""
    global _module
    with _lock:
        if _module is None:
            original = multiprocessing.set_start_method
            multiprocessing.set_start_method = lambda *args, **kwargs: None  # type: ignore[assignment]
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    import blind_watermark
            finally:
                multiprocessing.set_start_method = original  # type: ignore[method-assign]
            blind_watermark.bw_notes.close()
            _module = blind_watermark
        return _module


def _marker(password_img: int, password_wm: int) -> Any:
    return library().WaterMark(password_wm=password_wm, password_img=password_img, mode="common")


def embed(bgr: np.ndarray, bits: np.ndarray, password_img: int, password_wm: int) -> np.ndarray:
    """The library's embed of `bits` into a BGR image: float BGR clipped to 0..255."""
    marker = _marker(password_img, password_wm)
    marker.read_img(img=bgr)
    marker.read_wm(np.asarray(bits, dtype=bool), mode="bit")
    return np.asarray(marker.embed())


def extract(bgr: np.ndarray, count: int, password_img: int, password_wm: int) -> np.ndarray:
    """The library's soft read of `count` bits from a BGR image."""
    marker = _marker(password_img, password_wm)
    marker.wm_size = count
    soft = marker.bwm_core.extract(img=bgr.astype(np.float32), wm_shape=count)
    return np.asarray(marker.extract_decrypt(wm_avg=soft))
