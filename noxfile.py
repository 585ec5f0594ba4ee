"""Front door: `nox` (the tests of every stack, then lint), `nox -s bench`, `nox -s report`.

Each dependency stack has one environment, `.nox/<stack>`, shared by its tests and bench sessions
and the report: the torchvision stack alone is 7.5 GB installed, and building it once per session
filled 23 GB.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import time
from pathlib import Path

import nox
import nox.registry

# A plain `nox` is the whole test suite: every dependency stack, then lint (what CI runs).
nox.options.sessions = ["tests", "tests-pillow-simd", "tests-torchvision", "lint"]
nox.options.reuse_existing_virtualenvs = True

PYTHON = "3.11"

# Pillow-SIMD has no wheels: it is built from source, with AVX2, against the system's libjpeg and
# zlib headers (.ci/run installs libjpeg-dev and zlib1g-dev). Pillow-SIMD and Pillow are both the PIL
# package: its stack installs nothing that pulls Pillow (the CPU build of torch does not). PyAV (same
# pin as the main stack) is for the reference decode frames are compared against.
PILLOW_SIMD = "pillow-simd==12.1.1.post0"

# torchvision.io decodes video up to 0.25, which pins torch 2.10: the registry has it only as a CUDA
# build (4 GB of wheels with the nvidia-* ones, 7.5 GB installed; it runs on the CPU). The exact pins in
# the "torchvision" extra keep pip off a newer CPU torch a find-links may offer.

# stack -> install steps for its tests (pip arguments, extra environment); main: torch first and
# alone, so pip takes the CPU build of exactly this version, and Ray for the extraction engine's tests.
Step = tuple[list[str], dict[str, str]]
STACKS: dict[str, list[Step]] = {
    "main": [(["torch==2.13.0"], {}), (["-e", ".[main,test,ray]"], {})],
    "pillow-simd": [
        (["-e", ".[test]", "av==18.1.0"], {}),
        (["--no-binary", "pillow-simd", PILLOW_SIMD], {"CC": "cc -mavx2"}),
    ],
    "torchvision": [(["-e", ".[torchvision,test]"], {})],
}
# What a stack's bench adds to the same environment: torch for the DataLoader epochs (the CPU build,
# which pulls no Pillow) and psutil for their memory.
BENCH_STEPS: dict[str, list[Step]] = {
    "main": [],
    "pillow-simd": [(["torch==2.13.0", "psutil==7.2.2"], {})],
    "torchvision": [(["psutil==7.2.2"], {})],
}

TESTS = {
    "main": ["tests"],  # tests/ only: `pytest --benchmark-only` runs the benchmarks in benchmarks/
    "pillow-simd": ["tests/test_frame_readers.py"],
    "torchvision": [
        "tests/test_decode_contract.py",
        "tests/test_torchvision.py",
        "tests/test_real_world.py",
        "tests/test_containers.py",
    ],
}


def stack_python(session: nox.Session, stack: str, steps: list[Step]) -> str:
    """The Python of ``stack``'s environment (``.nox/<stack>``), with ``steps`` installed in it.

    Each step done is recorded in the environment with the project's dependencies it saw, so a step
    runs again only when it or pyproject.toml changed (the project itself is installed editable).
    """
    env = Path(".nox", stack)
    python = env / "bin" / "python"
    record = env / ".vidbench-steps"
    if not python.exists():
        session.run_install(sys.executable, "-m", "virtualenv", "--quiet", "--python", PYTHON, str(env))
        record.unlink(missing_ok=True)
    done = set(record.read_text().split()) if record.exists() else set()
    pyproject = Path("pyproject.toml").read_text()
    for args, extra_env in steps:
        key = hashlib.sha256(json.dumps([args, extra_env, pyproject]).encode()).hexdigest()
        if key in done:
            continue
        session.run_install(str(python), "-m", "pip", "install", "--quiet", *args, env=extra_env)
        with record.open("a") as f:
            f.write(key + "\n")
    return str(python)


def run_tests(session: nox.Session, stack: str) -> None:
    python = stack_python(session, stack, STACKS[stack])
    session.run(python, "-m", "pytest", *(session.posargs or TESTS[stack]), env={"VIDBENCH_STACK": stack})


@nox.session(venv_backend="none")
def tests(session: nox.Session) -> None:
    """The test suite in the main stack (every loader, nothing skipped with VIDBENCH_REQUIRE_ALL=1)."""
    run_tests(session, "main")


@nox.session(venv_backend="none", name="tests-pillow-simd")
def tests_pillow_simd(session: nox.Session) -> None:
    """The frame-reader contract tests again with Pillow-SIMD in place of Pillow (no torch here)."""
    run_tests(session, "pillow-simd")


@nox.session(venv_backend="none", name="tests-torchvision")
def tests_torchvision(session: nox.Session) -> None:
    """The decode contract tests for torchvision.io's read_video and VideoReader, in their own stack."""
    run_tests(session, "torchvision")


# --- the main job: `nox -s bench [-- --videos DIR --quick ...]` ------------------------------------
# The main stack measures first; each other stack then appends to the same run from its own
# environment (a stack whose environment cannot be built fails alone: the run keeps the rest),
# and the report renders whatever the run holds.
BENCH_STACKS = {"pillow-simd": "bench-pillow-simd", "torchvision": "bench-torchvision"}


def _bench_run(posargs: list[str]) -> tuple[list[str], str]:
    """The arguments every stack gets (one shared --run-id) and the run's directory."""
    import datetime

    args = list(posargs)

    def value(flag: str, default: str) -> str:
        return args[args.index(flag) + 1] if flag in args[:-1] else default

    out = value("--out", "results")
    run_id = value("--run-id", "")
    if not run_id:
        latest = Path(out, "latest")
        resume = "--resume" in args and latest.exists()
        run_id = latest.resolve().name if resume else datetime.datetime.now(datetime.UTC).strftime("%Y%m%d-%H%M%S")
        args += ["--run-id", run_id]
    return args, str(Path(out, run_id))


def _seconds(text: str) -> float:
    """``90s``, ``10m``, ``1h30m`` or a number of seconds (as ``--budget`` takes them; the run checks the value)."""
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*([smhd]?)", text.strip().lower())
    return sum(float(n) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[u] for n, u in parts)


STOP_SECONDS = 30.0


def run_bench(session: nox.Session, stack: str, args: list[str]) -> None:
    python = stack_python(session, stack, STACKS[stack] + BENCH_STEPS[stack])
    env = {"VIDBENCH_STACK": stack}
    if os.environ.get("VIDBENCH_DEADLINE"):  # `bench` set it: this stack shares what is left with those after it
        order = ["main", *BENCH_STACKS]
        later = [s for s in order[order.index(stack) + 1:] if BENCH_STACKS[s] in nox.registry.get()]
        env["VIDBENCH_STACKS_LEFT"] = str(1 + len(later))
    # Ctrl-C: the run gets this long to stop its workers and say how to resume before nox
    # terminates it (nox's own default is 0.3 s).
    session.run(python, "-m", "benchmarks", *args, env=env, interrupt_timeout=STOP_SECONDS)


@nox.session(venv_backend="none", default=False)
def bench(session: nox.Session) -> None:
    """Every loader of every stack on the built-in corpus (or `-- --videos DIR`) into one run, then the report."""
    args, run_dir = _bench_run(session.posargs)
    if "--budget" in args[:-1] and not os.environ.get("VIDBENCH_DEADLINE"):
        # --budget bounds the whole bench, every stack together: one deadline, an absolute time,
        # which each stack's run reads (and its sessions, notified below, inherit).
        os.environ["VIDBENCH_DEADLINE"] = f"{time.time() + _seconds(args[args.index('--budget') + 1]):.0f}"
    # Said first: stores of a user's videos can take gigabytes (the run prints the exact paths too).
    session.log(f"the run goes to {run_dir}; stores to .corpus/stores (built-in corpus) or "
                "$VIDBENCH_CACHE_DIR/stores, default ~/.cache/vidbench/stores (--videos)")
    run_bench(session, "main", args)
    sessions = nox.registry.get()
    for stack, name in BENCH_STACKS.items():
        if name in sessions:
            session.notify(name, args)
        else:
            session.warn(f"no {name} session: the {stack} stack is not measured")
    session.notify("report", [run_dir])


@nox.session(venv_backend="none", name="bench-pillow-simd", default=False)
def bench_pillow_simd(session: nox.Session) -> None:
    """The frame readers again with Pillow-SIMD, appended to a run: `-- --run-id ID` (as `bench` passes)."""
    run_bench(session, "pillow-simd", session.posargs)


@nox.session(venv_backend="none", name="bench-torchvision", default=False)
def bench_torchvision(session: nox.Session) -> None:
    """torchvision.io's loaders, appended to a run: `-- --run-id ID` (as `bench` passes)."""
    run_bench(session, "torchvision", session.posargs)


@nox.session(venv_backend="none")
def report(session: nox.Session) -> None:
    """CSV tables and report.html for a run: `nox -s report -- RUN_DIR [--compare OTHER_RUN]`."""
    python = stack_python(session, "main", STACKS["main"])
    session.run(python, "-m", "reports", *(session.posargs or ["results/latest"]))


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff over everything, mypy over loaders/, benchmarks/ and reports/."""
    session.install("-e", ".[lint]")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", "--diff", "loaders")
    session.run("mypy", "loaders", "benchmarks", "reports")
