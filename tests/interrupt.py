"""Ctrl-C sent to a command under test, as a terminal or ``kill -INT`` sends it."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from typing import Any

import psutil

STOP_BOUND = 60.0  # seconds: against a hang, not a speed figure (a loaded two-core machine)


@dataclasses.dataclass
class Stopped:
    returncode: int
    stdout: str
    stderr: str
    seconds: float  # from the SIGINT to the command's exit
    children: list[psutil.Process]  # its processes when the SIGINT was sent


def interrupt(command: Sequence[str], ready: Callable[[list[psutil.Process]], bool], to: str, wait: float,
              **popen: Any) -> Stopped:
    """Start ``command`` in a session of its own, wait (``wait`` seconds at most) until ``ready``
    (given its child processes) says it is at work, then send SIGINT to the process alone
    (``to="process"``) or to its process group (``to="group"``, a terminal's Ctrl-C), and wait for
    it to end (:data:`STOP_BOUND` at most). The command is killed if anything goes wrong."""
    run = subprocess.Popen(list(command), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           start_new_session=True, **popen)
    try:
        deadline = time.monotonic() + wait
        children: list[psutil.Process] = []
        at_work = False
        while not at_work and time.monotonic() < deadline and run.poll() is None:
            children = psutil.Process(run.pid).children(recursive=True)
            at_work = ready(children)
            if not at_work:
                time.sleep(0.1)
        assert run.poll() is None and at_work, "the command ended, or never got to work, before the SIGINT"
        sent = time.monotonic()
        if to == "group":
            os.killpg(run.pid, signal.SIGINT)
        else:
            run.send_signal(signal.SIGINT)
        stdout, stderr = run.communicate(timeout=STOP_BOUND)
        return Stopped(run.returncode, stdout, stderr, time.monotonic() - sent, children)
    finally:
        if run.poll() is None:
            run.kill()
            run.communicate()
