"""dali: a JPEG store read by NVIDIA DALI, its files decoded on the GPU (``device="mixed"``).

Optional: DALI's wheel (``nvidia-dali-cuda120`` or ``nvidia-dali-cuda130``, several hundred MB)
is in no dependency stack; where it is installed and a CUDA device is present this loader runs,
elsewhere ``loaders.available()`` says which is missing. ``docs/gpu.md`` says how to add it.

The pipeline is DALI's documented pattern for data held in Python: ``fn.external_source`` fed
with ``Pipeline.feed_input`` (one encoded JPEG per sample), ``fn.decoders.image(...,
device="mixed", output_type=types.RGB)`` (nvJPEG behind DALI's own scheduling), and the output
batch copied into a torch CUDA tensor by ``nvidia.dali.plugin.pytorch.feed_ndarray``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from loaders.cuda import OnDevice, require
from loaders.errors import CorruptVideo, first_line
from loaders.store import StoreSource, check_jpeg_complete, read_file

torch, dali = require("torch", "nvidia.dali")
from nvidia.dali import fn, pipeline_def, types  # noqa: E402 - after the device check
from nvidia.dali.plugin.pytorch import feed_ndarray  # noqa: E402

# Samples per pipeline run (DALI fixes the largest batch when the pipeline is built).
_BATCH = 32


@pipeline_def(batch_size=_BATCH, num_threads=2, prefetch_queue_depth=1)
def _jpeg_pipeline() -> Any:
    jpegs = fn.external_source(name="jpegs", dtype=types.UINT8)
    return fn.decoders.image(jpegs, device="mixed", output_type=types.RGB)


class DaliSource(OnDevice, StoreSource):
    formats = ("jpeg",)
    device = "cuda"
    library = f"nvidia-dali {dali.__version__}"

    def __init__(self, path: Any, gpu_id: int = 0, **options: Any) -> None:
        super().__init__(path, gpu_id=gpu_id, **options)
        self._device = torch.device("cuda", gpu_id)
        self._pipe: Any = _jpeg_pipeline(device_id=gpu_id)
        self._pipe.build()

    def _decode(self, ascending: np.ndarray) -> Any:
        out = torch.empty((len(ascending), self.height, self.width, 3), dtype=torch.uint8, device=self._device)
        for start in range(0, len(ascending), _BATCH):
            chunk = ascending[start : start + _BATCH].tolist()
            data = []
            for i in chunk:
                where = self.frame_path(i)
                raw = read_file(where)
                check_jpeg_complete(raw, where)
                data.append(np.frombuffer(raw, dtype=np.uint8))
            try:
                self._pipe.feed_input("jpegs", data)
                (decoded,) = self._pipe.run()
                batch = decoded.as_tensor()
            except RuntimeError as exc:
                raise CorruptVideo(
                    self.path, f"DALI failed decoding frames {chunk[0]}..{chunk[-1]}: {first_line(exc)}"
                ) from exc
            shape = tuple(batch.shape())
            if shape != (len(chunk), self.height, self.width, 3):
                raise CorruptVideo(
                    self.path,
                    f"DALI returned frames of shape {shape}, the manifest says "
                    f"{(len(chunk), self.height, self.width, 3)}",
                )
            feed_ndarray(batch, out[start : start + len(chunk)], cuda_stream=torch.cuda.current_stream(self._device))
        return out

    def close(self) -> None:
        self._pipe = None
