"""pytest-benchmark front door over :mod:`benchmarks.core`: the same cases, cells and records as
``python -m benchmarks``, timed by pytest-benchmark.

``pytest --benchmark-only benchmarks/`` times every available loader x access pattern x corpus
profile (opening a source, and reading a pattern's samples). Narrow it with
``--vidbench-profiles``, ``--vidbench-loaders`` and ``--vidbench-patterns``, point it at your
videos with ``--vidbench-videos DIR``, and add ``--vidbench-run DIR`` to append records to
``DIR/records.jsonl`` as the command line does. The defaults are the command line's
(:data:`benchmarks.core.SETTINGS`); ``--vidbench-quick`` takes ``--quick``'s.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

import loaders
from benchmarks import core, corpus, env, patterns, perframe, records, stores
from benchmarks.calibration import time_round
from benchmarks.core import Case
from benchmarks.records import Record
from benchmarks.spec import CRF


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("vidbench", "vidbench per-frame benchmarks (the options of python -m benchmarks)")
    group.addoption("--vidbench-videos", type=Path, help="a folder of videos instead of the built-in corpus")
    group.addoption("--vidbench-profiles", help="comma-separated corpus profiles (default: corpus.DEFAULT, "
                                                "or the --quick profile with --vidbench-quick)")
    group.addoption("--vidbench-quick", action="store_true", help="the defaults of python -m benchmarks --quick")
    group.addoption("--vidbench-loaders", help="comma-separated loaders (default: this stack's)")
    group.addoption("--vidbench-patterns", default=",".join(patterns.BASES), help="comma-separated patterns")
    group.addoption("--vidbench-frames", type=int, help="frames read per round")
    group.addoption("--vidbench-min-time", type=float, help="seconds of timed rounds per case, at least")
    group.addoption("--vidbench-min-rounds", type=int, help="timed rounds per case, at least")
    group.addoption("--vidbench-warmup", type=int, help="untimed rounds first")
    group.addoption("--vidbench-batch-size", type=int, help="frames per call of random-batch")
    group.addoption("--vidbench-formats", help=f"store formats (default: {','.join(core.DEFAULT_FORMATS)}; "
                                               f"--vidbench-quick: {','.join(core.QUICK_FORMATS)})")
    group.addoption("--vidbench-quality", type=int, default=90, help="JPEG quality of the stores")
    group.addoption("--vidbench-store-sizes", default=",".join("full" if s is None else str(s) for s in stores.SIZES),
                    help="frame stores at these short sides ('full': as decoded)")
    group.addoption("--vidbench-full-size", default=",".join(stores.FULL_SIZE_FORMATS),
                    help="formats also stored at full size ('' for none)")
    group.addoption("--vidbench-store-videos", default="one", choices=core.STORE_VIDEOS,
                    help="cases of stores at a fixed size on the first video only (one) or on every video (all)")
    group.addoption("--vidbench-gops", default=",".join(map(str, stores.GOPS)),
                    help="keyframe intervals of the transcoded stores ('' for none)")
    group.addoption("--vidbench-crf", type=int, default=CRF, help="H.264 crf of the transcoded stores")
    group.addoption("--vidbench-transcode-sizes", default=",".join(map(str, stores.TRANSCODE_SIZES)),
                    help="short sides of the transcoded stores")
    group.addoption("--vidbench-transcode-loaders", default=",".join(stores.TRANSCODE_LOADERS),
                    help="decode loaders timed on the transcoded stores")
    group.addoption("--vidbench-stores", type=Path, help="where stores are extracted")
    group.addoption("--vidbench-run", type=Path, help="also append a record per benchmark to DIR/records.jsonl")


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict[str, Any]) -> None:
    # Library and FFmpeg versions, git commit and stack: what makes two machine_infos comparable.
    machine_info["vidbench"] = env.capture()


def _list(config: pytest.Config, name: str) -> list[str] | None:
    value = config.getoption(name)
    return [x.strip() for x in value.split(",") if x.strip()] if value else None


def settings(config: pytest.Config) -> core.Settings:
    quick = config.getoption("--vidbench-quick")
    base = core.SETTINGS["quick" if quick else "default"]
    given = {"min_time": config.getoption("--vidbench-min-time"),
             "min_rounds": config.getoption("--vidbench-min-rounds"),
             "warmup": config.getoption("--vidbench-warmup")}
    calibration = dataclasses.replace(base.calibration, **{k: v for k, v in given.items() if v is not None})
    return dataclasses.replace(base, frames=config.getoption("--vidbench-frames") or base.frames,
                               calibration=calibration,
                               batch_size=config.getoption("--vidbench-batch-size") or base.batch_size)


def videos(config: pytest.Config) -> dict[str, str | None]:
    """profile -> video path (None: a built-in profile, made when first used, not at collection)."""
    folder = config.getoption("--vidbench-videos")
    if folder is not None:
        return dict(core.find_videos(Path(folder)))
    names = _list(config, "--vidbench-profiles")
    quick = config.getoption("--vidbench-quick")
    return dict.fromkeys(names or (core.QUICK_PROFILES if quick else corpus.DEFAULT))


def all_cases(config: pytest.Config) -> list[Case]:
    formats = _list(config, "--vidbench-formats") or (
        core.QUICK_FORMATS if config.getoption("--vidbench-quick") else core.DEFAULT_FORMATS)
    specs = stores.specs(["ffmpeg"], formats, config.getoption("--vidbench-quality"),
                         stores.parse_sizes(config.getoption("--vidbench-store-sizes")),
                         _list(config, "--vidbench-full-size") or [])
    specs += stores.transcodes([int(g) for g in _list(config, "--vidbench-gops") or []],
                               config.getoption("--vidbench-crf"),
                               stores.parse_sizes(config.getoption("--vidbench-transcode-sizes")))
    targets = perframe.targets(core.loader_names(_list(config, "--vidbench-loaders"), loaders.current_stack()), specs,
                               _list(config, "--vidbench-transcode-loaders") or [])
    found = settings(config)
    pattern_list = patterns.parse(_list(config, "--vidbench-patterns") or [], strides=core.DEFAULT_STRIDES,
                                  batch=found.batch_size)
    return core.cases(targets, videos(config), pattern_list, found.frames,
                      config.getoption("--vidbench-store-videos"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    for name, measure in (("read_case", "per_frame"), ("open_case", "open")):
        if name in metafunc.fixturenames:
            chosen = [c for c in all_cases(metafunc.config) if c.measure == measure]
            metafunc.parametrize(name, chosen, ids=[c.id for c in chosen])


class Bench:
    """The session's :class:`benchmarks.core.Workspace`, and where its records go."""

    def __init__(self, config: pytest.Config) -> None:
        self.settings = settings(config)
        user = config.getoption("--vidbench-videos") is not None
        self.work = core.Workspace(self.settings, config.getoption("--vidbench-stores")
                                   or stores.default_root(user), videos(config))
        run = config.getoption("--vidbench-run")
        self.records = None if run is None else Path(run) / "records.jsonl"

    def timer(self, benchmark: Any) -> core.Timer:
        """pytest-benchmark times the rounds; how many comes from the core's calibration rule."""
        calibration = self.settings.calibration

        def timed(fn: Any, setup: Any) -> list[float]:
            warm = [time_round(fn, setup) for _ in range(calibration.warmup)]
            benchmark.pedantic(fn, setup=setup, rounds=calibration.plan(warm[-1] if warm else None),
                               warmup_rounds=0, iterations=1)
            return list(benchmark.stats.stats.data)

        return timed

    def record(self, case: Case, record: Record) -> None:
        if self.records is not None:
            self.records.parent.mkdir(parents=True, exist_ok=True)
            records.append(self.records, core.stamp(record, case.cell, self.records.parent.name))


@pytest.fixture(scope="session")
def bench(pytestconfig: pytest.Config) -> Bench:
    return Bench(pytestconfig)


def require(case: Case) -> None:
    reason = loaders.available()[case.target.loader]
    if reason is not None:
        pytest.skip(f"loader {case.target.loader!r} unavailable: {reason}")
