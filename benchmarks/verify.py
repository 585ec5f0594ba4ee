"""Verify before timing: a loader's frames are compared with the reference decode.

A frame is right when it is close to the reference frame at its index (lossy stores and other
colour conversions differ a little) and no closer to a neighbouring frame: a loader that is
off by one frame is wrong however small the difference. ``exact`` says every compared pixel matched.

A right frame that is not exact carries its difference (largest and mean, 0-255): a decode loader
or a lossless store differs only by how its library converts YUV to RGB (10-bit video, odd sizes
and ffv1 or mpeg4 show it most: up to 60-138 levels on a few pixels, a few levels on average);
a JPEG store adds its compression. :meth:`Verdict.label` says which, so a record can carry it.

A store at training size (``size``) is compared with the reference decode resized by the same
filter (:func:`loaders.resize_frames`): "exact" then means exact at that size. A lossless resized
store is equal to it within :data:`loaders.resize.TOLERANCE` levels (cv2's area filter rounds
differently). A lossy store at training size (JPEG, or a transcoded H.264 video; both 4:2:0) is
compared on luma (:data:`LUMA`) within :data:`TOLERANCE`: subsampling the chroma again of a frame
shrunk to 64 pixels costs the textured test corpus 8-10 levels on average in RGB whatever the
quality (a transcode at CRF 18, or JPEG at 90), while its luma differs by 1.8-2.3. At full size the
chroma is subsampled as in the source, and lossy stores are compared in RGB as before (a transcode
at CRF 18 measures 1.5-2.7 mean, PSNR 34-39 dB).

The nearest-frame rule: a decode loader's or a lossless store's frame closer to a neighbouring
reference frame than to its own is wrong however small its error. A lossy store is judged by what
can be told apart: its frame is wrong only when it matches a neighbour clearly better than the
frame asked for, by more than :data:`LOSSY_MARGIN` of the store's own difference (the difference
from the neighbour it matches) and by :data:`LOSSY_MIN_GAP` levels at least. Consecutive frames of
a still scene (a static camera, light sensor noise) are closer to each other than the store's loss:
such neighbours are ties, not errors. Measured on generated clips (CRF 18 GOP 8 and JPEG q90, at
full size and at 256): right frames of a still with noise or a slow pan beat or tie their neighbours
(a neighbour at most 0.06 levels or 4% closer); a store shifted by one frame of a clip with motion
matches the neighbour by 1.4-11 times the store's own difference. Since the gap between two
distances is at most the distance between the two reference frames, a neighbour can only win when
it can be told apart from the frame asked for beyond the store's loss.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence

import numpy as np

from benchmarks.patterns import Sample
from loaders import reference
from loaders.resize import resize_frames

# Mean absolute difference (0-255 scale) a right frame may have: JPEG at quality 90 on grainy
# content stays near 3; a neighbouring frame of the textured corpus is well above this.
TOLERANCE = 8.0

# Compare every second pixel each way: as telling as the whole frame, a quarter of the work.
_STEP = 2

# A lossy store's frame is wrong when a neighbour matches it better by more than this share of the
# store's own difference, and by this many levels (0-255) at least: ties of a still scene stay right.
LOSSY_MARGIN = 0.5
LOSSY_MIN_GAP = 0.5

# BT.601 luma weights: a transcoded store is compared on Y, where H.264 keeps full resolution.
LUMA = np.array([0.299, 0.587, 0.114])


@dataclasses.dataclass(frozen=True)
class Verdict:
    exact: bool
    wrong: str | None  # why the loader is wrong; None when it is right
    max_diff: int = 0  # largest difference of a compared pixel value from the reference (0-255)
    mean_diff: float = 0.0  # largest mean absolute difference of a compared frame

    def label(self, lossy: bool = False, size: int | None = None) -> str:
        """"exact", "wrong: why", or the right frame with its difference and where it comes from.

        ``lossy``: the frames come from a JPEG store or a transcoded video, whose compression adds
        to the difference. ``size``: a store at training size, compared with the resized reference
        ("exact at size 256", "right frame at size 256, within tolerance ...").
        """
        if self.wrong is not None:
            return f"wrong: {self.wrong}"
        at = f" at size {size}" if size else ""
        if self.exact:
            return f"exact{at}"
        cause = "lossy store" if lossy else "different colour conversion"
        within = ", within tolerance" if size else ""
        return f"right frame{at}{within}, {cause} (max difference {self.max_diff}, mean {self.mean_diff:.2f})"

    def merge(self, other: Verdict) -> Verdict:
        """One verdict for two sets of frames: the first wrong one, else the worst differences."""
        if self.wrong is not None:
            return self
        if other.wrong is not None:
            return other
        return Verdict(self.exact and other.exact, None, max(self.max_diff, other.max_diff),
                       max(self.mean_diff, other.mean_diff))


def reference_frames(video: str | os.PathLike[str], samples: Sequence[Sample], num_frames: int,
                     size: int | None = None) -> dict[int, np.ndarray]:
    """Reference frames (subsampled) for ``samples`` of one video, each index and its neighbours,
    resized to store size ``size`` by :func:`loaders.resize_frames` (None: as decoded)."""
    return reference_sets(video, samples, num_frames, (size,))[size]


def reference_sets(video: str | os.PathLike[str], samples: Sequence[Sample], num_frames: int,
                   sizes: Sequence[int | None]) -> dict[int | None, dict[int, np.ndarray]]:
    """:func:`reference_frames` at every size of ``sizes`` (size -> index -> frame), decoded once."""
    indices = {j for s in samples for i in s.indices for j in (i - 1, i, i + 1) if 0 <= j < num_frames}
    ref = reference.decode(video, indices, until_last=True)
    return {size: {i: resize_frames(f, size)[::_STEP, ::_STEP].astype(np.int16) for i, f in ref.frames.items()}
            for size in sizes}


def check(got: np.ndarray, indices: Sequence[int], ref: dict[int, np.ndarray], luma: bool = False,
          lossy: bool = False) -> Verdict:
    """Compare a loader's ``(N, H, W, 3)`` answer for ``indices`` with the reference frames
    (``luma``: on their luma only, for a lossy store at training size; ``lossy``: a JPEG store or a
    transcoded video, whose frames a neighbour must match clearly better to be called wrong)."""
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

        def away(j: int, mine: np.ndarray = mine) -> np.ndarray:
            return np.abs((mine - ref[j]) @ LUMA) if luma else np.abs(mine - ref[j])

        diff = away(i)
        err = float(diff.mean())
        worst, worst_mean = max(worst, int(np.ceil(diff.max()))), max(worst_mean, err)
        if err > TOLERANCE:
            return Verdict(False, f"frame {i} differs from the reference by {err:.1f} on average "
                                  f"(tolerance {TOLERANCE})")
        for j in (i - 1, i + 1):
            if j in ref and (other := float(away(j).mean())) < err and \
                    (not lossy or err - other > max(LOSSY_MIN_GAP, LOSSY_MARGIN * other)):
                beyond = ", beyond the store's own difference" if lossy else ""
                return Verdict(False, f"frame {i} is closer to reference frame {j} ({other:.2f}) "
                                      f"than to frame {i} ({err:.2f}){beyond}")
    return Verdict(worst == 0, None, worst, worst_mean)
