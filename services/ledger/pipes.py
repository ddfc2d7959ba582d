"""What the rebuild's processes share: pickled frames over a pipe, and dying with the parent.

The rebuild runs as service → rebuild worker → replay reader (ADR 0018). Each child reads from
or writes to its parent only, over its stdout. Pickle is safe here because both ends are
this code, and it is the cheapest way to move lists of bytes. A child that outlived its parent
would go on writing a shadow nobody swaps in, so each child asks the kernel to kill it with its
parent and also checks that the parent is still there.
"""

from __future__ import annotations

import ctypes
import os
import pickle
import signal
import struct
from typing import Any, BinaryIO, Iterator

_FRAME = struct.Struct("<I")


def die_with_parent() -> None:
    """SIGKILL this process when its parent exits (Linux PR_SET_PDEATHSIG; elsewhere a no-op,
    and `parent_gone` remains)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


class ParentWatch:
    def __init__(self) -> None:
        self.parent = os.getppid()

    def gone(self) -> bool:
        return os.getppid() != self.parent


def write_frame(out: BinaryIO, obj: Any) -> None:
    data = pickle.dumps(obj, protocol=5)
    out.write(_FRAME.pack(len(data)))
    out.write(data)


def read_frames(inp: BinaryIO) -> Iterator[Any]:
    """Every frame until the pipe closes (a frame cut short means the writer died: stop there)."""
    while True:
        head = inp.read(_FRAME.size)
        if len(head) < _FRAME.size:
            return
        (size,) = _FRAME.unpack(head)
        data = inp.read(size)
        if len(data) < size:
            return
        yield pickle.loads(data)
