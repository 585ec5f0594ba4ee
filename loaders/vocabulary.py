"""The words every layer shares, defined once: loaders, benchmarks and reports all read them here.

A report that spells a store differently from the run that measured it, or a table that
mistakes the harness's baseline for a decoder, is wrong quietly; one definition prevents both.
"""

from __future__ import annotations

# The two kinds of loader: one reads a video file, the other a store of extracted frames.
DECODE = "decode"
FRAMES = "frames"

# The harness's do-nothing loader: its speed is the harness's own cost, never a choice to advise.
# Not "null", "none" or "nan": pandas reads those back from a CSV as missing values.
BASELINE = "noop"

# Store formats, and those written with loss (they carry a JPEG quality; the others carry none).
FORMATS: tuple[str, ...] = ("jpeg", "png", "npy", "tar")
LOSSY: tuple[str, ...] = ("jpeg", "tar")
# A transcoded store: the video re-encoded once (H.264, short keyframe interval), read by decode loaders.
TRANSCODED = "mp4"


def store_label(
    extractor: str,
    format: str,  # noqa: A002
    quality: int | None,
    size: int | None = None,
    gop: int | None = None,
) -> str:
    """``ffmpeg-jpeg-q90``, ``ffmpeg-npy``, ``pyav-npy-s256``, ``ffmpeg-mp4-s256-g8``: how runs, cells,
    reports and store folders name a store (``size``: the short side of a store at training size;
    ``gop``: the keyframe interval of a transcoded store)."""
    lossy = f"-q{quality}" if format in LOSSY and quality is not None else ""
    return f"{extractor}-{format}{lossy}" + (f"-s{size}" if size else "") + (f"-g{gop}" if gop else "")
