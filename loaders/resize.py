"""Stores at training size: one rule for the stored size and one filter, area averaging.

A store extracted with ``size=S`` holds frames whose short side is ``S`` (an even number), the
long side scaled by the same factor and rounded to an even number, so the aspect ratio is kept
to within a pixel and every image and video encoder accepts the size. Videos whose short side is
already ``S`` or less are stored as decoded: a store never upscales.

The filter is area averaging (each output pixel is the mean of the input area it covers), the
usual choice for shrinking frames without aliasing, applied to the RGB frame. The ffmpeg and
pyav extractors run it in libswscale (``flags=area``), whose output the two share bit for bit;
the cv2 extractor runs ``cv2.resize(..., INTER_AREA)``, which differs from libswscale by at most
one level. :func:`resize_frames` is the reference: the reference decode passed through it is
what a resized store is checked against.
"""

from __future__ import annotations

import numpy as np

from loaders.errors import LoaderError

# The most a lossless resized store may differ from resize_frames(reference), in levels of 0-255:
# ffmpeg's and pyav's stores are equal to it, cv2's INTER_AREA rounds differently by up to 1.
TOLERANCE = 1


def check_size(size: object) -> int | None:
    """``size`` if it is None or a positive even integer, else a LoaderError saying why."""
    if size is None:
        return None
    if isinstance(size, bool) or not isinstance(size, int) or size < 2 or size % 2:
        raise LoaderError(None, f"store size must be a positive even number of pixels (the short side), got {size!r}")
    return size


def scaled_size(width: int, height: int, size: int | None) -> tuple[int, int]:
    """The (width, height) a frame of ``width`` x ``height`` is stored at for short side ``size``."""
    if size is None or min(width, height) <= size:
        return width, height
    long_side = 2 * max(1, round(max(width, height) * size / min(width, height) / 2))
    return (long_side, size) if width >= height else (size, long_side)


def resize_frames(frames: np.ndarray, size: int | None) -> np.ndarray:
    """Resize RGB ``frames`` ((H, W, 3) or (N, H, W, 3) uint8) so the short side is ``size``.

    The filter every extractor uses (libswscale's area averaging, through PyAV); frames already
    at or below ``size`` come back unchanged.
    """
    one = frames.ndim == 3
    stack = frames[None] if one else frames
    height, width = stack.shape[1:3]
    new_w, new_h = scaled_size(width, height, check_size(size))
    if (new_w, new_h) == (width, height):
        return frames
    out = np.stack([resize_rgb(frame, new_w, new_h) for frame in stack])
    return out[0] if one else out


def resize_rgb(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    """One (H, W, 3) RGB frame to ``width`` x ``height`` with libswscale's area filter."""
    import av

    video_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
    return video_frame.reformat(width=width, height=height, format="rgb24", interpolation="AREA").to_ndarray()
