"""Text from outside (questions, chat turns, texts to embed, tags) checked once at the edge,
before it can reach a tokenizer that many requests share: a lone surrogate or a NUL fails a
whole encoder batch, so it is refused here with a message that names it and where it is.
What passes is NFC-normalised, so the same words typed two ways are one query."""

from __future__ import annotations

import re
import unicodedata

from rag.errors import InvalidInput

# C0 controls but tab, line feed and carriage return; DEL; C1 controls
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# directional overrides and isolates: they make a name read as something else
BIDI_CONTROLS = re.compile(r"[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


def clean_text(text: str, what: str = "text") -> str:
    """``text`` NFC-normalised; InvalidInput naming ``what`` and the position of the first
    character no text can hold (an unpaired surrogate, NUL or another control character)."""
    bad = _SURROGATE.search(text) or _CONTROL.search(text)
    if bad is not None:
        char = bad.group()
        kind = ("an unpaired UTF-16 surrogate" if _SURROGATE.match(char)
                else "a NUL character" if char == "\0" else "a control character")
        raise InvalidInput(f"{what} holds {kind} ({ascii(char)[1:-1]}) at character "
                           f"{bad.start()}: send valid Unicode text")
    return unicodedata.normalize("NFC", text)


def clean_name(name: str) -> str:
    """A file name as people will see it: NFC, without directional controls (which would
    show it reversed), checked like any text."""
    return BIDI_CONTROLS.sub("", clean_text(name, f"the name {ascii(name)}"))
