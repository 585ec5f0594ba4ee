"""The null loader: a preallocated array, no decoding, so the harness's own cost per frame shows.

Its frames are black, so it is never "exact"; the benchmarks time it without verifying it and
report it as the floor every other loader stands on. Metadata comes from a packet-level probe
(nothing is decoded).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from loaders.base import Source
from loaders.probe import probe


class NullSource(Source):
    kind = "decode"
    exact = False
    library = "numpy " + np.__version__

    def __init__(self, path: str | os.PathLike[str], **options: Any) -> None:
        super().__init__(path, **options)
        info = probe(self.path)
        self.num_frames, self.width, self.height, self.fps = info.num_frames, info.width, info.height, info.fps
        self.stream = info.stream
        self._buffer = np.zeros((1, self.height, self.width, 3), dtype=np.uint8)

    def _read(self, indices: np.ndarray) -> np.ndarray:
        if len(indices) > len(self._buffer):
            self._buffer = np.zeros((len(indices), self.height, self.width, 3), dtype=np.uint8)
        return self._buffer[: len(indices)]
