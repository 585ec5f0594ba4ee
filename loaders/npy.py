"""NumPy: one (N, H, W, 3) uint8 array per video, memory-mapped, fancy-indexed per request."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from loaders.errors import CorruptVideo, cause_of
from loaders.store import NPY_FILE, StoreSource


class NpySource(StoreSource):
    formats = ("npy",)
    library = f"numpy {np.__version__}"

    def __init__(self, path: str | os.PathLike[str], **options: Any) -> None:
        super().__init__(path, **options)
        self.file = os.path.join(self.path, NPY_FILE)
        try:
            # mmap: opening costs nothing and a request pages in only the frames it touches.
            self.array = np.load(self.file, mmap_mode="r")
        except (OSError, ValueError) as exc:
            raise CorruptVideo(self.file, f"cannot map frame array: {cause_of(exc)}") from exc
        want = (self.num_frames, self.height, self.width, 3)
        if self.array.shape != want or self.array.dtype != np.uint8:
            raise CorruptVideo(
                self.file, f"array is {self.array.dtype} {self.array.shape}, the manifest says uint8 {want}"
            )

    def _read(self, indices: np.ndarray) -> np.ndarray:
        return np.asarray(self.array[indices])

    def close(self) -> None:
        # Dropping the memmap unmaps the file.
        self.array = np.empty((0, self.height, self.width, 3), dtype=np.uint8)
