"""Front door: `nox -s tests`, `nox -s lint` (and one environment per dependency stack)."""

from __future__ import annotations

import nox
import nox.registry

# A plain `nox` is the whole test suite: every dependency stack, then lint (what CI runs).
nox.options.sessions = ["tests", "tests-pillow-simd", "tests-torchvision", "lint"]
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
    # tests/ only: benchmarks/ holds the per-frame benchmarks, which `pytest --benchmark-only` runs.
    session.run("pytest", *(session.posargs or ["tests"]))


# Pillow-SIMD has no wheels: it is built from source, with AVX2, against the system's libjpeg and
# zlib headers (.ci/run installs libjpeg-dev and zlib1g-dev).
PILLOW_SIMD = "pillow-simd==12.1.1.post0"
PILLOW_SIMD_TESTS = ["tests/test_frame_readers.py"]


def install_pillow_simd(session: nox.Session, *packages: str) -> None:
    # Pillow-SIMD and Pillow are both the PIL package: install nothing that pulls Pillow. PyAV
    # (same pin as the main stack) is for the reference decode frames are compared against.
    session.install("-e", ".[test]", "av==18.1.0", *packages)
    session.install("--no-binary", "pillow-simd", PILLOW_SIMD, env={"CC": "cc -mavx2"})


@nox.session(python=PYTHON, name="tests-pillow-simd")
def tests_pillow_simd(session: nox.Session) -> None:
    """The frame-reader contract tests again with Pillow-SIMD in place of Pillow (no torch here)."""
    install_pillow_simd(session)
    session.run("pytest", *(session.posargs or PILLOW_SIMD_TESTS), env={"VIDBENCH_STACK": "pillow-simd"})


# torchvision.io decodes video up to 0.25, which pins torch 2.10: the registry has it only as a
# CUDA build (4 GB of wheels with the nvidia-* ones, 7.5 GB installed; it runs on the CPU). The exact pins
# in the "torchvision" extra keep pip off a newer CPU torch a find-links may offer.
TORCHVISION_TESTS = ["tests/test_decode_contract.py", "tests/test_torchvision.py"]


def install_torchvision(session: nox.Session, *packages: str) -> None:
    session.install("-e", ".[torchvision,test]", *packages)


@nox.session(python=PYTHON, name="tests-torchvision")
def tests_torchvision(session: nox.Session) -> None:
    """The decode contract tests for torchvision.io's read_video and VideoReader, in their own stack."""
    install_torchvision(session)
    session.run("pytest", *(session.posargs or TORCHVISION_TESTS), env={"VIDBENCH_STACK": "torchvision"})


# --- the main job: `nox -s bench [-- --videos DIR --quick ...]` ------------------------------------
# The main stack measures first; each other stack then appends to the same run from its own
# environment (a stack whose environment cannot be built fails alone: the run keeps the rest),
# and the report renders whatever the run holds.
BENCH_STACKS = {"pillow-simd": "bench-pillow-simd", "torchvision": "bench-torchvision"}


def _bench_run(posargs: list[str]) -> tuple[list[str], str]:
    """The arguments every stack gets (one shared --run-id) and the run's directory."""
    import datetime
    import pathlib

    args = list(posargs)

    def value(flag: str, default: str) -> str:
        return args[args.index(flag) + 1] if flag in args[:-1] else default

    out = value("--out", "results")
    run_id = value("--run-id", "")
    if not run_id:
        latest = pathlib.Path(out, "latest")
        resume = "--resume" in args and latest.exists()
        run_id = latest.resolve().name if resume else datetime.datetime.now(datetime.UTC).strftime("%Y%m%d-%H%M%S")
        args += ["--run-id", run_id]
    return args, str(pathlib.Path(out, run_id))


@nox.session(python=PYTHON, default=False)
def bench(session: nox.Session) -> None:
    """Every loader of every stack on the built-in corpus (or `-- --videos DIR`) into one run, then the report."""
    install_main(session)
    args, run_dir = _bench_run(session.posargs)
    session.run("python", "-m", "benchmarks", *args, env={"VIDBENCH_STACK": "main"})
    sessions = nox.registry.get()
    for stack, name in BENCH_STACKS.items():
        if name in sessions:
            session.notify(name, args)
        else:
            session.warn(f"no {name} session: the {stack} stack is not measured")
    session.notify("report", [run_dir])


@nox.session(python=PYTHON, name="bench-pillow-simd", default=False)
def bench_pillow_simd(session: nox.Session) -> None:
    """The frame readers again with Pillow-SIMD, appended to a run: `-- --run-id ID` (as `bench` passes)."""
    # torch (the CPU build, which pulls no Pillow) and psutil for the DataLoader epochs.
    install_pillow_simd(session, "torch==2.13.0", "psutil==7.2.2")
    session.run("python", "-m", "benchmarks", *session.posargs, env={"VIDBENCH_STACK": "pillow-simd"})


@nox.session(python=PYTHON, name="bench-torchvision", default=False)
def bench_torchvision(session: nox.Session) -> None:
    """torchvision.io's loaders, appended to a run: `-- --run-id ID` (as `bench` passes)."""
    install_torchvision(session, "psutil==7.2.2")
    session.run("python", "-m", "benchmarks", *session.posargs, env={"VIDBENCH_STACK": "torchvision"})


@nox.session(python=PYTHON)
def report(session: nox.Session) -> None:
    """CSV tables and report.html for a run: `nox -s report -- RUN_DIR [--compare OTHER_RUN]`."""
    install_main(session)
    session.run("python", "-m", "reports", *(session.posargs or ["results/latest"]))


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff over everything, mypy over loaders/, benchmarks/ and reports/."""
    session.install("-e", ".[lint]")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", "--diff", "loaders")
    session.run("mypy", "loaders", "benchmarks", "reports")
