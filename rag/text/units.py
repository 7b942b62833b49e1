"""Answer units: the pieces of a passage an extractive answer may quote. A passage (Markdown,
reStructuredText, plain text, or lines read in a picture) is cut into whole sentences, list
items, table rows and code lines, never into fragments, and each unit keeps the label it
stands under: the nearest heading, directive target (``.. setting:: SESSION_COOKIE_AGE``),
definition term or "Label:" line above it."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

# a sentence ends at . ! or ? followed by space and a capital, digit, quote or bracket,
# but not inside brackets (parentheses are counted, see _sentences); a Chinese sentence or
# clause ends at 。！？； (after a closing quote that follows it), with or without space
_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(\[`*])"
                  r"|(?<=[\u3002\uff01\uff1f\uff1b])(?![\u201d\u2019\u300d\u300f\uff09])\s*"
                  r"|(?<=[\u3002\uff01\uff1f\uff1b][\u201d\u2019\u300d\u300f\uff09])\s*")
# a space where two lines of Chinese were joined is not in the text
_CJK = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef"
_CJK_SPACE = re.compile(f"(?<=[{_CJK}]) (?=[{_CJK}])")
_UNDERLINE = re.compile(r"^\s*([=\-~^\"'`#*+_.:])\1{2,}\s*$")
_LIST = re.compile(r"^\s*(?:[-*+\u2022]|\d+[.)]|#\.)\s+")
_DIRECTIVE = re.compile(r"^\s*\.\.\s+([\w:-]+)::\s*(.*)$")
_TABLE_RULE = re.compile(r"^\s*[=+\-|: ]{5,}\s*$")
_ROLE = re.compile(r":[\w:+-]+:`~?([^`<]*?)(?:\s*<([^>]*)>)?`")
_LITERAL = re.compile(r"``([^`]+)``")
_LINK = re.compile(r"`([^`<]+?)\s*<[^>]+>`_{1,2}")


@dataclass(frozen=True)
class Unit:
    text: str  # as it reads, markup simplified (``code`` -> `code`)
    label: str = ""  # what it stands under: a heading, setting name or "Label:"
    kind: str = "sentence"  # sentence | item | row | code | line


def plain(text: str) -> str:
    """reStructuredText inline markup as a reader sees it: roles and links become their
    text, double-backtick literals single-backtick code."""
    text = _ROLE.sub(lambda m: f"`{(m.group(1) or m.group(2) or '').strip()}`", text)
    text = _LINK.sub(r"\1", text)
    return _LITERAL.sub(r"`\1`", text)


def _sentences(paragraph: str) -> list[str]:
    """Split at sentence ends outside brackets and code."""
    out, start = [], 0
    for m in _END.finditer(paragraph):
        head = paragraph[start:m.start()]
        if (head.count("(") <= head.count(")") and head.count("[") <= head.count("]")
                and head.count("`") % 2 == 0):
            out.append(head)
            start = m.end()
    out.append(paragraph[start:])
    return [_CJK_SPACE.sub("", " ".join(s.split())) for s in out if s.strip()]


def _label_of(line: str) -> str:
    line = plain(line.strip()).strip("#*: ").strip()
    return line.strip("`")


@functools.lru_cache(maxsize=4096)
def units(text: str, lines: bool = False, label: str = "") -> tuple[Unit, ...]:
    """The quotable units of ``text``. With ``lines`` (text read from a picture) every line is
    a unit. ``label`` is the heading the passage starts under, if known. Remembered: a stored
    passage is read again for every question it answers."""
    return tuple(_parse(text, lines, label))


def _parse(text: str, lines: bool, label: str) -> list[Unit]:
    raw = text.splitlines()
    if lines:
        return [Unit(" ".join(plain(t).split()), label, "line") for t in raw if t.strip()]
    out: list[Unit] = []
    para: list[str] = []
    item: list[str] = []
    code = False  # inside a literal block (after "::", indented)
    code_indent = 0

    def flush_para() -> None:
        if para:
            for s in _sentences(plain(" ".join(para))):
                out.append(Unit(s, label, "sentence"))
            para.clear()

    def flush_item() -> None:
        if item:
            out.append(Unit(" ".join(plain(" ".join(item)).split()), label, "item"))
            item.clear()

    for i, line in enumerate(raw):
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        nxt = raw[i + 1] if i + 1 < len(raw) else ""
        if code:
            if not stripped:
                continue
            if indent > code_indent:
                out.append(Unit(stripped, label, "code"))
                continue
            code = False
        if not stripped:
            flush_para()
            flush_item()
            continue
        if _UNDERLINE.match(line):
            continue  # a heading's underline (or overline)
        if _UNDERLINE.match(nxt) and len(nxt.strip()) >= len(stripped) - 2 and not item:
            flush_para()
            label = _label_of(stripped)  # a heading: its underline follows
            continue
        if stripped.startswith("#"):
            flush_para()
            flush_item()
            label = _label_of(stripped)
            continue
        m = _DIRECTIVE.match(line)
        if m:
            flush_para()
            flush_item()
            if m.group(2).strip():
                label = _label_of(m.group(2))
            if m.group(1) in ("code-block", "code", "sourcecode", "console"):
                code, code_indent = True, indent
            continue
        if _TABLE_RULE.match(line) and ("=" in line or "+" in line):
            flush_para()
            continue  # a table's rule
        if "|" in stripped.strip("|") and stripped.count("|") >= 2:
            flush_para()
            cells = [c.strip() for c in stripped.strip("|").split("|") if c.strip()]
            if cells and not all(set(c) <= set("-:= ") for c in cells):
                out.append(Unit(plain(" | ".join(cells)), label, "row"))
            continue
        if re.search(r"\S {2,}\S", stripped) and _is_simple_table(raw, i):
            flush_para()
            out.append(Unit(plain(re.sub(r" {2,}", " | ", stripped)), label, "row"))
            continue
        if _LIST.match(line):
            flush_para()
            flush_item()
            item.append(_LIST.sub("", line).strip())
            continue
        if item and indent > 0:
            item.append(stripped)  # a list item's continuation
            continue
        flush_item()
        if stripped.endswith("::"):
            para.append(stripped[:-1] if not stripped.endswith(" ::") else stripped[:-3])
            flush_para()
            code, code_indent = True, indent
            continue
        if stripped.endswith(":") and len(stripped.split()) <= 6 and nxt.strip() != "":
            flush_para()
            label = _label_of(stripped)  # "Default value:", a term above its definition
            continue
        para.append(stripped)
    flush_para()
    flush_item()
    return [u for u in out if len(u.text) > 1]


def _is_simple_table(raw: list[str], i: int) -> bool:
    """A row of a reStructuredText simple table: a '=== ===' rule above it."""
    for j in range(i - 1, max(i - 40, -1), -1):
        line = raw[j].strip()
        if not line:
            return False
        if re.fullmatch(r"=+( +=+)+", line):
            return True
    return False
