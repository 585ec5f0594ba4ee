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

import argparse
from pathlib import Path
from typing import Any

import pytest

import loaders
from benchmarks import cli, core, corpus, env, records, stores
from benchmarks.calibration import time_round
from benchmarks.core import Case
from benchmarks.records import Record
from benchmarks.spec import RunSpec, Video

# The options of python -m benchmarks this front door takes too, as --vidbench-<option>: one
# table (:func:`benchmarks.cli.parser`), two front ends. The others keep their defaults.
SHARED = ("videos", "profiles", "quick", "loaders", "patterns", "frames", "min_time", "min_rounds", "warmup",
          "batch_size", "formats", "quality", "store_sizes", "full_size", "store_videos", "gops", "crf",
          "transcode_sizes", "transcode_loaders", "stores")


def add_options(group: Any) -> None:
    """The shared options of :func:`benchmarks.cli.parser` as ``--vidbench-*`` options of ``group``."""
    for action in cli.parser()._actions:
        if action.dest not in SHARED:
            continue
        flag = "--vidbench-" + action.option_strings[-1].lstrip("-")
        if isinstance(action, argparse._StoreTrueAction):
            group.addoption(flag, dest=f"vidbench_{action.dest}", action="store_true", help=action.help)
        else:
            group.addoption(flag, dest=f"vidbench_{action.dest}", type=action.type, default=action.default,
                            choices=action.choices, metavar=action.metavar, help=action.help)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("vidbench", "vidbench per-frame benchmarks (the options of python -m benchmarks)")
    add_options(group)
    group.addoption("--vidbench-run", type=Path, help="also append a record per benchmark to DIR/records.jsonl")


def values(config: pytest.Config) -> argparse.Namespace:
    """The options of python -m benchmarks: the shared ones as given here, the others at their defaults."""
    given = cli.parser().parse_args([])
    for dest in SHARED:
        setattr(given, dest, config.getoption(f"vidbench_{dest}"))
    return given


def run_spec(config: pytest.Config) -> RunSpec:
    """The session's run, built as the command line builds its own (:func:`benchmarks.core.run_spec`)."""
    return core.run_spec(values(config), {p: Video(path=v or "") for p, v in videos(config).items()},
                         loaders.current_stack())


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict[str, Any]) -> None:
    # Library and FFmpeg versions, git commit and stack: what makes two machine_infos comparable.
    machine_info["vidbench"] = env.capture()


def videos(config: pytest.Config) -> dict[str, str | None]:
    """profile -> video path (None: a built-in profile, made when first used, not at collection)."""
    folder = config.getoption("vidbench_videos")
    if folder is not None:
        return dict(core.find_videos(Path(folder)))
    names = config.getoption("vidbench_profiles")
    quick = config.getoption("vidbench_quick")
    return dict.fromkeys(names or (core.QUICK_PROFILES if quick else corpus.DEFAULT))


def all_cases(config: pytest.Config) -> list[Case]:
    spec = run_spec(config)
    return core.cases(spec.targets, spec.videos, spec.patterns, spec.frames, config.getoption("vidbench_store_videos"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    for name, measure in (("read_case", "per_frame"), ("open_case", "open")):
        if name in metafunc.fixturenames:
            chosen = [c for c in all_cases(metafunc.config) if c.measure == measure]
            metafunc.parametrize(name, chosen, ids=[c.id for c in chosen])


class Bench:
    """The session's :class:`benchmarks.core.Workspace`, and where its records go."""

    def __init__(self, config: pytest.Config) -> None:
        self.spec = run_spec(config)
        user = config.getoption("vidbench_videos") is not None
        self.work = core.Workspace(self.spec, config.getoption("vidbench_stores") or stores.default_root(user))
        run = config.getoption("--vidbench-run")
        self.records = None if run is None else Path(run) / "records.jsonl"

    def timer(self, benchmark: Any) -> core.Timer:
        """pytest-benchmark times the rounds; how many comes from the core's calibration rule."""
        calibration = self.spec.calibration

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
