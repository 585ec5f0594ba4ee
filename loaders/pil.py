"""PIL: ``Image.open`` per frame file, under Pillow or Pillow-SIMD (both are the ``PIL`` package)."""

from __future__ import annotations

from typing import BinaryIO

import numpy as np
import PIL
from PIL import Image

from loaders.errors import CorruptVideo, cause_of
from loaders.store import StoreSource

# Pillow-SIMD releases carry a ".postN" suffix on the Pillow version they track.
LIBRARY = f"{'pillow-simd' if '.post' in PIL.__version__ else 'pillow'} {PIL.__version__}"


def decode(file: str | BinaryIO, where: str | None = None) -> np.ndarray:
    """An image file (a path or bytes in a file object) -> (H, W, 3) uint8 RGB.

    A missing, truncated or damaged file raises CorruptVideo naming ``where`` (default: the path).
    """
    try:
        with Image.open(file) as image:
            image.load()  # raises on truncated data, where a lazy open would not
            rgb = image if image.mode == "RGB" else image.convert("RGB")
            return np.asarray(rgb)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise CorruptVideo(where or str(file), f"PIL cannot read frame: {cause_of(exc)}") from exc


class PilSource(StoreSource):
    formats = ("jpeg", "png")
    library = LIBRARY

    def _read(self, indices: np.ndarray) -> np.ndarray:
        return self.read_files(indices, decode)
