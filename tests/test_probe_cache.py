"""The probe cache recovers: damaged, foreign, read-only or deleted, it warns once and rebuilds or
runs in memory, never losing the run's probes and never raising."""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from unprivileged import unprivileged

from benchmarks import dataset
from benchmarks.dataset import ProbeCache, Video
from loaders.fileid import file_id

PROFILES = ("tiny-h264-bframes", "tiny-h264-odd", "tiny-h264-longgop")


def _videos(tiny_videos: dict[str, Path], folder: Path) -> list[str]:
    (folder / "videos").mkdir(exist_ok=True)
    out = []
    for name in PROFILES:
        out.append(str(folder / "videos" / f"{name}.mp4"))
        shutil.copy(tiny_videos[name], out[-1])
    return out


def _want(paths: list[str]) -> list[Video]:
    return [dataset.probe_one(p) for p in paths]


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and "probe cache" in r.getMessage()]


def _cached(cache: Path, paths: list[str]) -> list[Video | None]:
    """What the cache file holds for ``paths`` (None: not cached), read past this run's memory."""
    with sqlite3.connect(cache) as db:
        rows = dict(db.execute("SELECT path, video FROM probes").fetchall())
    return [Video(**json.loads(rows[p])) if p in rows else None for p in paths]


def _damage(kind: str, cache: Path) -> str:
    """Damage a cache file of a few probes; the words the warning must say."""
    if kind == "truncated":
        data = cache.read_bytes()
        cache.write_bytes(data[: len(data) // 2])
        return "malformed"
    if kind == "random bytes":
        cache.write_bytes(os.urandom(8192))
        return "not a database"
    if kind == "another table layout":
        cache.unlink()
        with sqlite3.connect(cache) as db:
            db.execute("CREATE TABLE probes (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, video TEXT)")
            db.execute("INSERT INTO probes VALUES ('x', 1, 2, '{}')")
        return "another table layout (columns path, size, mtime_ns, video)"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["truncated", "random bytes", "another table layout"])
def test_a_damaged_or_foreign_cache_is_rebuilt(kind: str, tiny_videos: dict[str, Path], tmp_path: Path,
                                               caplog: pytest.LogCaptureFixture) -> None:
    paths = _videos(tiny_videos, tmp_path)
    cache = tmp_path / "cache" / "probes.sqlite"
    dataset.probe_all(paths, cache=cache, jobs=1)
    for _ in range(20):  # a truncated cache must lose table pages, not only free space
        ProbeCache(cache).put([(Video(f"/nowhere/{_}/{i}.mp4", 1, error="x" * 900), file_id(paths[0]))
                               for i in range(8)])
    words = _damage(kind, cache)
    caplog.clear()
    assert dataset.probe_all(paths, cache=cache, jobs=1) == _want(paths)
    (warning,) = _warnings(caplog)  # once, naming the file and the cause
    assert str(cache) in warning and words in warning and "rebuilt" in warning, warning
    assert _cached(cache, paths) == _want(paths)  # rebuilt, with this run's probes
    caplog.clear()
    assert dataset.probe_all(paths, cache=cache, jobs=1) == _want(paths)
    assert _warnings(caplog) == []


def test_a_row_that_does_not_parse_is_replaced(tiny_videos: dict[str, Path], tmp_path: Path,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    paths = _videos(tiny_videos, tmp_path)
    cache = tmp_path / "probes.sqlite"
    dataset.probe_all(paths, cache=cache, jobs=1)
    with sqlite3.connect(cache) as db:
        db.execute("UPDATE probes SET video = '{\"path\": broken' WHERE path = ?", (paths[0],))
        db.execute("UPDATE probes SET video = '{\"no such field\": 1}' WHERE path = ?", (paths[1],))
    caplog.clear()
    assert dataset.probe_all(paths, cache=cache, jobs=1) == _want(paths)
    (warning,) = _warnings(caplog)
    assert str(cache) in warning and paths[0] in warning and "does not parse" in warning, warning
    assert _cached(cache, paths) == _want(paths)  # the rows replaced


def _probe_unprivileged(paths: list[str], cache: Path) -> tuple[list[Video], list[str], list[Video | None]]:
    """Probe twice in one cache that cannot be written; what it got and warned."""
    messages: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    logging.getLogger("benchmarks.dataset").addHandler(Keep())
    got = dataset.probe_all(paths, cache=cache, jobs=1)
    store = ProbeCache(cache)
    store.put([(v, file_id(v.path)) for v in got])
    kept = [store.get(p, file_id(p)) for p in paths]  # the run's probes, in memory
    store.close()
    return got, messages, kept


@pytest.mark.parametrize("where", ["file", "folder", "no file, in a read-only folder"])
def test_a_read_only_cache_runs_in_memory(where: str, tiny_videos: dict[str, Path], tmp_path: Path) -> None:
    paths = _videos(tiny_videos, tmp_path)
    cache = tmp_path / "cache" / "probes.sqlite"
    cache.parent.mkdir()
    if where != "no file, in a read-only folder":
        dataset.probe_all(paths[:1], cache=cache, jobs=1)  # a cache of one video
    if where == "file":
        cache.chmod(0o444)
    else:
        cache.parent.chmod(0o555)
    try:
        got, messages, kept = unprivileged(_probe_unprivileged, paths, cache)
    finally:
        cache.parent.chmod(0o755)
    assert got == _want(paths) and kept == _want(paths)
    warnings = [m for m in messages if "probe cache" in m]
    assert len(warnings) == 1 and str(cache) in warnings[0] and "in memory" in warnings[0], messages
    if cache.exists():
        assert _cached(cache, paths) == [_want(paths)[0], None, None]  # the file left as it was


def test_a_cache_deleted_mid_run_is_made_again_with_the_runs_probes(tiny_videos: dict[str, Path], tmp_path: Path,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    paths = _videos(tiny_videos, tmp_path)
    want = _want(paths)
    cache = tmp_path / "cache" / "probes.sqlite"
    store = ProbeCache(cache)
    store.put([(want[0], file_id(paths[0]))])
    shutil.rmtree(cache.parent)  # the whole cache folder, under the open cache
    store.put([(want[1], file_id(paths[1]))])
    store.put([(want[2], file_id(paths[2]))])
    assert [store.get(p, file_id(p)) for p in paths] == want
    store.close()
    (warning,) = _warnings(caplog)
    assert str(cache) in warning and "deleted" in warning and "rebuilt" in warning, warning
    assert _cached(cache, paths) == want  # every probe of the run, those before the deletion too


def test_a_probe_in_the_file_is_read_back_without_probing_again(tiny_videos: dict[str, Path], tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    paths = _videos(tiny_videos, tmp_path)
    cache = tmp_path / "probes.sqlite"
    first = dataset.probe_all(paths, cache=cache, jobs=1)
    assert all(v.key_span > 0 for v in first if v.keyframes > 1)  # the last keyframe kept with the count
    dataset._MEMORY.clear()  # a later run: only the file holds the probes

    def probe_again(path: str) -> Video:
        raise AssertionError(f"{path} probed again though its probe is in the cache file")

    monkeypatch.setattr(dataset, "probe_video", probe_again)
    monkeypatch.setattr(dataset, "probe_one", probe_again)
    assert dataset.probe_all(paths, cache=cache, jobs=1) == first


@pytest.mark.parametrize("field", ["key_span", "stream_bytes"])
def test_a_probe_cached_without_a_later_field_is_probed_again(tiny_videos: dict[str, Path], tmp_path: Path,
                                                              field: str) -> None:
    paths = _videos(tiny_videos, tmp_path)
    cache = tmp_path / "probes.sqlite"
    first = dataset.probe_all(paths, cache=cache, jobs=1)
    assert all(v.stream_bytes > 0 for v in first if v.error is None)
    dataset._MEMORY.clear()
    with sqlite3.connect(cache) as db:  # as an older version wrote them: without that field
        for path, video in db.execute("SELECT path, video FROM probes").fetchall():
            old = {k: v for k, v in json.loads(video).items() if k != field}
            db.execute("UPDATE probes SET video = ? WHERE path = ?", (json.dumps(old), path))
    assert dataset.probe_all(paths, cache=cache, jobs=1) == first
    assert _cached(cache, paths) == first  # and written back whole
