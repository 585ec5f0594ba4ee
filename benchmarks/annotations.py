"""``--annotations FILE``: boxes per frame, served with the frames of every epoch sample.

The file is JSON, ``{video file name: {frame index: [[x1, y1, x2, y2], ...]}}``. It is checked
whole before anything is measured: a mistake stops the run at once with a message naming the
file, the video, the frame and what was expected, instead of a traceback in a DataLoader worker
once the epochs start.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.records import json_type
from loaders.errors import LoaderError, cause_of

log = logging.getLogger(__name__)

FORMAT = "{video file name: {frame index: [[x1, y1, x2, y2], ...]}}"
# The whole file is parsed in memory, and json builds Python objects about ten times the size of
# the text (a float is 24 bytes, each box a list of four); the boxes are then copied into every
# DataLoader worker. 64 MiB holds about 1.5 million frames with one box each (14 hours of 30 fps
# video annotated on every frame), far more than a benchmark samples, and parses in well under
# a gigabyte.
MAX_BYTES = 64 * 2**20


class AnnotationError(LoaderError):
    """The annotations file cannot be used; the message says where in it and what was expected."""


@dataclasses.dataclass(frozen=True)
class Boxes:
    """A checked annotations file: video file name -> frame index -> (n, 4) float32 boxes."""

    path: str
    videos: dict[str, dict[int, np.ndarray]]

    def for_videos(self, frames_of: Mapping[str, int]) -> dict[str, dict[int, np.ndarray]]:
        """The boxes re-keyed by the run's video paths (``frames_of``: path -> frame count); a
        frame beyond its video, or a file naming none of the videos, is an AnnotationError."""
        by_name = {Path(video).name: video for video in frames_of}
        unknown = [name for name in self.videos if name not in by_name]
        if self.videos and len(unknown) == len(self.videos):
            raise AnnotationError(self.path, f"none of the {len(self.videos)} videos it names "
                                             f"({_listed(unknown)}) is among the videos measured "
                                             f"({_listed(list(by_name))}); keys are video file names")
        if unknown:
            log.warning("%s: boxes for %d videos that are not measured are ignored: %s", self.path, len(unknown),
                        _listed(unknown))
        result = {}
        for name, frames in self.videos.items():
            if name not in by_name:
                continue
            count = frames_of[by_name[name]]
            beyond = [i for i in frames if i >= count]
            if beyond:
                raise AnnotationError(self.path, f"video {name!r}, frame {min(beyond)}: beyond the video, which has "
                                                 f"{count} frames (indices 0 to {count - 1})")
            result[by_name[name]] = frames
        return result


def load(path: str | os.PathLike[str]) -> Boxes:
    """Read and check an annotations file; an AnnotationError names the file and what is wrong."""
    path = os.fspath(path)
    data = _parse(path, _read(path))
    if not isinstance(data, dict):
        raise AnnotationError(path, f"the top level is a JSON {json_type(data)}; expected an object {FORMAT}")
    videos = {}
    for name, frames in data.items():
        where = f"video {name!r}"
        if not isinstance(frames, dict):
            raise AnnotationError(path, f"{where}: a JSON {json_type(frames)}; expected an object "
                                        "{frame index: [[x1, y1, x2, y2], ...]}")
        videos[name] = {_frame(path, where, key): _boxes(path, f"{where}, frame {key}", boxes)
                        for key, boxes in frames.items()}
    return Boxes(path, videos)


def _read(path: str) -> bytes:
    if not os.path.exists(path):
        raise AnnotationError(path, "does not exist")
    if os.path.isdir(path):
        raise AnnotationError(path, "is a folder; expected a JSON file")
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)  # read no more than the bound, whatever stat said
    except OSError as exc:
        raise AnnotationError(path, f"cannot be read: {cause_of(exc)}") from exc
    if len(data) > MAX_BYTES:
        raise AnnotationError(path, f"larger than {MAX_BYTES // 2**20} MiB, the limit for an annotations file "
                                    "(it is parsed in memory and copied into every DataLoader worker)")
    return data


def _parse(path: str, data: bytes) -> Any:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AnnotationError(path, f"not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start}; "
                                    "expected JSON") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise AnnotationError(path, f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None


def _frame(path: str, where: str, key: str) -> int:
    if not (key.isascii() and key.isdigit()):
        raise AnnotationError(path, f"{where}, frame {key!r}: a frame key must be a frame index, an integer "
                                    "0 or more written as a string (\"12\")")
    return int(key)


def _boxes(path: str, where: str, boxes: object) -> np.ndarray:
    expected = "expected a list of boxes [[x1, y1, x2, y2], ...]"
    if not isinstance(boxes, list):
        raise AnnotationError(path, f"{where}: a JSON {json_type(boxes)}; {expected}")
    for n, box in enumerate(boxes):
        if not isinstance(box, list) or len(box) != 4:
            shape = f"{len(box)} items" if isinstance(box, list) else f"a JSON {json_type(box)}"
            raise AnnotationError(path, f"{where}: box {n} is {shape}; {expected}")
        if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in box):
            raise AnnotationError(path, f"{where}: box {n} is {json.dumps(box)[:60]}; expected four finite numbers")
    return np.asarray(boxes, dtype=np.float32).reshape(-1, 4)


def _listed(names: list[str], shown: int = 5) -> str:
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(repr(n) for n in names[:shown]) + more
