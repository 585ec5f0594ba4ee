"""decord (the maintained decord2 fork): ``VideoReader.get_batch``, decord's batch API."""

from __future__ import annotations

import os
from typing import Any

import decord
import numpy as np

from loaders.base import Source
from loaders.errors import CorruptVideo
from loaders.probe import check_file
from loaders.torchcodec import first_line


class DecordSource(Source):
    kind = "decode"
    library = f"decord2 {decord.__version__}"

    def __init__(self, path: str | os.PathLike[str], threads: int = 0, validate: bool = True, **options: Any) -> None:
        super().__init__(path, threads=threads, validate=validate, **options)
        if validate:  # a demux pass: catches what decord would crash on or silently cut short
            check_file(self.path)
        self.threads = threads
        try:
            self._reader: Any = decord.VideoReader(self.path, ctx=decord.cpu(0), num_threads=threads)
        except decord.DECORDError as exc:
            raise CorruptVideo(self.path, f"decord cannot open it: {first_line(exc)}") from exc
        self.num_frames = len(self._reader)
        self.fps = float(self._reader.get_avg_fps())
        # decord has no size metadata: its users read it off the first frame, as here.
        first = self._reader[0].shape if self.num_frames else (0, 0, 3)
        self.height, self.width = int(first[0]), int(first[1])
        if self.num_frames <= 0:
            raise CorruptVideo(self.path, "the video stream holds no frames")

    def _read(self, indices: np.ndarray) -> np.ndarray:
        try:
            frames = self._reader.get_batch(indices.tolist()).asnumpy()
        except decord.DECORDError as exc:
            raise CorruptVideo(self.path, f"decord failed decoding frames: {first_line(exc)}") from exc
        if frames.shape[0] != len(indices):
            raise CorruptVideo(self.path, f"decord returned {frames.shape[0]} frames for {len(indices)} asked")
        return frames

    def close(self) -> None:
        self._reader = None
