"""Audio buffers that live on disk when they are long, and the block loop that keeps them out of memory.

A 60-minute stereo stem at 48 kHz is 1.4 GB of float32; a cue holds four stems, their processed copies, the
summed mix and the master's output. `audio_buffer` returns a plain numpy array for anything up to
SPOOL_ABOVE_BYTES and, above, an array mapped on an unlinked temporary file in $TMPDIR, else /var/tmp (which
is on disk where /tmp is often RAM); the space is reserved at once where the system can, so a full disk is
one clear error rather than a crash on a later write, and the file goes with the array.
Every stage then works through `blocks`, which after each block hands the pages it touched back to the
kernel: the data stays in the file and memory does not grow with the cue's length. Processing in blocks
gives the same samples as processing a whole buffer (Pedalboard's built-in effects carry their state
from block to block), so short cues and long ones take one path.
"""
from __future__ import annotations

import errno
import mmap
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from mtm_daw.errors import MtmError

SPOOL_ABOVE_BYTES = 32 << 20  # a buffer this large goes to disk: about 90 s of one stereo stem at 48 kHz
BLOCK_SAMPLES = 1 << 18  # about 5.5 s at 48 kHz; a multiple of the page size in float32 samples
_PAGE = mmap.PAGESIZE


def spools(shape: int | tuple[int, ...], dtype=np.float32) -> bool:
    """Whether audio_buffer puts a buffer of this shape on disk (above SPOOL_ABOVE_BYTES)."""
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return int(np.prod(shape)) * np.dtype(dtype).itemsize > SPOOL_ABOVE_BYTES


def audio_buffer(shape: int | tuple[int, ...], dtype=np.float32) -> np.ndarray:
    """Zeros of `shape`: in memory, or mapped on a temporary file above SPOOL_ABOVE_BYTES."""
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if not spools(shape, dtype):
        return np.zeros(shape, dtype=dtype)
    size = int(np.prod(shape)) * np.dtype(dtype).itemsize
    folder = spool_folder()
    with tempfile.TemporaryFile(prefix="mtm_audio_", dir=folder) as handle:  # unlinked: gone with the map
        try:
            _reserve(handle, size)
        except OSError as error:
            raise MtmError(f"{folder}: no room for {size / 2 ** 30:.1f} GB of audio while rendering "
                           f"({error.strerror}); free some space or set TMPDIR to a larger disk") from None
        mapped = mmap.mmap(handle.fileno(), size)
    return np.frombuffer(mapped, dtype=dtype).reshape(shape)


def spool_folder() -> str:
    """Where long audio waits: $TMPDIR when set, else /var/tmp (on disk by convention), else the system's."""
    if os.environ.get("TMPDIR"):
        return tempfile.gettempdir()
    var_tmp = Path("/var/tmp")
    return str(var_tmp) if var_tmp.is_dir() and os.access(var_tmp, os.W_OK) else tempfile.gettempdir()


def _reserve(handle, size: int) -> None:
    """Give the file `size` bytes, allocated now where the system can (a full disk is then an OSError here;
    without it, as on macOS, the file is sparse and grows as it is written)."""
    if hasattr(os, "posix_fallocate"):
        try:
            os.posix_fallocate(handle.fileno(), 0, size)
            return
        except OSError as error:
            if error.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):  # else: it cannot reserve
                raise
    handle.truncate(size)


def is_spooled(array: np.ndarray) -> bool:
    return _mapping(array) is not None


def blocks(length: int, *arrays: np.ndarray, size: int = BLOCK_SAMPLES) -> Iterator[tuple[int, int]]:
    """(start, stop) over [0, length) in blocks; after each, the spooled arrays' pages of that block (along
    their last axis) leave this process's memory."""
    spooled = [array for array in arrays if is_spooled(array)]
    for start in range(0, length, size):
        stop = min(start + size, length)
        yield start, stop
        for array in spooled:
            let_go(array, start, stop)


def let_go(array: np.ndarray, start: int | None = None, stop: int | None = None) -> None:
    """Drop the pages of a spooled array's samples [start, stop) (all of them by default) from memory; the
    samples stay in its file and come back on the next read. Does nothing for an in-memory array."""
    mapped = _mapping(array)
    if mapped is None:
        return
    base = np.frombuffer(mapped, dtype=np.uint8).ctypes.data
    rows = [array] if array.ndim == 1 else list(array)  # (n,) or (channels, n)
    start = 0 if start is None else start
    stop = array.shape[-1] if stop is None else stop
    if stop <= start:
        return
    for row in rows:
        first = row[start:stop].ctypes.data - base
        last = first + (stop - start) * row.itemsize
        first -= first % _PAGE
        last = min(len(mapped), last + -last % _PAGE)
        mapped.madvise(mmap.MADV_DONTNEED, first, last - first)


def _mapping(array: np.ndarray) -> mmap.mmap | None:
    owner = array
    while owner is not None:
        if isinstance(owner, mmap.mmap):
            return owner
        owner = owner.obj if isinstance(owner, memoryview) else getattr(owner, "base", None)
    return None
