"""nvdec: NVIDIA's hardware video decoder (NVDEC) through PyNvVideoCodec's ``SimpleDecoder``.

What is used of PyNvVideoCodec 2.x, and where it is documented (nothing here is guessed; a
device check, ``python -m benchmarks.gpu_check``, verifies it frame for frame):

* ``SimpleDecoder(enc_file_path, gpu_id=0, cuda_stream=0, use_device_memory=True,
  output_color_type=OutputColorType.NATIVE, ...)``: the API reference,
  https://docs.nvidia.com/video-technologies/pynvvideocodec/pynvc-api-reference/decoder.html
  ("random access to video frames with indexing, slicing, and batch operations"; it needs a
  container with an index, which every video here has);
* ``len(decoder)`` and ``get_batch_frames_by_index(indices)``: NVIDIA's samples
  (``samples/SimpleDecoder/EnsembleApp.py``, ``benchmarks/frame_sampling_benchmark.py`` of the
  PyNvVideoCodec sources);
* ``OutputColorType.RGB``: interleaved RGB, read as an ``(H, W, 3)`` uint8 CUDA tensor through
  DLPack (``torch.from_dlpack(frame)``), as NVIDIA's and users' code does. A frame points into
  the decoder's surfaces, valid until its next call, so every batch is copied out at once.
* ``PyNvVideoCodec.__version__``: the API reference's module attributes.

NVDEC converts YUV to RGB with its own kernel, not FFmpeg's swscale: its frames are the right
frames with a small colour difference, which verification measures and the records label. NVDEC
ignores the display matrix, so frames are turned upright here (on the device) by the probe's
rotation, and the probe's frame count must be the decoder's: an MP4 edit list that hides frames
(which SimpleDecoder may count) raises :class:`loaders.UnsupportedVideo` instead of misnumbering.
So do a container without an index (MPEG-TS, M2TS, program streams; see docs/containers.md) and
a file whose default video stream is not FFmpeg's own pick (cover art ranked first), neither
checked on a device yet: refused rather than risked.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from loaders.base import Source
from loaders.cuda import OnDevice, require
from loaders.errors import CorruptVideo, UnsupportedVideo, first_line
from loaders.probe import UNINDEXED, check_file

torch, nvc = require("torch", "PyNvVideoCodec")

# Frames per get_batch_frames_by_index call: the decoder hands back views of its own surfaces,
# so a chunk is copied into the answer before the next one is asked for.
_CHUNK = 16


class NvdecSource(OnDevice, Source):
    kind = "decode"
    device = "cuda"
    library = f"PyNvVideoCodec {nvc.__version__}"

    def __init__(self, path: str | os.PathLike[str], gpu_id: int = 0, **options: Any) -> None:
        super().__init__(path, gpu_id=gpu_id, **options)
        # A demux pass: the index every loader follows, the rotation and what NVDEC cannot know.
        info = check_file(self.path)
        if info.container in UNINDEXED:
            raise UnsupportedVideo(
                self.path,
                f"{info.container} container: it has no index, and SimpleDecoder's random access needs one",
            )
        if info.best != info.stream:
            raise UnsupportedVideo(
                self.path,
                f"FFmpeg's pick, stream {info.best}, is an attached picture (cover art), not the video (stream "
                f"{info.stream}), and SimpleDecoder cannot choose another",
            )
        self.stream = info.stream
        self.num_frames, self.fps, self.width, self.height = info.num_frames, info.fps, info.width, info.height
        self.rotation = info.rotation
        self._device = torch.device("cuda", gpu_id)
        try:
            self._decoder: Any = nvc.SimpleDecoder(
                self.path,
                gpu_id=gpu_id,
                use_device_memory=True,
                output_color_type=nvc.OutputColorType.RGB,
                # torch's stream: what torch does with a frame is ordered after its decoding
                cuda_stream=torch.cuda.current_stream(self._device).cuda_stream,
            )
            count = len(self._decoder)
        except Exception as exc:  # noqa: BLE001 - the probe found a sound video: any failure is NVDEC's
            raise UnsupportedVideo(
                self.path, f"PyNvVideoCodec cannot open it ({info.codec}): {first_line(exc)}"
            ) from exc
        if count != self.num_frames:
            raise UnsupportedVideo(
                self.path,
                f"PyNvVideoCodec counts {count} frames, the video shows "
                f"{self.num_frames}: its frame numbers are not the frames shown",
            )

    def _decode(self, ascending: np.ndarray) -> Any:
        out = torch.empty((len(ascending), self.height, self.width, 3), dtype=torch.uint8, device=self._device)
        turns = self.rotation // 90
        for start in range(0, len(ascending), _CHUNK):
            chunk = ascending[start : start + _CHUNK].tolist()
            try:
                frames = self._decoder.get_batch_frames_by_index(chunk)
                batch = torch.stack([torch.from_dlpack(f) for f in frames]) if len(frames) else None
            except Exception as exc:  # noqa: BLE001 - a frame the library fails to produce
                raise CorruptVideo(
                    self.path, f"PyNvVideoCodec failed decoding frames {chunk[0]}..{chunk[-1]}: {first_line(exc)}"
                ) from exc
            if batch is not None and turns:
                batch = torch.rot90(batch, turns, dims=(1, 2))
            if batch is None or tuple(batch.shape) != (len(chunk), self.height, self.width, 3):
                got = "no frames" if batch is None else f"frames of shape {tuple(batch.shape)}"
                raise CorruptVideo(self.path, f"PyNvVideoCodec returned {got} for {len(chunk)} asked")
            out[start : start + len(chunk)] = batch
        return out

    def close(self) -> None:
        self._decoder = None
