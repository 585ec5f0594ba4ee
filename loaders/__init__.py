"""vidbench loaders: every way of getting video frames into a training loop, behind one interface.

>>> import loaders
>>> with loaders.open("pyav", "clip.mp4") as src:
...     frames = src.get_frames([0, 10, 5])   # (3, H, W, 3) uint8 RGB, in the order asked
"""

from loaders.base import Source
from loaders.batch import extract_all
from loaders.errors import (
    BackendUnavailable,
    CorruptVideo,
    FrameIndexError,
    InsufficientSpace,
    LoaderError,
    UnsupportedCodec,
    UnsupportedVideo,
    VideoNotFound,
)
from loaders.extraction import Extraction, extract
from loaders.registry import REGISTRY, STACKS, available, current_stack, names, open
from loaders.resize import resize_frames

__all__ = [
    "REGISTRY",
    "STACKS",
    "BackendUnavailable",
    "CorruptVideo",
    "Extraction",
    "FrameIndexError",
    "InsufficientSpace",
    "LoaderError",
    "Source",
    "UnsupportedCodec",
    "UnsupportedVideo",
    "VideoNotFound",
    "available",
    "current_stack",
    "extract",
    "extract_all",
    "names",
    "open",
    "resize_frames",
]
