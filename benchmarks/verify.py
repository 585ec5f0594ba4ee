"""Verify before timing: a loader's frames are compared with the reference decode.

A frame is right when it is close to the reference frame at its index (lossy stores and other
colour conversions differ a little) and no closer to a neighbouring frame: a loader that is
off by one frame is wrong however small the difference. ``exact`` says every compared pixel matched.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence

import numpy as np

from benchmarks.patterns import Sample
from loaders import reference

# Mean absolute difference (0-255 scale) a right frame may have: JPEG at quality 90 on grainy
# content stays near 3; a neighbouring frame of the textured corpus is well above this.
TOLERANCE = 8.0

# Compare every second pixel each way: as telling as the whole frame, a quarter of the work.
_STEP = 2


@dataclasses.dataclass(frozen=True)
class Verdict:
    exact: bool
    wrong: str | None  # why the loader is wrong; None when it is right


def reference_frames(video: str | os.PathLike[str], samples: Sequence[Sample],
                     num_frames: int) -> dict[int, np.ndarray]:
    """Reference frames (subsampled) for ``samples`` of one video: each index and its neighbours."""
    indices = {j for s in samples for i in s.indices for j in (i - 1, i, i + 1) if 0 <= j < num_frames}
    ref = reference.decode(video, indices)
    return {i: f[::_STEP, ::_STEP].astype(np.int16) for i, f in ref.frames.items()}


def check(got: np.ndarray, indices: Sequence[int], ref: dict[int, np.ndarray]) -> Verdict:
    """Compare a loader's ``(N, H, W, 3)`` answer for ``indices`` with the reference frames."""
    if got.ndim != 4 or got.shape[0] != len(indices) or got.shape[3] != 3 or got.dtype != np.uint8:
        return Verdict(False, f"returned shape {got.shape} {got.dtype} for {len(indices)} frames, "
                              "expected (N, H, W, 3) uint8")
    exact = True
    for frame, i in zip(got, indices, strict=True):
        i = int(i)
        mine = frame[::_STEP, ::_STEP].astype(np.int16)
        if mine.shape != ref[i].shape:
            return Verdict(False, f"frame {i} has size {frame.shape[1]}x{frame.shape[0]}, the reference "
                                  f"{ref[i].shape[1] * _STEP}x{ref[i].shape[0] * _STEP} (about)")
        err = float(np.abs(mine - ref[i]).mean())
        exact = exact and err == 0.0
        if err > TOLERANCE:
            return Verdict(False, f"frame {i} differs from the reference by {err:.1f} on average "
                                  f"(tolerance {TOLERANCE})")
        for j in (i - 1, i + 1):
            if j in ref and (other := float(np.abs(mine - ref[j]).mean())) < err:
                return Verdict(False, f"frame {i} is closer to reference frame {j} ({other:.1f}) "
                                      f"than to frame {i} ({err:.1f})")
    return Verdict(exact, None)
