"""Finding model files: local paths, packaged models, the Hugging Face hub (when reachable)."""

from __future__ import annotations

import os
import socket
from functools import cache
from pathlib import Path
from urllib.parse import urlparse


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
