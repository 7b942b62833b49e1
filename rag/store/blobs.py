"""Content-addressed copies of ingested images, so answers can link to an image even after
the original file moved or was deleted. ``images/ab/abcdef...<ext>``, written atomically."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import time
from pathlib import Path

MIME = {".pdf": "application/pdf",  # a PDF's own copy, for the pages citations show
        ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp",
        ".gif": "image/gif", ".bmp": "image/bmp", ".tif": "image/tiff", ".tiff": "image/tiff"}
_SHA = re.compile(r"^[0-9a-f]{64}$")


def check_key(sha: str, ext: str) -> str:
    """The key of a copy, ``ab/abcdef...<ext>``; anything else is refused."""
    if not _SHA.match(sha) or ext not in MIME:
        raise ValueError(f"bad blob key {sha!r}{ext!r}")
    return f"{sha[:2]}/{sha}{ext}"


class ImageBlobs:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    def _path(self, sha: str, ext: str) -> Path:
        return self.root / check_key(sha, ext)

    def read(self, rel: str) -> bytes:
        return self.resolve(rel).read_bytes()

    def ping(self) -> None:
        """A folder is always reachable; one that cannot be made is an error now."""
        self.root.mkdir(parents=True, exist_ok=True)

    def put(self, data: bytes, ext: str, sha: str | None = None) -> tuple[str, str]:
        """Store ``data`` once; returns (sha256, path relative to the root)."""
        sha = sha or hashlib.sha256(data).hexdigest()
        path = self._path(sha, ext.lower())
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return sha, str(path.relative_to(self.root))

    def resolve(self, rel: str) -> Path:
        """The absolute path of a stored blob; refuses anything outside the root."""
        path = (self.root / rel).resolve()
        if self.root.resolve() not in path.parents or not path.is_file():
            raise FileNotFoundError(rel)
        return path

    def remove(self, rel: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.resolve(rel).unlink()

    def older_than(self, seconds: float) -> list[str]:
        """Stored copies (and leftover temporary files) last written over ``seconds`` ago,
        relative to the root."""
        if not self.root.is_dir():
            return []
        cutoff = time.time() - seconds
        return [str(p.relative_to(self.root)) for p in self.root.glob("*/*")
                if p.is_file() and p.stat().st_mtime < cutoff]

    @staticmethod
    def mime(rel: str) -> str:
        return MIME.get(Path(rel).suffix.lower(), "application/octet-stream")
