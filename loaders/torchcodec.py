"""torchcodec: ``VideoDecoder`` in exact seek mode, one batched ``get_frames_at`` per request.

Exact mode scans the file on open to build a frame index, so an index is a frame, not a
timestamp guess; the batch call lets torchcodec order the decoding itself.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torchcodec
from torchcodec.decoders import VideoDecoder

from loaders.base import Source
from loaders.errors import CorruptVideo
from loaders.probe import check_file


class TorchCodecSource(Source):
    kind = "decode"
    library = f"torchcodec {torchcodec.__version__}"

    def __init__(self, path: str | os.PathLike[str], threads: int = 0, validate: bool = True, **options: Any) -> None:
        super().__init__(path, threads=threads, validate=validate, **options)
        if validate:  # a demux pass: catches what torchcodec would crash on or silently cut short
            check_file(self.path)
        self.threads = threads
        try:
            self._decoder: Any = VideoDecoder(
                self.path, seek_mode="exact", dimension_order="NHWC", num_ffmpeg_threads=threads
            )
        except (RuntimeError, ValueError) as exc:
            raise CorruptVideo(self.path, f"torchcodec cannot open it: {first_line(exc)}") from exc
        meta = self._decoder.metadata
        self.num_frames = int(meta.num_frames or 0)
        self.fps = float(meta.average_fps or 0)
        self.width, self.height = int(meta.width or 0), int(meta.height or 0)
        if self.num_frames <= 0:
            raise CorruptVideo(self.path, "the video stream holds no frames")

    def _read(self, indices: np.ndarray) -> np.ndarray:
        try:
            batch = self._decoder.get_frames_at(indices=indices.tolist())
        except (RuntimeError, IndexError, ValueError) as exc:
            raise CorruptVideo(self.path, f"torchcodec failed decoding frames: {first_line(exc)}") from exc
        frames = batch.data.numpy()
        if frames.shape[0] != len(indices):
            raise CorruptVideo(self.path, f"torchcodec returned {frames.shape[0]} frames for {len(indices)} asked")
        return frames

    def close(self) -> None:
        self._decoder = None


def first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
