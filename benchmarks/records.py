"""Results are data: one JSON object per line in ``results/<run-id>/records.jsonl``.

Every measurement appends one :class:`Record`; every dependency stack appends to the same file,
and the reports read it back. Fields that do not apply to a measurement are ``None``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import statistics
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

Measure = Literal["per_frame", "open", "epoch", "extraction"]
Status = Literal["ok", "wrong", "unavailable", "error"]


@dataclasses.dataclass
class Record:
    measure: Measure
    loader: str | None  # loader name; None for an extraction record
    kind: str | None  # "decode" or "frames"
    stack: str  # "main", "pillow-simd", "torchvision"
    profile: str  # corpus profile name, or the name of the user's video set
    pattern: str | None = None  # access pattern; None for open and extraction
    frames: int = 0  # frames served per round (per epoch for "epoch", per corpus for "extraction")
    seconds: list[float] = dataclasses.field(default_factory=list)  # wall seconds of each round
    fps_median: float | None = None
    fps_p25: float | None = None
    fps_p75: float | None = None
    workers: int | None = None  # DataLoader workers ("epoch" only)
    batch_size: int | None = None
    threads: dict[str, int] = dataclasses.field(default_factory=dict)  # torch, opencv, ffmpeg
    extractor: str | None = None  # for frame loaders and extraction records
    format: str | None = None  # jpeg, png, npy, tar
    quality: int | None = None
    bytes: int | None = None  # bytes on disk of the extracted store(s)
    source_bytes: int | None = None  # bytes of the source videos the store came from
    peak_rss_bytes: int | None = None  # main process plus workers
    exact: bool | None = None  # loader returned exactly the reference frames
    status: Status = "ok"
    reason: str | None = None  # why unavailable / wrong / error
    library: str | None = None  # e.g. "av 18.1.0"
    options: dict[str, Any] = dataclasses.field(default_factory=dict)
    run_id: str = ""
    cell: str = ""  # identifies the measurement within the run, for --resume
    time: str = ""  # ISO 8601, UTC
    env: dict[str, Any] = dataclasses.field(default_factory=dict)

    def with_fps(self) -> Record:
        """Fill fps_median / p25 / p75 from ``frames`` and ``seconds``."""
        self.fps_median, self.fps_p25, self.fps_p75 = fps_stats(self.frames, self.seconds)
        return self


def valid_seconds(record: Record) -> list[float]:
    """The record's rounds that are real durations (finite, positive): records are read back
    from files other versions or other hands may have written."""
    values = record.seconds if isinstance(record.seconds, list) else []
    return [float(v) for v in values if isinstance(v, int | float) and math.isfinite(v) and v > 0]


def fps_stats(frames: int, seconds: Sequence[float]) -> tuple[float | None, float | None, float | None]:
    """Median, 25th and 75th percentile of frames/second over the rounds."""
    rates = sorted(frames / s for s in seconds if s > 0)
    if not rates:
        return None, None, None
    if len(rates) == 1:
        return rates[0], rates[0], rates[0]
    q = statistics.quantiles(rates, n=4, method="inclusive")
    return statistics.median(rates), q[0], q[2]


def append(path: str | os.PathLike[str], record: Record) -> None:
    """Append one record as one line; a line is written whole or not at all (O_APPEND)."""
    line = json.dumps(dataclasses.asdict(record), sort_keys=True) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def read(path: str | os.PathLike[str]) -> Iterator[Record]:
    """Records of a run; a torn last line (a run killed mid-write) is skipped."""
    names = {f.name for f in dataclasses.fields(Record)}
    for line in Path(path).read_text().splitlines():
        try:
            data = json.loads(line)
        except json.JSONDecodeError:
            continue
        yield Record(**{k: v for k, v in data.items() if k in names})
