"""vidbench loaders: every way of getting video frames into a training loop, behind one interface.

>>> import loaders
>>> with loaders.open("pyav", "clip.mp4") as src:
...     frames = src.get_frames([0, 10, 5])   # (3, H, W, 3) uint8 RGB, in the order asked
"""

from loaders.base import Source
from loaders.errors import (
    BackendUnavailable,
    CorruptVideo,
    FrameIndexError,
    LoaderError,
    VideoNotFound,
)
from loaders.registry import REGISTRY, STACKS, available, current_stack, names, open

__all__ = [
    "REGISTRY",
    "STACKS",
    "BackendUnavailable",
    "CorruptVideo",
    "FrameIndexError",
    "LoaderError",
    "Source",
    "VideoNotFound",
    "available",
    "current_stack",
    "names",
    "open",
]
