"""The model's tokenizer without the model.

A transformers fast tokenizer wraps a ``tokenizers.Tokenizer`` (Rust). A copy of it, set to
truncate and pad as the model's calls do, gives the model's features without importing
transformers or PyTorch, and is safe across threads (the transformers wrapper changes its
padding and truncation on every call, so it needs a lock). ``onnx`` keeps such a copy beside
an export once ``same`` finds it gives the model's very features on probe texts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

Features = dict[str, np.ndarray]
# texts that tell tokenizers apart: odd spacing and case (stripping, lower-casing), and one
# past any model's length (truncation)
SPACED = "  Spaced out,\tand CASED \n"


def from_model(hf_tokenizer: Any, max_length: int) -> Any:
    """A copy of a transformers fast tokenizer's own ``tokenizers.Tokenizer``, truncating at
    ``max_length`` and padding to the longest text; None for a slow (pure-Python) tokenizer
    or one without a padding token."""
    backend = getattr(hf_tokenizer, "backend_tokenizer", None)
    if backend is None or hf_tokenizer.pad_token_id is None:
        return None
    from tokenizers import Tokenizer

    tok = Tokenizer.from_str(backend.to_str())
    tok.enable_truncation(max_length=max_length)
    tok.enable_padding(pad_id=hf_tokenizer.pad_token_id, pad_token=hf_tokenizer.pad_token)
    return tok


def features(tokenizer: Any, names: list[str], texts: Sequence[str]) -> Features:
    """The model inputs ``names`` (input_ids, attention_mask, token_type_ids) for ``texts``."""
    encodings = tokenizer.encode_batch(list(texts))
    columns = {"input_ids": [e.ids for e in encodings],
               "attention_mask": [e.attention_mask for e in encodings],
               "token_type_ids": [e.type_ids for e in encodings]}
    return {n: np.asarray(columns[n], dtype=np.int64) for n in names}


def same(tokenizer: Any, tokenize: Callable[[Sequence[str]], Features], names: list[str],
         probes: list[str]) -> bool:
    """Whether ``tokenizer`` gives exactly ``tokenize``'s features: for each probe alone, for
    a spaced-out text, for one past the model's length, and for the probes padded together."""
    long = " ".join(probes * 200)
    for texts in [[p] for p in [*probes, SPACED, long]] + [probes]:
        want, got = tokenize(texts), features(tokenizer, names, texts)
        if any(not np.array_equal(np.asarray(want[n]), got[n]) for n in names):
            return False
    return True


def ids(tokenizer: Any, texts: Sequence[str], special: bool = True) -> list[list[int]]:
    """The token ids of ``texts``, without the offsets and words an encoding also computes
    (``encode_batch_fast`` where the installed tokenizers has it)."""
    encode = getattr(tokenizer, "encode_batch_fast", tokenizer.encode_batch)
    return [e.ids for e in encode(list(texts), add_special_tokens=special)]


def counter(tokenizer: Any) -> Any:
    """The same tokenizer without truncation and padding: the tokens of whole texts."""
    from tokenizers import Tokenizer

    whole = Tokenizer.from_str(tokenizer.to_str())
    whole.no_truncation()
    whole.no_padding()
    return whole


def load(path: Path) -> Any:
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(path))
