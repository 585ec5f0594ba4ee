"""nvjpeg: a JPEG store's files read on the CPU and decoded in batches on the GPU by nvJPEG.

torchvision ships nvJPEG: ``torchvision.io.decode_jpeg(list_of_uint8_tensors, device="cuda")``
decodes a list of JPEG byte tensors in one batched call and returns ``(3, H, W)`` CUDA tensors
(torchvision's documentation of ``decode_jpeg``). nvJPEG's IDCT and chroma upsampling differ
from libjpeg-turbo's, so its frames differ a little from the other readers' on top of the
store's compression; verification measures it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from loaders.cuda import OnDevice, require
from loaders.errors import CorruptVideo, first_line
from loaders.store import StoreSource, check_jpeg_complete, read_file

torch, torchvision = require("torch", "torchvision")
from torchvision.io import ImageReadMode, decode_jpeg  # noqa: E402 - after the device check

# Files per decode_jpeg call: large enough for nvJPEG's batching, small enough for any GPU.
_CHUNK = 64


class NvjpegSource(OnDevice, StoreSource):
    formats = ("jpeg",)
    device = "cuda"
    library = f"torchvision {torchvision.__version__} nvJPEG"

    def __init__(self, path: Any, gpu_id: int = 0, **options: Any) -> None:
        super().__init__(path, gpu_id=gpu_id, **options)
        self._device = torch.device("cuda", gpu_id)

    def _decode(self, ascending: np.ndarray) -> Any:
        out = torch.empty((len(ascending), self.height, self.width, 3), dtype=torch.uint8, device=self._device)
        for start in range(0, len(ascending), _CHUNK):
            chunk = ascending[start : start + _CHUNK].tolist()
            data = [self._bytes(i) for i in chunk]
            try:
                images = decode_jpeg(data, mode=ImageReadMode.RGB, device=self._device)
            except RuntimeError as exc:
                raise self._culprit(chunk, data, exc) from exc
            for i, image in zip(chunk, images, strict=True):
                self.check_shape(image.permute(1, 2, 0), self.frame_path(i))
            out[start : start + len(chunk)] = torch.stack(images).permute(0, 2, 3, 1)
        return out

    def _bytes(self, index: int) -> Any:
        where = self.frame_path(index)
        raw = read_file(where)
        check_jpeg_complete(raw, where)
        return torch.frombuffer(bytearray(raw), dtype=torch.uint8)

    def _culprit(self, chunk: list[int], data: list[Any], exc: RuntimeError) -> CorruptVideo:
        """The file a failed batch could not decode, found by decoding them one by one."""
        for i, one in zip(chunk, data, strict=True):
            try:
                decode_jpeg(one, mode=ImageReadMode.RGB, device=self._device)
            except RuntimeError as single:
                return CorruptVideo(self.frame_path(i), f"nvJPEG cannot decode frame: {first_line(single)}")
        return CorruptVideo(self.path, f"nvJPEG failed decoding frames {chunk[0]}..{chunk[-1]}: {first_line(exc)}")
