"""The environment a measurement ran in: every record carries it, so runs can be compared honestly."""

from __future__ import annotations

import functools
import importlib.metadata
import os
import platform
import resource
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import loaders
from loaders.registry import loader_class

# Distributions whose versions change the results; absent ones are left out.
DISTRIBUTIONS = ("numpy", "torch", "torchvision", "torchcodec", "av", "opencv-python-headless",
                 "opencv-python", "decord2", "decord", "pillow", "pillow-simd", "simplejpeg", "imageio-ffmpeg",
                 "PyNvVideoCodec", "nvidia-dali-cuda120", "nvidia-dali-cuda130")

ROOT = Path(__file__).resolve().parent.parent


def cores() -> int:
    """CPU cores this process may use (the affinity mask, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def load(samples: int = 10, every: float = 0.05) -> float:
    """Processes competing for the cores now: the lower of the 1-minute load average (which lags,
    and still counts a run that ended a moment ago) and the tasks runnable besides this one,
    averaged over ``samples`` looks ``every`` seconds apart (``procs_running`` in ``/proc/stat``,
    Linux; elsewhere the average alone)."""
    average = os.getloadavg()[0]
    counts = []
    try:
        for i in range(samples):
            if i:
                time.sleep(every)
            stat = Path("/proc/stat").read_text().splitlines()
            counts.append(next(int(line.split()[1]) for line in stat if line.startswith("procs_running ")))
    except (OSError, ValueError, IndexError, StopIteration):
        return average
    return min(average, max(0.0, sum(counts) / len(counts) - 1))


def cpu_seconds() -> float:
    """User plus system CPU seconds so far of this process and of its children that have ended
    and been waited for. An epoch's workers are joined when its iterator is deleted, and an
    extraction's FFmpeg when it exits, so the difference across either (taken after that) is the
    CPU it occupied."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def own_cpu_seconds() -> float:
    """User plus system CPU seconds so far of this process alone."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def versions() -> dict[str, str]:
    out = {}
    for dist in DISTRIBUTIONS:
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out


def _first_line(cmd: list[str]) -> str | None:
    try:
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return run.stdout.splitlines()[0].strip() if run.returncode == 0 and run.stdout else None


def ffmpeg_versions() -> dict[str, str]:
    """Each FFmpeg in play: the system's (torchcodec), imageio-ffmpeg's (corpus, extraction), PyAV's."""
    out: dict[str, str] = {}
    if (system := shutil.which("ffmpeg")) and (line := _first_line([system, "-version"])):
        out["system"] = line
    try:
        import imageio_ffmpeg

        if line := _first_line([imageio_ffmpeg.get_ffmpeg_exe(), "-version"]):
            out["imageio-ffmpeg"] = line
    except (ImportError, RuntimeError):
        pass
    try:  # PyAV carries its own FFmpeg libraries; a missing PyAV is the registry's business
        import av

        libavcodec = av.library_versions.get("libavcodec")
        if libavcodec:
            out["pyav-libavcodec"] = ".".join(map(str, libavcodec))
    except ImportError:
        pass
    return out


def gpu() -> dict[str, Any] | None:
    """The CUDA device records are measured on (device 0, torch's default): name, memory, compute
    capability, the driver and the CUDA torch was built for; None without one."""
    try:
        import torch
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None
    props = torch.cuda.get_device_properties(0)
    driver = _first_line(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader", "--id=0"])
    if driver is None:  # no nvidia-smi in a container: the kernel module says its version too
        try:
            words = Path("/proc/driver/nvidia/version").read_text().split()
            driver = next((w for w in words if w[:1].isdigit() and w.count(".") >= 1), None)
        except OSError:
            pass
    return {"name": props.name, "memory_bytes": int(props.total_memory), "capability": f"{props.major}.{props.minor}",
            "devices": torch.cuda.device_count(), "driver": driver, "cuda": torch.version.cuda}


def git_commit() -> str | None:
    commit = _first_line(["git", "-C", str(ROOT), "rev-parse", "HEAD"])
    if commit is None:
        return None
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return commit + ("-dirty" if dirty else "")


@functools.cache
def capture() -> dict[str, Any]:
    """The environment of this process, computed once; threads are per record, not here."""
    return {
        "cpu": cpu_model(),
        "cores": cores(),
        "machine_cores": os.cpu_count(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "versions": versions(),
        "ffmpeg": ffmpeg_versions(),
        "thread_env": {k: v for k, v in os.environ.items() if k.endswith("_NUM_THREADS")},
        "git_commit": git_commit(),
        "stack": loaders.current_stack(),
        **({"gpu": device} if (device := gpu()) else {}),
    }


def library(loader: str) -> str | None:
    """The library (with version) behind a loader, as its class declares it; None if unavailable."""
    if loaders.available().get(loader, "unknown") is not None:
        return None
    value = getattr(loader_class(loader), "library", None)
    return None if value is None else str(value)
