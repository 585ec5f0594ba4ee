"""Verify before timing: a loader's frames are compared with the reference decode.

A frame is right when it is close to the reference frame at its index (lossy stores and other
colour conversions differ a little) and no closer to a neighbouring frame: a loader that is
off by one frame is wrong however small the difference. ``exact`` says every compared pixel matched.

A right frame that is not exact carries its difference (largest and mean, 0-255): a decode loader
or a lossless store differs only by how its library converts YUV to RGB (10-bit video, odd sizes
and ffv1 or mpeg4 show it most: up to 60-138 levels on a few pixels, a few levels on average);
a JPEG store adds its compression. :meth:`Verdict.label` says which, so a record can carry it.
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
    max_diff: int = 0  # largest difference of a compared pixel value from the reference (0-255)
    mean_diff: float = 0.0  # largest mean absolute difference of a compared frame

    def label(self, lossy: bool = False) -> str:
        """"exact", "wrong: why", or the right frame with its difference and where it comes from.

        ``lossy``: the frames come from a JPEG store, whose compression adds to the difference.
        """
        if self.wrong is not None:
            return f"wrong: {self.wrong}"
        if self.exact:
            return "exact"
        cause = "lossy store" if lossy else "different colour conversion"
        return f"right frame, {cause} (max difference {self.max_diff}, mean {self.mean_diff:.2f})"

    def merge(self, other: Verdict) -> Verdict:
        """One verdict for two sets of frames: the first wrong one, else the worst differences."""
        if self.wrong is not None:
            return self
        if other.wrong is not None:
            return other
        return Verdict(self.exact and other.exact, None, max(self.max_diff, other.max_diff),
                       max(self.mean_diff, other.mean_diff))


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
    worst, worst_mean = 0, 0.0
    for frame, i in zip(got, indices, strict=True):
        i = int(i)
        mine = frame[::_STEP, ::_STEP].astype(np.int16)
        if mine.shape != ref[i].shape:
            return Verdict(False, f"frame {i} has size {frame.shape[1]}x{frame.shape[0]}, the reference "
                                  f"{ref[i].shape[1] * _STEP}x{ref[i].shape[0] * _STEP} (about)")
        diff = np.abs(mine - ref[i])
        err = float(diff.mean())
        worst, worst_mean = max(worst, int(diff.max())), max(worst_mean, err)
        if err > TOLERANCE:
            return Verdict(False, f"frame {i} differs from the reference by {err:.1f} on average "
                                  f"(tolerance {TOLERANCE})")
        for j in (i - 1, i + 1):
            if j in ref and (other := float(np.abs(mine - ref[j]).mean())) < err:
                return Verdict(False, f"frame {i} is closer to reference frame {j} ({other:.1f}) "
                                      f"than to frame {i} ({err:.1f})")
    return Verdict(worst == 0, None, worst, worst_mean)
