"""Running part of a test where file permissions apply.

The tests run as root here, and root reads a ``chmod 000`` file and writes into a read-only folder
as if the permissions were not there (its capabilities ``CAP_DAC_OVERRIDE`` and
``CAP_DAC_READ_SEARCH``). :func:`unprivileged` runs a function in a forked child that drops those
two first, from the child and from whatever it starts (the bounding set), so an unreadable file or a
read-only folder is really one; it stays root otherwise, so Python and the tools still load. Not
root, permissions apply anyway and the child only runs the function.
"""

from __future__ import annotations

import ctypes
import os
import pickle
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH = 1, 2
_PR_CAPBSET_DROP = 24
_CAPABILITY_VERSION_3 = 0x20080522


class _Header(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _Data(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _drop_permission_override() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    header, data = _Header(_CAPABILITY_VERSION_3, 0), (_Data * 2)()
    if libc.capget(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capget")
    for cap in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")
    keep = ~((1 << _CAP_DAC_OVERRIDE) | (1 << _CAP_DAC_READ_SEARCH)) & 0xFFFFFFFF
    data[0].effective &= keep
    data[0].permitted &= keep
    data[0].inheritable &= keep
    if libc.capset(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capset")


def unprivileged(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in a forked child where file permissions apply; its result (pickled), or its
    traceback as an AssertionError."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 0
        try:
            os.close(read)
            if os.geteuid() == 0:
                _drop_permission_override()
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
        raise AssertionError(f"in the child where permissions apply:\n{value}")
    return value  # type: ignore[no-any-return]
