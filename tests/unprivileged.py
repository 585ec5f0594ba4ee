"""Running part of a test as a user that file permissions stop.

The tests run as root here, and root reads a ``chmod 000`` file and writes into a read-only folder
as if the permissions were not there. :func:`as_nobody` runs a function in a forked child that drops
to uid and gid ``nobody`` first (when it is root), so an unreadable file or a read-only folder is
really one; :func:`shared_folder` is a folder that user can reach (pytest's own are root's alone).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import shutil
import tempfile
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

NOBODY = 65534
T = TypeVar("T")


def as_nobody(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in a forked child without root's powers; its result (pickled) or its traceback
    as an AssertionError."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 0
        try:
            os.close(read)
            if os.geteuid() == 0:
                os.setgroups([])
                os.setgid(NOBODY)
                os.setuid(NOBODY)
            out: tuple[str, Any] = ("ok", fn(*args))
        except BaseException:  # noqa: BLE001 - everything goes back to the test
            out = ("error", traceback.format_exc())
        try:
            with os.fdopen(write, "wb") as f:
                pickle.dump(out, f)
        except BaseException:  # noqa: BLE001
            code = 1
        os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as f:
        data = f.read()
    os.waitpid(pid, 0)
    kind, value = pickle.loads(data)
    if kind == "error":
        raise AssertionError(f"in the child as nobody:\n{value}")
    return value  # type: ignore[no-any-return]


@contextlib.contextmanager
def shared_folder() -> Iterator[Path]:
    """A temporary folder every user can reach and write into (what root writes in it is 0644)."""
    folder = Path(tempfile.mkdtemp(prefix="vidbench-test-"))
    folder.chmod(0o777)
    try:
        yield folder
    finally:
        for dirpath, dirnames, _ in os.walk(folder):
            for name in dirnames:
                os.chmod(os.path.join(dirpath, name), 0o755)
        shutil.rmtree(folder, ignore_errors=True)
