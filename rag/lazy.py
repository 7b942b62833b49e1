"""Cheap constructors, explicit ``load()``: adapters keep their configuration when built, and
create the heavy parts (weights, devices, clients) on first use, once, even when several
threads ask at the same time."""

from __future__ import annotations

import threading
from typing import Self


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
