"""Tests never touch the user's cache: the session's VIDBENCH_CACHE_DIR is a temporary folder, and
processes the tests start inherit it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from benchmarks.stores import user_cache

ROOT = Path(__file__).resolve().parent.parent
HOME_CACHE = Path.home() / ".cache" / "vidbench"


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``folder`` -> (size, mtime in ns): what a write would change."""
    if not folder.exists():
        return {}
    return {os.fspath(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()}


def test_the_tests_cache_is_a_temporary_folder(private_cache: Path) -> None:
    assert os.environ["VIDBENCH_CACHE_DIR"] == str(private_cache)
    assert user_cache() == private_cache
    assert not private_cache.resolve().is_relative_to(HOME_CACHE.resolve())


def test_a_probe_in_a_child_process_writes_the_temporary_cache_not_the_users(
        private_cache: Path, tiny_videos: dict[str, Path]) -> None:
    before = snapshot(HOME_CACHE)
    video = tiny_videos["tiny-h264-odd"]
    # the child gets the environment as it is (no VIDBENCH_CACHE_DIR passed by hand), as a CLI run would
    code = "import sys; from benchmarks.dataset import probe_all; print(probe_all([sys.argv[1]], jobs=1)[0].path)"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-c", code, str(video)], env=env, capture_output=True, text=True,
                         timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == str(video)
    assert (private_cache / "probes.sqlite").is_file()
    assert snapshot(HOME_CACHE) == before
