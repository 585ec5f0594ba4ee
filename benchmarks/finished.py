"""Whether each stack of a run finished: ``stack-<name>.json`` in the run directory, written when
the stack starts measuring (``finished`` null, and the seconds it was estimated to take) and again
when it ends (with the seconds it took), so how far the estimate was off can be checked later
(:func:`timing`, ``plan_accuracy``).

A stack stopped part-way (Ctrl-C, a crash, a machine that went away) leaves its file unfinished,
and the report names it at the top: its figures cover only what it measured. A run made before
these files existed has none, and nothing is said of it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

PREFIX = "stack-"


def _write(run_dir: Path, stack: str, finished: bool, **fields: float | None) -> None:
    path = Path(run_dir) / f"{PREFIX}{stack}.json"
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    data = json.loads(path.read_text(encoding="utf-8")) if finished and path.is_file() else {"started": now}
    data["finished"] = now if finished else None
    data.update({k: v for k, v in fields.items() if v is not None})
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)


def start(run_dir: Path, stack: str, estimated: float | None = None) -> None:
    """The stack starts measuring; ``estimated``: the seconds its estimate said it would take."""
    _write(run_dir, stack, finished=False, estimated_seconds=estimated)


def finish(run_dir: Path, stack: str, seconds: float | None = None) -> None:
    """The stack is done; ``seconds``: what it took since :func:`start`."""
    _write(run_dir, stack, finished=True, seconds=seconds)


def timing(run_dir: str | os.PathLike[str], stack: str) -> tuple[float, float] | None:
    """(seconds estimated, seconds taken) of a stack that finished, from its start to its end; None
    for one that did not, or that was written before these were kept."""
    try:
        data = json.loads((Path(run_dir) / f"{PREFIX}{stack}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not data.get("finished"):
        return None
    estimated, took = data.get("estimated_seconds"), data.get("seconds")
    if not (isinstance(estimated, (int, float)) and isinstance(took, (int, float)) and estimated > 0 and took > 0):
        return None
    return float(estimated), float(took)


def unfinished(run_dir: str | os.PathLike[str]) -> dict[str, str]:
    """Stack -> when it started, for each stack of the run that started and did not finish."""
    out = {}
    for path in sorted(Path(run_dir).glob(f"{PREFIX}*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # torn by the stop itself: the stack did not finish either, but when it began is lost
        if isinstance(data, dict) and not data.get("finished"):
            out[path.stem.removeprefix(PREFIX)] = str(data.get("started") or "")
    return out
