"""tar shards: one uncompressed tar of JPEG members per video, read in place, decoded with PIL.

Opening walks the tar headers once and keeps each member's data offset and size; a frame is
then one ``pread`` at that offset, with nothing unpacked to disk (the layout of WebDataset-style
shards, read by index instead of streamed).
"""

from __future__ import annotations

import io
import os
import tarfile
from typing import Any

import numpy as np

from loaders.errors import CorruptVideo, cause_of
from loaders.pil import LIBRARY, decode
from loaders.store import TAR_FILE, StoreSource, check_jpeg_complete, frame_name


class TarSource(StoreSource):
    formats = ("tar",)
    library = LIBRARY  # members are decoded with PIL (Pillow or Pillow-SIMD)

    def __init__(self, path: str | os.PathLike[str], **options: Any) -> None:
        super().__init__(path, **options)
        self.file = os.path.join(self.path, TAR_FILE)
        self.offsets, self.sizes = self._index()
        self._fd: int | None = os.open(self.file, os.O_RDONLY)

    def _index(self) -> tuple[np.ndarray, np.ndarray]:
        members: dict[str, tuple[int, int]] = {}
        try:
            file_size = os.path.getsize(self.file)
            with tarfile.open(self.file, mode="r:") as tar:
                for info in tar:
                    members[info.name] = (info.offset_data, info.size)
        except (OSError, tarfile.TarError) as exc:
            raise CorruptVideo(self.file, f"unreadable tar: {cause_of(exc)}") from exc
        offsets = np.empty(self.num_frames, dtype=np.int64)
        sizes = np.empty(self.num_frames, dtype=np.int64)
        for i in range(self.num_frames):
            name = frame_name(i, "tar")
            if name not in members:
                raise CorruptVideo(self.file, f"member {name} missing (truncated tar?)")
            offsets[i], sizes[i] = members[name]
            # tarfile does not notice a last member cut short; its bytes would read short.
            if offsets[i] + sizes[i] > file_size:
                raise CorruptVideo(self.file, f"member {name} runs past the end of the file (truncated tar)")
        return offsets, sizes

    def _decode(self, index: int) -> np.ndarray:
        assert self._fd is not None, "read after close"
        where = f"{self.file}[{frame_name(index, 'tar')}]"
        data = os.pread(self._fd, int(self.sizes[index]), int(self.offsets[index]))
        check_jpeg_complete(data, where)
        frame = decode(io.BytesIO(data), where)
        self.check_shape(frame, where)
        return frame

    def _read(self, indices: np.ndarray) -> np.ndarray:
        return self.read_each(indices, self._decode)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
