"""Shared fixtures: the tiny corpus and reference decodes.

A test that needs an optional library or tool calls ``require_loader(name)`` or
``skip_or_fail(reason)``: it is skipped with the reason when the thing is missing, and fails
instead when VIDBENCH_REQUIRE_ALL=1, so CI can never silently test less than it should.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import loaders
from benchmarks import corpus
from loaders import reference
from loaders.reference import Reference

REQUIRE_ALL = os.environ.get("VIDBENCH_REQUIRE_ALL") == "1"


def skip_or_fail(reason: str) -> None:
    if REQUIRE_ALL:
        pytest.fail(f"VIDBENCH_REQUIRE_ALL=1 and {reason}", pytrace=False)
    pytest.skip(reason)


def require_loader(name: str) -> None:
    reason = loaders.available().get(name, "not registered")
    if reason is not None:
        skip_or_fail(f"loader {name!r} unavailable: {reason}")


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    return Path(os.environ.get("VIDBENCH_CORPUS_DIR", corpus.DEFAULT_CACHE))


@pytest.fixture(scope="session")
def tiny_videos(corpus_dir: Path) -> dict[str, Path]:
    return corpus.make_all(corpus.TINY, corpus_dir, jobs=2)


@pytest.fixture(scope="session")
def references(tiny_videos: dict[str, Path]) -> dict[str, Reference]:
    """Every frame of every tiny profile, decoded once, sequentially, by the reference decoder."""
    return {name: reference.decode(path) for name, path in tiny_videos.items()}
