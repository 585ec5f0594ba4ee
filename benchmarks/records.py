"""Results are data: one JSON object per line in ``results/<run-id>/records.jsonl``.

Every measurement appends one :class:`Record`; every dependency stack appends to the same file,
and the reports read it back. Fields that do not apply to a measurement are ``None``. The store a
record read or made is one object, ``{"store": {"extractor": ..., "format": ..., "quality": ...,
"store_size": ..., "gop": ..., "crf": ...}}`` (:class:`benchmarks.spec.Store`); records of older runs,
which spelt it in flat fields with the gop and crf in ``options``, are read as well.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import math
import os
import statistics
import types
import typing
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from benchmarks.spec import Store

log = logging.getLogger(__name__)

# "anchor": the run's anchor case, timed at each stack's start, between its epochs and at its end
# (benchmarks.analysis.drift)
Measure = Literal["per_frame", "open", "epoch", "extraction", "anchor"]
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
    store: Store | None = None  # the store read or made; None for a decode of the original videos
    bytes: int | None = None  # bytes on disk of the extracted store(s)
    source_bytes: int | None = None  # bytes of the source videos the store came from
    peak_rss_bytes: int | None = None  # main process plus workers
    cache: str | None = None  # "cold" (files evicted from the page cache first) or "warm"; None: not controlled
    exact: bool | None = None  # loader returned exactly the reference frames
    status: Status = "ok"
    reason: str | None = None  # why unavailable / wrong / error
    library: str | None = None  # e.g. "av 18.1.0"
    options: dict[str, Any] = dataclasses.field(default_factory=dict)
    run_id: str = ""
    cell: str = ""  # identifies the measurement within the run, for --resume
    time: str = ""  # ISO 8601, UTC
    env: dict[str, Any] = dataclasses.field(default_factory=dict)

    # The store's fields, read through: what the tables and the analysis group records by.
    @property
    def extractor(self) -> str | None:
        return self.store.extractor if self.store else None

    @property
    def format(self) -> str | None:  # noqa: A003 - the records' word
        return self.store.format if self.store else None

    @property
    def quality(self) -> int | None:
        return self.store.quality if self.store else None

    @property
    def store_size(self) -> int | None:
        """Short side of the frames in the store, pixels; None: as decoded (or no store)."""
        return self.store.store_size if self.store else None

    def with_fps(self) -> Record:
        """Fill fps_median / p25 / p75 from ``frames`` and ``seconds``."""
        self.fps_median, self.fps_p25, self.fps_p75 = fps_stats(self.frames, self.seconds)
        return self


def measured(record: Record) -> bool:
    """Whether a record holds a measurement: frames were read and checked (right or wrong), as
    opposed to a loader that could not run, a video that could not be read or a cell that failed.
    A run none of whose records is one has nothing to report."""
    return record.status in ("ok", "wrong") and record.frames > 0


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
    """Records of a run. A line that is not a record is skipped and reported as a warning with
    its line number; a torn last line (a run killed mid-write) is skipped quietly."""
    good, malformed = scan(path)
    if malformed:
        log.warning("%s", describe(path, malformed))
    yield from good


@dataclasses.dataclass(frozen=True)
class Malformed:
    line: int  # 1-based
    why: str


def scan(path: str | os.PathLike[str]) -> tuple[list[Record], list[Malformed]]:
    """(the records of a run, the lines that are not records and why)."""
    good: list[Record] = []
    malformed: list[Malformed] = []
    data = Path(path).read_bytes()
    lines = data.split(b"\n")
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        record = None
        try:
            record = parse(json.loads(raw))
        except UnicodeDecodeError:
            why = "not UTF-8 text"
        except json.JSONDecodeError as exc:
            if number == len(lines):  # no newline after it: the write was cut short, not a bad record
                continue
            why = f"not JSON ({exc.msg})"
        except ValueError as exc:
            why = str(exc)
        if record is None:
            malformed.append(Malformed(number, why))
        else:
            good.append(record)
    return good, malformed


def describe(path: str | os.PathLike[str], malformed: Sequence[Malformed], shown: int = 20) -> str:
    """One warning for every malformed line of a file: how many, and the first few with why."""
    count = len(malformed)
    lines = "; ".join(f"line {m.line}: {m.why}" for m in malformed[:shown])
    more = f"; and {count - shown} more" if count > shown else ""
    return (f"{os.fspath(path)}: skipped {count} line{'s' if count != 1 else ''} that "
            f"{'are' if count != 1 else 'is'} not a record ({lines}{more})")


# Fields of a record no measurement makes negative: a file that says so was not written by a run.
NOT_NEGATIVE = ("frames", "seconds", "fps_median", "fps_p25", "fps_p75", "workers", "batch_size", "bytes",
                "source_bytes", "peak_rss_bytes")
# The largest magnitude a number in a results file may have: beyond it no count or size is real,
# and arithmetic on it overflows a float (a byte count of 10^400).
LARGEST = 2.0**63


def parse(data: object) -> Record:
    """A record from one decoded JSON line; ValueError says why it is not one. Keys a record does
    not have are ignored (a newer version may add fields); every known field must have its type,
    so no report or crossover meets a string where it does arithmetic, and every number must be
    finite and in range (no NaN, Infinity, 10^400 or negative seconds)."""
    if isinstance(data, dict):
        data = _nested(data)
        store = data.get("store")
        if isinstance(store, dict) and "format" not in store:
            raise ValueError("field 'store' has no format")
    fields = conform(data, Record)
    for name in NOT_NEGATIVE:
        value = fields.get(name)
        if any(v < 0 for v in (value if isinstance(value, list) else [value]) if v is not None):
            raise ValueError(f"field {name!r} is negative ({_short(value)})")
    store = fields.get("store")
    for name in ("store_size", "quality", "gop", "crf"):
        value = getattr(store, name, None)
        if value is not None and value < 0:
            raise ValueError(f"field 'store.{name}' is negative ({value})")
    return Record(**fields)


_FLAT = ("extractor", "format", "quality", "store_size")


def _nested(data: dict[str, Any]) -> dict[str, Any]:
    """A line of an older run, its store in flat fields and its gop and crf in ``options``, as a
    line of this one; a line with ``store`` (or without any store) as it is."""
    if "store" in data or not any(k in data for k in _FLAT):
        return data
    out = {k: v for k, v in data.items() if k not in _FLAT}
    if data.get("format") is None:
        return out
    options = data.get("options")
    coding = {k: options[k] for k in ("gop", "crf") if k in options} if isinstance(options, dict) else {}
    if coding and isinstance(options, dict):
        out["options"] = {k: v for k, v in options.items() if k not in coding}
    out["store"] = {"extractor": data.get("extractor") or "", **{k: data.get(k) for k in _FLAT[1:]}, **coding}
    return out


def _dataclass_of(hint: Any) -> Any:
    """The dataclass a field holds (``Store`` of ``Store | None``), or None."""
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return hint
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        kinds = [a for a in typing.get_args(hint) if isinstance(a, type) and dataclasses.is_dataclass(a)]
        return kinds[0] if len(kinds) == 1 else None
    return None


def conform(data: object, cls: type, where: str = "") -> dict[str, Any]:
    """The fields of dataclass ``cls`` in ``data`` (a decoded JSON object), checked: required ones
    present, each of its annotated type (dataclasses within, and objects of them, checked alike),
    every number finite and within :data:`LARGEST`. Keys ``cls`` lacks are dropped. A ValueError
    names the field (``where`` prefixes it: ``classes.720p h264.frames``) and what it holds."""
    if not isinstance(data, dict):
        raise ValueError(f"{where + ' is ' if where else ''}a JSON {json_type(data)}, not an object")
    hints = _field_types(cls)
    missing = [name for name in _required(cls) if name not in data]
    if missing:
        raise ValueError(f"{where + ': ' if where else ''}missing field{'s' if len(missing) > 1 else ''} "
                         f"{', '.join(missing)}")
    out: dict[str, Any] = {}
    for name, value in data.items():
        if name not in hints:
            continue
        hint, path = hints[name], f"{where}.{name}" if where else name
        if not _conforms(value, hint):
            raise ValueError(f"field {path!r} is a JSON {json_type(value)} ({_short(value)}), "
                             f"expected {_hint_text(hint)}")
        bad = _out_of_range(value, hint)
        if bad is not None:
            raise ValueError(f"field {path!r} holds {bad}, not a number a run writes")
        if (kind := _dataclass_of(hint)) is not None and isinstance(value, dict):
            value = kind(**conform(value, kind, path))
        elif typing.get_origin(hint) is dict and dataclasses.is_dataclass(typing.get_args(hint)[1]):
            kind = typing.get_args(hint)[1]
            value = {k: kind(**conform(v, kind, f"{path}.{k}")) for k, v in value.items()}
        out[name] = value
    return out


def _out_of_range(value: object, hint: Any) -> str | None:
    """How a number in ``value`` (or in its list or object values) is out of range, or None.
    Fields of any type (``env``, ``options``) are left as they are: no figure is read from them."""
    if hint is Any or dataclasses.is_dataclass(hint):  # a dataclass is checked field by field (conform)
        return None
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if isinstance(value, list | dict):
        inner = args[0] if origin is list and isinstance(value, list) else \
            args[1] if origin is dict and isinstance(value, dict) else Any
        for v in value if isinstance(value, list) else value.values():
            bad = _out_of_range(v, inner)
            if bad is not None:
                return bad
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(value, float) and not math.isfinite(value):
            return json.dumps(value)  # NaN, Infinity: as the file spells them
        if abs(value) > LARGEST:
            return f"{_short(value)}, beyond 2^63"
    return None


@functools.cache
def _field_types(cls: type = Record) -> dict[str, Any]:
    return typing.get_type_hints(cls)


@functools.cache
def _required(cls: type = Record) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls)
                 if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)


def _conforms(value: object, hint: Any) -> bool:
    """Whether a decoded JSON value has the type a field is annotated with."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return True
    if hint is type(None):
        return value is None
    if origin in (typing.Union, types.UnionType):
        return any(_conforms(value, arg) for arg in args)
    if origin is Literal:
        return value in args
    if hint is bool:
        return isinstance(value, bool)
    if hint in (int, float):  # JSON has one number type; a bool is not one here
        return isinstance(value, int | float) and not isinstance(value, bool) and \
            (hint is float or isinstance(value, int))
    if origin in (list, Sequence):
        return isinstance(value, list) and all(_conforms(v, args[0]) for v in value)
    if origin is tuple:  # JSON writes a tuple as an array
        return isinstance(value, list)
    if origin in (dict, Mapping):
        return isinstance(value, dict) and all(_conforms(v, args[1]) for v in value.values())
    if dataclasses.is_dataclass(hint):  # written by dataclasses.asdict: an object, turned back by its reader
        return isinstance(value, dict)
    try:
        return isinstance(value, hint)
    except TypeError:  # a type this check does not know how to test: the field's reader has to
        return True


def _hint_text(hint: Any) -> str:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_hint_text(arg) for arg in args)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if hint is type(None):
        return "null"
    if origin is list:
        return f"an array of {_PLURAL.get(args[0], _hint_text(args[0]))}"
    if origin is dict:
        return f"an object of {_PLURAL.get(args[1], _hint_text(args[1]))}"
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false"}.get(hint, str(hint))


_PLURAL = {str: "strings", int: "integers", float: "numbers", Any: "any values"}


def json_type(value: object) -> str:
    """The JSON name of a decoded value's type, for messages about a file's contents."""
    names = {bool: "boolean", int: "number", float: "number", str: "string", list: "array", dict: "object"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _short(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**40:
        return f"a {len(str(abs(value)))}-digit number"
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."
