"""Cheap constructors, explicit ``load()``: adapters keep their configuration when built, and
create the heavy parts (weights, devices, clients) on first use, once, even when several
threads ask at the same time."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import threading
from typing import Self

_settling = threading.Lock()
_settled = False


def settle() -> None:
    """Take what is loaded by now (libraries, models, tokenizers: ~600,000 objects in a
    server) out of the garbage collector's sight, for good: it lives as long as the process.
    Without this, every full collection walks all of it, 0.2-0.35 s with the interpreter
    held on a loaded server, and those pauses are its slowest answers. Called once the
    question path is ready and again after a model loads."""
    global _settled
    with _settling:
        gc.collect()
        gc.freeze()
        _settled = True


def settle_again() -> None:
    """``settle`` once more, in a process that settled before (a server, after a model it
    did not need at start has loaded)."""
    if _settled:
        settle()


def give_back_freed_memory() -> None:
    """Hand what glibc keeps of freed memory (in its arenas, for the process's next
    allocation) back to the system: after a big piece of work (a large ingestion run, a
    model compiled from a file read whole), a replica's memory is then what it holds, not
    what it once used. Elsewhere (another C library), nothing."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


M_ARENA_MAX = -8  # mallopt's parameter number (glibc malloc.h)


def limit_malloc_arenas(n: int) -> None:
    """Let glibc keep at most ``n`` malloc arenas for the threads that allocate from now on
    (its default: up to 8 per core, about one per thread allocating at once). Request threads
    then share arenas, and what one freed serves another instead of staying in its own arena.
    0: glibc's default. Elsewhere (another C library), nothing."""
    if n > 0:
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6").mallopt(M_ARENA_MAX, n)


class LazyLoaded:
    def __init__(self) -> None:
        self._load_lock = threading.Lock()
        self._loaded = False

    def load(self) -> Self:
        if not self._loaded:
            with self._load_lock:
                if not self._loaded:
                    self._load()
                    self._loaded = True
        return self

    def _load(self) -> None:
        raise NotImplementedError
