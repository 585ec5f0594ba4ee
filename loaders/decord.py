"""decord (the maintained decord2 fork): ``VideoReader.get_batch``, decord's batch API.

decord returns wrong frames without an error on some valid videos, so the probe every decode
loader runs decides first, and those videos raise :class:`loaders.UnsupportedVideo`:

* open GOP (H.264 recovery-point I-frames, HEVC CRA pictures): after a seek decord counts
  frames from a keyframe whose leading frames reference the GOP before and are never output,
  so it returns a later frame than asked (frame 77 for 75);
* an MP4 edit list: decord counts the packets the edit list discards, so its frame ``i`` is not
  the ``i``-th frame shown;
* a ``-c copy`` concat whose clips overlap in time (cut at an ``outpoint``): decord numbers
  frames in decoding order, where the timestamps go back; the probe refuses it for every loader;
* widths whose RGB rows FFmpeg pads (96 or 2 pixels, for two): decord takes the padded row for
  more channels and its batch copy fails ("Check failed: from_size == to_size").

decord turns frames upright by the display matrix but does not say by how much: ``rotation``
comes from the probe, and ``validate=False`` (which skips the probe and the first two checks)
leaves it at 0.
"""

from __future__ import annotations

import os
from typing import Any

import decord
import numpy as np

from loaders.base import Source
from loaders.errors import CorruptVideo, UnsupportedVideo, first_line
from loaders.probe import check_file

# Frames per get_batch call: decord builds each batch in its own array and asnumpy() copies it,
# so one call for a whole request held it three times over; in chunks the peak is the answer
# plus two chunks.
_CHUNK = 16


class DecordSource(Source):
    kind = "decode"
    library = f"decord2 {decord.__version__}"

    def __init__(self, path: str | os.PathLike[str], threads: int = 0, validate: bool = True, **options: Any) -> None:
        super().__init__(path, threads=threads, validate=validate, **options)
        # A demux pass: catches what decord would crash on, cut short or get wrong.
        info = check_file(self.path) if validate else None
        if info is not None and info.open_gop:
            raise UnsupportedVideo(
                self.path,
                f"open-GOP {info.codec} video: after a seek decord miscounts the leading frames of a keyframe "
                "and returns later frames than asked",
            )
        self.threads = threads
        try:
            self._reader: Any = decord.VideoReader(self.path, ctx=decord.cpu(0), num_threads=threads)
        except decord.DECORDError as exc:
            # The probe found a sound video: the failure is decord's, not the file's.
            error = CorruptVideo if info is None else UnsupportedVideo
            raise error(self.path, f"decord cannot open it: {first_line(exc)}") from exc
        self.num_frames = len(self._reader)
        if self.num_frames <= 0:
            raise CorruptVideo(self.path, "the video stream holds no frames")
        if info is not None and self.num_frames != info.num_frames:
            raise UnsupportedVideo(
                self.path,
                f"decord counts {self.num_frames} frames, the video shows {info.num_frames} (an MP4 edit list "
                "discards the others): decord's frame numbers are not the frames shown",
            )
        self.rotation = 0 if info is None else info.rotation
        self.fps = float(self._reader.get_avg_fps())
        # decord has no size metadata: its users read it off the first frame, as here.
        first = self._reader[0].shape
        self.height, self.width = int(first[0]), int(first[1])
        if first[2] != 3:
            raise UnsupportedVideo(
                self.path,
                f"decord returns this {self.width}x{self.height} video's frames with {first[2]} channels "
                "(it takes FFmpeg's padded RGB rows for more channels) and cannot batch them",
            )

    def _read(self, indices: np.ndarray) -> np.ndarray:
        out = np.empty((len(indices), self.height, self.width, 3), dtype=np.uint8)
        for start in range(0, len(indices), _CHUNK):
            chunk = indices[start : start + _CHUNK]
            try:
                frames = self._reader.get_batch(chunk.tolist()).asnumpy()
            except decord.DECORDError as exc:
                raise CorruptVideo(self.path, f"decord failed decoding frames: {first_line(exc)}") from exc
            if frames.shape != (len(chunk), self.height, self.width, 3):
                raise CorruptVideo(self.path, f"decord returned frames of shape {frames.shape} for {len(chunk)} asked")
            out[start : start + len(chunk)] = frames
        return out

    def close(self) -> None:
        self._reader = None
