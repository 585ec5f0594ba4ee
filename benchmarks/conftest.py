"""pytest-benchmark wiring: which cases exist, where their videos and stores come from.

``pytest --benchmark-only benchmarks/`` times every available loader x access pattern x corpus
profile. Narrow it with ``--vidbench-profiles``, ``--vidbench-loaders`` and
``--vidbench-patterns``, point it at your videos with ``--vidbench-videos DIR``, and add
``--vidbench-run DIR`` to append records to ``DIR/records.jsonl`` as the command line does.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest

import loaders
from benchmarks import cli, corpus, env, patterns, perframe, records, stores, verify
from benchmarks.patterns import Pattern, Sample
from benchmarks.perframe import Target
from benchmarks.records import Record


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("vidbench", "vidbench per-frame benchmarks")
    group.addoption("--vidbench-videos", type=Path, help="a folder of videos instead of the built-in corpus")
    group.addoption("--vidbench-profiles", help="comma-separated corpus profiles (default: corpus.DEFAULT)")
    group.addoption("--vidbench-loaders", help="comma-separated loaders (default: this stack's)")
    group.addoption("--vidbench-patterns", default=",".join(patterns.BASES), help="comma-separated patterns")
    group.addoption("--vidbench-frames", type=int, default=32, help="frames read per round")
    group.addoption("--vidbench-rounds", type=int, default=5)
    group.addoption("--vidbench-warmup", type=int, default=1)
    group.addoption("--vidbench-formats", default=",".join(cli.DEFAULT_FORMATS), help="store formats")
    group.addoption("--vidbench-run", type=Path, help="also append a record per benchmark to DIR/records.jsonl")


def pytest_benchmark_update_machine_info(config: pytest.Config, machine_info: dict[str, Any]) -> None:
    # Library and FFmpeg versions, git commit and stack: what makes two machine_infos comparable.
    machine_info["vidbench"] = env.capture()


def _videos(config: pytest.Config) -> dict[str, str]:
    """profile -> video path (built-in profiles are made when first used, not at collection)."""
    folder = config.getoption("--vidbench-videos")
    if folder is not None:
        return {p.stem: str(p) for p in sorted(Path(folder).iterdir()) if p.suffix.lower() in cli.VIDEO_SUFFIXES}
    names = config.getoption("--vidbench-profiles")
    return {n: "" for n in (names.split(",") if names else corpus.DEFAULT)}


def _targets(config: pytest.Config) -> list[Target]:
    names = config.getoption("--vidbench-loaders")
    stack = loaders.current_stack()
    wanted = names.split(",") if names else [*loaders.STACKS.get(stack, list(loaders.REGISTRY)), perframe.NULL]
    specs = stores.specs(["ffmpeg"], config.getoption("--vidbench-formats").split(","), 90)
    return perframe.targets(list(dict.fromkeys(wanted)), specs)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    config = metafunc.config
    if "read_case" in metafunc.fixturenames:
        pats = patterns.parse(config.getoption("--vidbench-patterns").split(","))
        cases = [(t, p, pat) for p in _videos(config) for t in _targets(config) for pat in pats]
        metafunc.parametrize("read_case", cases, ids=[f"{t.key}-{p}-{pat.name}" for t, p, pat in cases])
    if "open_case" in metafunc.fixturenames:
        cases2 = [(t, p) for p in _videos(config) for t in _targets(config)]
        metafunc.parametrize("open_case", cases2, ids=[f"{t.key}-{p}" for t, p in cases2])


class Bench:
    """Videos, stores, samples and reference frames, each made once per session."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.listed = _videos(config)
        self.store_root = corpus.DEFAULT_CACHE / "stores"
        self.frames = config.getoption("--vidbench-frames")
        self.rounds = config.getoption("--vidbench-rounds")
        self.warmup = config.getoption("--vidbench-warmup")
        run = config.getoption("--vidbench-run")
        self.records = None if run is None else Path(run) / "records.jsonl"

    @functools.cache  # noqa: B019 - one Bench per session
    def video(self, profile: str) -> str:
        return self.listed[profile] or str(corpus.make(profile))

    @functools.cache  # noqa: B019
    def num_frames(self, video: str) -> int:
        from loaders.probe import probe

        return probe(video).num_frames

    def path(self, target: Target, video: str) -> str:
        return video if target.spec is None else str(stores.ensure(self.store_root, video, target.spec))

    def samples(self, video: str, pattern: Pattern) -> list[Sample]:
        return patterns.head(pattern.samples({video: self.num_frames(video)}), self.frames)

    @functools.lru_cache(maxsize=1)  # noqa: B019 - reference frames can be large: keep one set
    def reference(self, video: str, pattern: Pattern) -> dict[int, Any]:
        return verify.reference_frames(video, self.samples(video, pattern), self.num_frames(video))

    def record(self, record: Record) -> None:
        if self.records is not None:
            self.records.parent.mkdir(parents=True, exist_ok=True)
            record.env = env.capture()
            record.run_id = self.records.parent.name
            record.cell = "|".join(["pytest", record.measure, record.stack, record.loader or "",
                                    record.format or "", record.profile, record.pattern or ""])
            records.append(self.records, record)


@pytest.fixture(scope="session")
def bench(pytestconfig: pytest.Config) -> Bench:
    return Bench(pytestconfig)


def require(target: Target) -> None:
    reason = loaders.available()[target.loader]
    if reason is not None:
        pytest.skip(f"loader {target.loader!r} unavailable: {reason}")
