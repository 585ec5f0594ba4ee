"""Front door: `nox -s tests`, `nox -s lint` (and one environment per dependency stack)."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "tests-pillow-simd", "lint"]
nox.options.reuse_existing_virtualenvs = True

PYTHON = "3.11"


def install_main(session: nox.Session, *extras: str) -> None:
    # torch first and alone, so pip takes the CPU build of exactly this version.
    session.install("torch==2.13.0")
    session.install("-e", f".[{','.join(('main', *extras))}]")


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The test suite in the main stack (every loader, nothing skipped with VIDBENCH_REQUIRE_ALL=1)."""
    install_main(session, "test")
    session.run("pytest", *session.posargs)


# Pillow-SIMD has no wheels: it is built from source, with AVX2, against the system's libjpeg and
# zlib headers (.ci/run installs libjpeg-dev and zlib1g-dev).
PILLOW_SIMD = "pillow-simd==12.1.1.post0"
PILLOW_SIMD_TESTS = ["tests/test_frame_readers.py"]


@nox.session(python=PYTHON, name="tests-pillow-simd")
def tests_pillow_simd(session: nox.Session) -> None:
    """The frame-reader contract tests again with Pillow-SIMD in place of Pillow (no torch here)."""
    # Pillow-SIMD and Pillow are both the PIL package: install nothing that pulls Pillow. PyAV
    # (same pin as the main stack) is for the reference decode the tests compare against.
    session.install("-e", ".[test]", "av==18.1.0")
    session.install("--no-binary", "pillow-simd", PILLOW_SIMD, env={"CC": "cc -mavx2"})
    session.run("pytest", *(session.posargs or PILLOW_SIMD_TESTS), env={"VIDBENCH_STACK": "pillow-simd"})


@nox.session(python=PYTHON)
def report(session: nox.Session) -> None:
    """CSV tables and report.html for a run: `nox -s report -- RUN_DIR [--compare OTHER_RUN]`."""
    install_main(session)
    session.run("python", "-m", "reports", *(session.posargs or ["results/latest"]))


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff over everything, mypy over loaders/."""
    session.install("-e", ".[lint]")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", "--diff", "loaders")
    session.run("mypy", "loaders")
