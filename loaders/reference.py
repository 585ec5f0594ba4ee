"""The reference decode every loader is checked against: PyAV, sequential, no seeking.

Decoding from the first packet to the last in one pass leaves no room for seek errors; frame
``i`` is the ``i``-th frame the decoder outputs, which is presentation order (frames an MP4 edit
list discards are not output). A video whose presented timestamps go back or repeat (a
stream-copy concat whose clips overlap) has no one frame ``i``, by time and by decoding differ:
every loader refuses it (:mod:`loaders.probe`), and so does the reference. Frames are upright,
turned by the display matrix (:mod:`loaders.orientation`), as a player shows them. The stream is
the one FFmpeg picks by default (:func:`loaders.probe.video_stream`), never an attached picture.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable

import numpy as np

from loaders import orientation
from loaders.errors import CorruptVideo, FrameIndexError, UnsupportedVideo, VideoNotFound, cause_of
from loaders.paths import absolute


@dataclasses.dataclass(frozen=True)
class Reference:
    num_frames: int
    fps: float
    width: int
    height: int
    frames: dict[int, np.ndarray]  # only the indices asked for
    rotation: int = 0  # degrees the display matrix turned the coded frames

    def stack(self, indices: Iterable[int]) -> np.ndarray:
        return np.stack([self.frames[int(i)] for i in indices])


def decode(path: str | os.PathLike[str], indices: Iterable[int] | None = None, until_last: bool = False) -> Reference:
    """Decode ``path`` start to end and keep the frames at ``indices`` (all when None);
    ``until_last``: stop after the last of ``indices`` (``num_frames`` then counts the frames
    decoded, and what follows them is not checked): checking 8 frames near the start of an hour
    of video needs not decode the hour."""
    import av

    from loaders.probe import video_stream

    path = os.fspath(path)
    if not os.path.exists(path):
        raise VideoNotFound(path, "no such file or directory")
    wanted = None if indices is None else {int(i) for i in indices}
    last = max(wanted, default=0) if until_last and wanted is not None else None
    kept: dict[int, np.ndarray] = {}
    count = 0
    rotation = 0
    last_pts: int | None = None
    try:
        with av.open(absolute(path)) as container:
            if not container.streams.video:
                raise CorruptVideo(path, "no video stream")
            stream = video_stream(container, path)
            stream.thread_type = "AUTO"
            fps = float(stream.average_rate or stream.guessed_rate or 0)
            width, height = stream.codec_context.width, stream.codec_context.height
            for frame in container.decode(stream):
                if frame.is_corrupt:
                    raise CorruptVideo(path, f"frame {count} is corrupt")
                if frame.pts is not None and last_pts is not None and frame.pts <= last_pts:
                    at = float(frame.pts * frame.time_base)
                    after = f"not after frame {count - 1}: timestamps do not run forward"
                    raise UnsupportedVideo(path, f"frame {count} is shown at {at:.3f} s, {after}")
                last_pts = frame.pts if frame.pts is not None else last_pts
                if count == 0:
                    rotation = 90 * orientation.quarter_turns(frame.rotation, path)
                    width, height = orientation.displayed_size(frame.width, frame.height, rotation)
                if wanted is None or count in wanted:
                    kept[count] = orientation.upright_rgb(frame, path)
                count += 1
                if last is not None and count > last:
                    break
    except av.FFmpegError as exc:
        raise CorruptVideo(path, f"reference decode failed: {cause_of(exc)}") from exc
    except IndexError as exc:
        raise CorruptVideo(path, "no video stream") from exc
    if wanted is not None and (missing := sorted(wanted - kept.keys())):
        raise FrameIndexError(path, f"frame index {missing[0]} out of range [0, {count})")
    return Reference(count, fps, width, height, kept, rotation)
