"""Running part of a test where file permissions apply.

The tests run as root here, and root reads a ``chmod 000`` file and writes into a read-only folder
as if the permissions were not there (its capabilities ``CAP_DAC_OVERRIDE`` and
``CAP_DAC_READ_SEARCH``). :func:`unprivileged` runs a function in a fresh Python process started
under ``setpriv`` with those two dropped from its bounding set, so an unreadable file or a
read-only folder is really one; it stays root otherwise, so Python and the tools still load. Not
root, permissions apply anyway and the process only runs the function.

A fresh process, not a fork: pytest's process holds threads (torch's, the timeout's), and a fork of
it that starts a process pool can wait forever on a lock one of those threads held.
"""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

# The child: the function and its arguments come pickled on stdin (the function by its module and
# name), the result or the traceback goes back pickled on stdout.
_CHILD = """
import pickle, sys, traceback
fn, args = pickle.load(sys.stdin.buffer)
real = sys.stdout
sys.stdout = sys.stderr
try:
    out = ("ok", fn(*args))
except BaseException:
    out = ("error", traceback.format_exc())
pickle.dump(out, real.buffer)
real.flush()
"""


def unprivileged(fn: Callable[..., T], *args: Any, timeout: float = 600) -> T:
    """``fn(*args)`` in a process where file permissions apply; its result (pickled), or its
    traceback as an AssertionError. ``fn`` must be a module-level function."""
    command = [sys.executable, "-c", _CHILD]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        assert setpriv, "setpriv (util-linux) is needed to drop root's permission override"
        command = [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--", *command]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    done = subprocess.run(command, input=pickle.dumps((fn, args)), capture_output=True, env=env,
                          timeout=timeout, check=False)
    if done.returncode != 0 or not done.stdout:
        raise AssertionError(f"the process where permissions apply failed ({done.returncode}):\n"
                             f"{done.stderr.decode(errors='replace')}")
    kind, value = pickle.loads(done.stdout)
    if kind == "error":
        raise AssertionError(f"in the process where permissions apply:\n{value}")
    return value  # type: ignore[no-any-return]
