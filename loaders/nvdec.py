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
* ``PyNvVideoCodec.__version__``: the API reference's module attributes;
* ``CreateDemuxer(filename=...)`` with ``GetNvCodecId()``, ``ChromaFormat()``, ``BitDepth()``,
  and ``GetDecoderCaps(gpuid=, codec=, chromaformat=, bitdepth=)``: NVIDIA's sample
  ``samples/advanced/decode.py``; the dict it returns (``supported``, ``width_min``,
  ``height_min``, ``width_max``, ``height_max``, ``num_decoder_engines``) was read on an H100.

Verified on an NVIDIA H100 (driver 580.159.04, PyNvVideoCodec 2.2.4; docs/gpu.md has the table):
H.264 (B-frames, a 250-frame GOP, an odd size, display rotations 90 and 180, an offset VFR stream
in an MP4), HEVC and VP9 are the right frames, every one. NVDEC converts YUV to RGB with its own
kernel, not FFmpeg's swscale: a small colour difference (at most 2), which verification measures
and the records label. NVDEC ignores the display matrix, so frames are turned upright here (on
the device) by the probe's rotation. Refused, with the reason, rather than misnumbered:

* what this GPU's NVDEC does not decode, from its capabilities: AV1 on an H100, HEVC under
  144x144, VP9 under 128x128;
* Matroska and WebM, except VP9 starting at 0: H.264 in Matroska came back as wrong frames;
* an MP4 edit list that hides frames (SimpleDecoder counts them);
* a container without an index (MPEG-TS, M2TS, program streams; see docs/containers.md) and a
  file whose default video stream is not FFmpeg's own pick (cover art ranked first), neither
  checked on a device.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from loaders.base import Source
from loaders.cuda import OnDevice, require
from loaders.errors import CorruptVideo, UnsupportedVideo, one_line
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
        if "matroska" in info.container and not (info.codec == "vp9" and info.pts[0] == 0):
            # Seen on an H100 (PyNvVideoCodec 2.2.4): H.264 in Matroska gave wrong frames from frame
            # 13 on, and every frame 60 frames late with a start offset; the same stream in an MP4,
            # offset and all, and VP9 in WebM starting at 0, were exact. PyNvVideoCodec warns too:
            # "Container format is matroska,webm. Seek accuracy may be impacted."
            raise UnsupportedVideo(
                self.path,
                f"{info.codec} in Matroska/WebM: SimpleDecoder's frame numbers there are not the frames shown "
                "(only VP9 starting at 0 was exact on a device); the same stream copied into an MP4 is read "
                "exactly (ffmpeg -i IN -c copy OUT.mp4)",
            )
        self.stream = info.stream
        self.num_frames, self.fps, self.width, self.height = info.num_frames, info.fps, info.width, info.height
        self.rotation = info.rotation
        self._device = torch.device("cuda", gpu_id)
        _check_decodable(self.path, info.codec, gpu_id)
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
            raise UnsupportedVideo(self.path, f"PyNvVideoCodec cannot open it ({info.codec}): {one_line(exc)}") from exc
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
                    self.path, f"PyNvVideoCodec failed decoding frames {chunk[0]}..{chunk[-1]}: {one_line(exc)}"
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


_CHROMA = {"420": "4:2:0", "422": "4:2:2", "444": "4:4:4", "Monochrome": "monochrome"}
# (gpu, codec, chroma format, bit depth) -> NVDEC's capabilities there, asked once per process
_caps: dict[tuple[int, int, int, int], dict[str, int]] = {}


def _check_decodable(path: str, codec_name: str, gpu_id: int) -> None:
    """Refuse what this GPU's NVDEC does not decode: the codec (AV1 before Ampere's GA10x), or the
    size (HEVC from 144x144, VP9 and AV1 from 128x128 on an H100), as cuvidGetDecoderCaps says.
    Without this check NVDEC fails only at the first decode, with "HandleVideoSequence"."""
    try:
        demuxer = nvc.CreateDemuxer(filename=path)
        codec, chroma, depth = demuxer.GetNvCodecId(), demuxer.ChromaFormat(), demuxer.BitDepth()
        width, height = demuxer.Width(), demuxer.Height()
        key = (gpu_id, int(codec), int(chroma), int(depth))
        if key not in _caps:
            _caps[key] = dict(nvc.GetDecoderCaps(gpuid=gpu_id, codec=codec, chromaformat=chroma, bitdepth=depth))
    except Exception as exc:  # noqa: BLE001 - the probe found a sound video: any failure is PyNvVideoCodec's
        raise UnsupportedVideo(path, f"PyNvVideoCodec cannot read its stream ({codec_name}): {one_line(exc)}") from exc
    caps = _caps[key]
    sampling = str(chroma).rsplit(".", 1)[-1]  # "cudaVideoChromaFormat.420"
    what = f"{codec_name} ({depth}-bit {_CHROMA.get(sampling, sampling)})"
    gpu = torch.cuda.get_device_name(gpu_id)
    if not caps.get("supported"):
        raise UnsupportedVideo(path, f"NVDEC on this GPU ({gpu}) does not decode {what}")
    low, high = (caps["width_min"], caps["height_min"]), (caps["width_max"], caps["height_max"])
    if not (low[0] <= width <= high[0] and low[1] <= height <= high[1]):
        raise UnsupportedVideo(
            path,
            f"NVDEC on this GPU ({gpu}) decodes {what} from {low[0]}x{low[1]} to {high[0]}x{high[1]}; "
            f"this video is {width}x{height}",
        )
