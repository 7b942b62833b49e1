"""WordVectors: a static distillation of the text model, to weigh many short texts by meaning
in microseconds (the sentences an extractive answer chooses from).

Each vocabulary token goes through the model once, alone between the model's special tokens,
and its output vector is kept. The vectors are centred and projected on their 256 principal
components, and each is weighted by log(2 + its id): vocabularies list frequent pieces first,
so by Zipf's law rare pieces weigh more (Model2Vec distils sentence encoders the same way). A
text's vector is the normalised sum of its tokens' vectors: a table lookup, no model call.

On django-docs the extractive answer found two more text facts with these vectors than with
the model itself (docs/evaluation.md), in ~3 ms an answer instead of ~50 ms. The
distillation runs once per model (~15 s for MiniLM on 2 cores in bf16) and is kept in the
cache beside the ONNX exports, with the tokenizer it reads texts with."""

from __future__ import annotations

import functools
import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.embedders import cache, precision, standalone

log = logging.getLogger(__name__)
DIMENSIONS = 256  # principal components kept
BATCH = 2048  # vocabulary tokens per model call while distilling


class WordVectors:
    def __init__(self, vectors: np.ndarray, tokenizer: Any):
        self.vectors = vectors  # (vocabulary, DIMENSIONS), weights applied
        self.tokenizer = tokenizer  # a tokenizers.Tokenizer, no truncation, no padding
        # a passage's sentences come back with every question it answers: their vectors are
        # remembered (tokenizing them was most of an answer's time in the loaded server)
        self._remembered = functools.lru_cache(maxsize=16384)(self._one)

    @property
    def dimension(self) -> int:
        return int(self.vectors.shape[1])

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text (zeros for a text with no
        tokens). Safe from any thread: the tokenizer's settings never change."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self._remembered(t) for t in texts])

    def _one(self, text: str) -> np.ndarray:
        v = self._compute([text])[0]
        v.flags.writeable = False  # shared by every caller that asks for this text
        return v

    def _compute(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        tokens = standalone.ids(self.tokenizer, texts, special=False)
        lengths = [len(t) for t in tokens]
        if not sum(lengths):
            return out
        ids = np.concatenate([np.asarray(t, dtype=np.int64) for t in tokens])
        row = np.repeat(np.arange(len(texts)), lengths)
        keep = ids < len(self.vectors)
        ids, row = ids[keep], row[keep]
        if ids.size:
            starts = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])
            out[row[starts]] = np.add.reduceat(self.vectors[ids], starts, axis=0)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms > 0, norms, 1.0)

    def save(self, path: Path) -> None:
        """Written whole or not at all (a temporary file renamed into place)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp.npz")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, vectors=self.vectors.astype(np.float16),
                         tokenizer=np.array(self.tokenizer.to_str()))
            os.replace(tmp, path)
            cache.used(path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def load(path: Path) -> WordVectors | None:
    """The vectors cached at ``path``, or None when there are none (or they cannot be read)."""
    if not path.exists():
        return None
    try:
        from tokenizers import Tokenizer

        with np.load(path) as f:
            vectors = f["vectors"].astype(np.float32)
            tokenizer = Tokenizer.from_str(str(f["tokenizer"]))
        cache.used(path)
        return WordVectors(vectors, tokenizer)
    except Exception as e:  # a damaged file is built again
        log.warning("word vectors at %s cannot be read (%s: %s); building them again", path,
                    type(e).__name__, e)
        return None


def distil(model: Any, bf16: bool = False) -> WordVectors | None:
    """The word vectors of a sentence-transformers ``model``; None when its tokenizer is not
    a fast one (or the model takes inputs other than token ids, mask and types)."""
    hf_tokenizer = model.tokenizer
    backend = getattr(hf_tokenizer, "backend_tokenizer", None)
    if backend is None:
        return None
    import torch

    names = [k for k, v in model.preprocess(["a"]).items() if isinstance(v, torch.Tensor)]
    if not set(names) <= {"input_ids", "attention_mask", "token_type_ids"}:
        return None

    tokenizer = standalone.counter(backend)  # whole texts: no truncation, no padding
    vocabulary = tokenizer.get_vocab_size()
    inner = getattr(model[0], "auto_model", None)  # ids past its embedding table are skipped
    if inner is not None and hasattr(inner, "get_input_embeddings"):
        vocabulary = min(vocabulary, int(inner.get_input_embeddings().num_embeddings))
    bare = tokenizer.encode("a", add_special_tokens=False).ids
    framed = tokenizer.encode("a").ids  # e.g. [CLS] a [SEP]: where a lone token stands
    if len(bare) != 1 or bare[0] not in framed:
        return None
    at = framed.index(bare[0])
    marker = list(framed)
    rows = []
    with torch.inference_mode(), precision.autocast(bf16):
        for start in range(0, vocabulary, BATCH):
            ids = torch.arange(start, min(vocabulary, start + BATCH))
            inputs = torch.tensor(marker).repeat(len(ids), 1)
            inputs[:, at] = ids
            inputs = inputs.to(model.device)
            features = {"input_ids": inputs, "attention_mask": torch.ones_like(inputs),
                        "token_type_ids": torch.zeros_like(inputs)}
            out = model({k: features[k] for k in names})["token_embeddings"][:, at]
            rows.append(out.float().cpu().numpy())
    vectors = np.concatenate(rows)
    centred = vectors - vectors.mean(axis=0)
    _, _, axes = np.linalg.svd(centred, full_matrices=False)
    projected = centred @ axes[: min(DIMENSIONS, axes.shape[0])].T
    weighted = projected * np.log(2 + np.arange(vocabulary, dtype=np.float32))[:, None]
    # kept as saved (float16), so the process that distils answers as later ones will
    return WordVectors(weighted.astype(np.float16).astype(np.float32), tokenizer)
