"""Finding model files: local paths, packaged models, the Hugging Face hub (when reachable)."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlparse

from rag.errors import ModelUnavailable

T = TypeVar("T")


def resolve_device(device: str) -> str:
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


@cache
def hub_reachable(timeout: float = 3.0) -> bool:
    """One quick TCP connect to the hub, so that an offline machine fails in seconds instead
    of sitting through the hub client's retries. Honours HF_HUB_OFFLINE and HF_ENDPOINT."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        return False
    url = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname or "huggingface.co", port), timeout=timeout):
            return True
    except OSError:
        return False


def is_local(spec: str) -> bool:
    return Path(spec).expanduser().is_dir()


def unavailable_hint(what: str, spec: str, env_var: str, reason: str) -> str:
    """The message a person sees when a model cannot be loaded: what, why, and what to do."""
    where = "a local directory" if is_local(spec) else "the Hugging Face hub id"
    return (
        f"could not load the {what} {spec!r} ({where}): {reason}. "
        f"On a machine with network access the hub id downloads by itself; offline, save the "
        f"model on a connected machine (for example `huggingface-cli download {spec} "
        f"--local-dir ./models/{spec.split('/')[-1]}`), copy it here and set "
        f"{env_var}=/path/to/that/directory."
    )


OFFLINE = "the Hugging Face hub is not reachable and no copy is cached on this machine"


def load_pretrained(what: str, spec: str, env_var: str, load: Callable[[bool], T],
                    path: str | None = None) -> T:
    """Run ``load(local_files_only)`` for a model given as a hub id or a local ``path``
    (default: ``spec``), and turn any failure into ModelUnavailable that says how to provide
    the model. Offline machines skip the hub at once."""
    where = path or spec
    offline = not is_local(where) and not hub_reachable()
    try:
        return load(offline)
    except ModelUnavailable:
        raise
    except ImportError as e:
        raise ModelUnavailable(f"loading the {what} needs another package: {e}") from e
    except Exception as e:  # OSError, ValueError, HF errors: all mean "no usable model"
        reason = OFFLINE if offline else str(e).splitlines()[0]
        raise ModelUnavailable(unavailable_hint(what, spec, env_var, reason)) from e
