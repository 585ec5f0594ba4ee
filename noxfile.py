"""Front door: `nox -s tests`, `nox -s lint` (and one environment per dependency stack)."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint"]
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
