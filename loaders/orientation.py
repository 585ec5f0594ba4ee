"""One orientation for every loader and store: the upright frame, as a player displays it.

Phones record in the sensor's orientation and store a display matrix that says how to turn the
picture. torchcodec, OpenCV, decord and the ffmpeg command line apply it by default; PyAV hands
back the coded picture and says the angle in ``VideoFrame.rotation`` (degrees counterclockwise,
FFmpeg's convention), so the PyAV-based code (the pyav loader, the reference decode, the pyav
extractor) turns its frames here. Mirrored display matrices are not handled (FFmpeg's rotation
getter ignores the flip as well).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from loaders.errors import UnsupportedVideo


def quarter_turns(rotation: float, path: str) -> int:
    """Counterclockwise quarter turns for a display-matrix rotation in degrees (0, 90, 180, 270)."""
    degrees = round(rotation) % 360
    if degrees % 90:
        raise UnsupportedVideo(path, f"its display matrix rotates by {rotation:g} degrees; only multiples of 90 are")
    return degrees // 90


def displayed_size(width: int, height: int, rotation: int) -> tuple[int, int]:
    """(width, height) of a coded ``width`` x ``height`` picture once turned by ``rotation`` degrees."""
    return (height, width) if rotation % 180 else (width, height)


def upright(rgb: np.ndarray, rotation: int) -> np.ndarray:
    """``(..., H, W, 3)`` coded pictures turned ``rotation`` degrees counterclockwise (views, not copies)."""
    turns = (rotation // 90) % 4
    return rgb if turns == 0 else np.rot90(rgb, turns, axes=(-3, -2))


def upright_rgb(frame: Any, path: str) -> np.ndarray:
    """A PyAV ``VideoFrame`` as a contiguous ``(H, W, 3)`` RGB array, turned upright."""
    rotation = 90 * quarter_turns(frame.rotation, path)
    return np.ascontiguousarray(upright(frame.to_ndarray(format="rgb24"), rotation))
