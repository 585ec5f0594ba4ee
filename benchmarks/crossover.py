"""When does extraction pay for itself?

After ``k`` epochs, decoding on the fly has cost ``k * T_decode`` and extracting once has cost
``X + k * T_frames``. The two are equal at ``k* = X / (T_decode - T_frames)``; extraction pays
after that many epochs when reading frames is faster than decoding, and never otherwise.
"""

from __future__ import annotations

import math


def crossover_epochs(extract_seconds: float, epoch_decode: float, epoch_frames: float) -> float | None:
    """Epochs after which extraction has paid for itself; ``None`` when it never does.

    Equal epoch times never pay back a positive extraction cost; a free extraction pays at once
    (0) when frames are faster, and never otherwise.
    """
    for name, value in (("extract_seconds", extract_seconds), ("epoch_decode", epoch_decode),
                        ("epoch_frames", epoch_frames)):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite, non-negative number of seconds, got {value!r}")
    saving = epoch_decode - epoch_frames
    if saving <= 0:
        return None
    return extract_seconds / saving


def cumulative(extract_seconds: float, epoch_decode: float, epoch_frames: float,
               epochs: int) -> tuple[list[float], list[float]]:
    """Total seconds after 1..epochs epochs: (decoding on the fly, extracting first)."""
    decode = [k * epoch_decode for k in range(1, epochs + 1)]
    frames = [extract_seconds + k * epoch_frames for k in range(1, epochs + 1)]
    return decode, frames
