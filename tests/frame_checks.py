"""Checks shared by the extraction and frame-reader tests: reference frames and "is it the right frame"."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import loaders
from loaders import reference
from loaders.reference import Reference

# The profiles that exercise what extraction can get wrong: B-frame reordering, a long GOP,
# odd sizes, and VFR with a non-zero first timestamp.
PROFILES = ["tiny-h264-bframes", "tiny-h264-longgop", "tiny-h264-odd", "tiny-h264-offset-vfr"]

# JPEG at quality 90 of the noisy synthetic content measures 24.5-30 dB per frame (the grain
# is what costs); below this a store holds damaged frames, not merely lossy ones.
JPEG_MIN_PSNR = 23.0


def all_frames(ref: Reference) -> np.ndarray:
    """Every frame of a full reference decode (conftest's ``references``) as one (N, H, W, 3) array."""
    return ref.stack(range(ref.num_frames))


def decoded(path: Path) -> np.ndarray:
    """Every frame of ``path`` by the reference decoder, as one (N, H, W, 3) array."""
    return all_frames(reference.decode(path))


def open_or_refused(name: str, path: Path) -> loaders.Source | None:
    """``name``'s source of ``path``, or None where it refuses the video with UnsupportedVideo,
    which must name the path and why."""
    try:
        return loaders.open(name, path)
    except loaders.UnsupportedVideo as exc:
        assert str(path) in str(exc) and exc.cause
        return None


def psnr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-frame PSNR in dB of two (N, H, W, 3) stacks (inf where identical)."""
    mse = ((a.astype(np.float64) - b) ** 2).mean(axis=(1, 2, 3))
    with np.errstate(divide="ignore"):
        return 10 * np.log10(255.0**2 / mse)


def nearest_reference(frames: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """For each frame, the index of the closest reference frame (squared error, over all frames)."""
    a = frames.reshape(len(frames), -1).astype(np.float64)
    r = ref.reshape(len(ref), -1).astype(np.float64)
    # |a - r|^2 = |a|^2 + |r|^2 - 2 a.r, all pairs in one matrix product.
    dist = (a * a).sum(1)[:, None] + (r * r).sum(1)[None, :] - 2 * a @ r.T
    return np.argmin(dist, axis=1)


def assert_frames_match(frames: np.ndarray, ref: np.ndarray, indices: np.ndarray, lossless: bool) -> None:
    """``frames`` are the reference frames at ``indices``: exactly, or for JPEG the nearest and close."""
    want = ref[indices]
    assert frames.shape == want.shape and frames.dtype == np.uint8
    if lossless:
        bad = [int(i) for i, f, w in zip(indices, frames, want, strict=True) if not np.array_equal(f, w)]
        assert not bad, f"frames {bad[:5]} differ from the reference decode"
        return
    nearest = nearest_reference(frames, ref)
    wrong = [(int(i), int(n)) for i, n in zip(indices, nearest, strict=True) if i != n]
    assert not wrong, f"(asked, closest reference frame): {wrong[:5]}"
    low = psnr(frames, want)
    assert low.min() >= JPEG_MIN_PSNR, f"PSNR {low.min():.1f} dB < {JPEG_MIN_PSNR} dB"
