"""Encoders exported to ONNX, and what is recorded about each file.

An export lives in the cache directory under a key (``fingerprint``) that changes with the
model's files and the libraries that shaped the graph. Beside it, its record (``.checked``,
JSON) holds what was found about this very file: the worst cosine of its check against
PyTorch, whether its tokenizer was kept, the bf16 verdict. A record names the file's size and
modification time (its stamp); a file that changed has no record, and is checked again."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

_EXPORTING = threading.Lock()  # one torch.onnx.export at a time in this process


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mmrag" / "onnx"


def fingerprint(kind: str, model_id: str, local_dir: str | Path | None) -> str:
    """A cache key: the model (and its files' sizes and times when it is a local directory)
    and the library versions that shaped the exported graph (read from the installed
    packages' metadata: importing PyTorch to ask would cost a second)."""
    from importlib.metadata import version

    parts: list[Any] = [kind, model_id] + [version(p) for p in ("torch", "transformers",
                                                                 "onnxruntime")]
    if local_dir is not None and Path(local_dir).is_dir():
        root = Path(local_dir)
        parts += sorted((str(p.relative_to(root)), p.stat().st_size, p.stat().st_mtime_ns)
                        for p in root.rglob("*") if p.is_file())
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:24]


def record_of(path: Path) -> dict[str, Any]:
    """The export's record (its checks, ``onnx.build``), or {} when there is none for this
    very file."""
    try:
        rec = json.loads(path.with_suffix(".checked").read_text())
        return rec if isinstance(rec, dict) and rec.get("stamp") == _stamp(path) else {}
    except (OSError, ValueError):
        return {}


def remember(path: Path, **fields: Any) -> None:
    """Add ``fields`` to the record of the export at ``path`` (a new record for a file that
    has none, or has changed since its record was made)."""
    rec = record_of(path) or {"stamp": _stamp(path)}
    path.with_suffix(".checked").write_text(json.dumps(rec | fields))


def _stamp(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns]


def checked(path: Path) -> float | None:
    """The worst cosine recorded for this very file, or None when it was never checked (or
    has changed since)."""
    try:
        return float(record_of(path)["worst"])
    except (KeyError, TypeError, ValueError):
        return None


def export(model: Any, forward: Callable[..., Any], example: Mapping[str, np.ndarray],
           path: Path, sequences: bool = True) -> None:
    """Trace ``forward(*example.values())`` to ONNX with a dynamic batch axis, and a dynamic
    sequence axis for token inputs (``sequences``; their values are int64; other inputs,
    pixels, keep their dtype). The file is written next to ``path`` and renamed, so a crash or
    a second process never leaves a half-written model behind."""
    import torch

    class Graph(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model  # its weights become the graph's

        def forward(self, *tensors: torch.Tensor) -> Any:
            return forward(*tensors)

    path.parent.mkdir(parents=True, exist_ok=True)
    names = list(example)
    args = tuple(torch.from_numpy(np.ascontiguousarray(v, dtype=np.int64 if sequences else None))
                 for v in example.values())
    axes: dict[str, dict[int, str]] = {
        n: {0: "batch", 1: "sequence"} if sequences else {0: "batch"} for n in names}
    axes["embedding"] = {0: "batch"}
    fd, tmp = tempfile.mkstemp(suffix=".onnx.tmp", dir=path.parent)
    os.close(fd)
    try:
        # the exporter keeps global state: a second export at the same time (CLIP's question
        # encoder is built in another thread than the text model's) fails
        with (_EXPORTING, warnings.catch_warnings(), torch.inference_mode(False),
              torch.no_grad()):
            warnings.simplefilter("ignore")  # tracer notes about shape-dependent branches
            torch.onnx.export(Graph().eval(), args, tmp, input_names=names,
                              output_names=["embedding"], dynamic_axes=axes, opset_version=17,
                              dynamo=False)
        os.replace(tmp, path)
        log.info("exported an encoder to %s", path)
    finally:
        Path(tmp).unlink(missing_ok=True)
