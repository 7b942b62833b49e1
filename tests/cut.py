"""A TCP relay on 127.0.0.1 in front of an engine, which a test can cut and restore: cut,
every connection through it is dropped and new ones are closed as soon as they arrive, as when
the engine's host goes away; restored, it relays again. The engine itself keeps running (and
keeps its data), so one engine can be cut for one pair of replicas while other tests use it."""

from __future__ import annotations

import contextlib
import socket
import threading

from .engines import free_port


class Cut:
    def __init__(self, target_port: int):
        self.target = target_port
        self.port = free_port()
        self.up = True
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._server = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True, name="cut-accept").start()

    def url(self, scheme: str) -> str:
        return f"{scheme}://127.0.0.1:{self.port}"

    def cut(self) -> None:
        with self._lock:
            self.up = False
            for s in list(self._open):
                _close(s)
            self._open.clear()

    def restore(self) -> None:
        with self._lock:
            self.up = True

    def close(self) -> None:
        self.cut()
        _close(self._server)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return  # closed
            with self._lock:
                up = self.up
            if not up:
                _close(client)
                continue
            try:
                engine = socket.create_connection(("127.0.0.1", self.target), timeout=5)
                engine.settimeout(None)
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._open.update((client, engine))
            for a, b in ((client, engine), (engine, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                _close(s)
                with self._lock:
                    self._open.discard(s)


def _close(s: socket.socket) -> None:
    with contextlib.suppress(OSError):
        s.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        s.close()
