"""Answer units: the pieces of a passage an extractive answer may quote. A passage (Markdown,
reStructuredText, plain text, or lines read in a picture) is cut into whole sentences, list
items, table rows and code lines, never into fragments, and each unit keeps the label it
stands under: the nearest heading, directive target (``.. setting:: SESSION_COOKIE_AGE``),
definition term or "Label:" line above it."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from rag.text.terms import count_words

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


FIGURE = "figure"  # a line read in a picture a passage shows, under that picture
READ = ("line", FIGURE)  # the kinds read in a picture


@dataclass(frozen=True)
class Unit:
    text: str  # as it reads, markup simplified (``code`` -> `code`)
    label: str = ""  # what it stands under: a heading, setting name or "Label:"
    kind: str = "sentence"  # sentence | item | row | code | line | figure


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
    return tuple(_carried(_parse(text, lines, label)))


CARRY = 3  # units an announcing unit carries at most (a command's lines, a list's items)
CARRY_CHARS = 300
COLONS = (":", "\uff1a")  # a label's colon, ASCII or full-width
_JOIN = {"item": "; ", "row": " / "}  # how carried units are joined (code, lines: a space)


def _carried(found: list[Unit]) -> list[Unit]:
    """A unit that announces what follows ("use the command:", "for example:") carries it:
    the next code lines, list items, table rows or lines of a picture, up to CARRY of one
    kind, or the next sentence, under the same label. The fact is often what follows."""
    out = []
    for i, u in enumerate(found):
        if u.text.endswith(COLONS) and count_words(u.text) >= 3:
            follow: list[Unit] = []
            for v in found[i + 1:i + 1 + (1 if u.kind == "line" else CARRY)]:
                if v.label != u.label or (follow and (v.kind != follow[0].kind
                                                      or v.kind == "sentence")):
                    break
                if follow and len(u.text) + sum(len(f.text) + 1 for f in follow) + len(
                        v.text) > CARRY_CHARS:
                    break
                follow.append(v)
            if follow:
                then = _JOIN.get(follow[0].kind, " ").join(f.text for f in follow)
                u = Unit(f"{u.text} {then}", u.label, u.kind)
        out.append(u)
    return out


def _parse(text: str, lines: bool, label: str) -> list[Unit]:
    raw = text.splitlines()
    if lines:
        return [Unit(t, label, "line") for t in picture_lines(raw)]
    return _Parser(raw, label).parse()


# in a line read from a picture, a second "Label: value" of the same row starts where a
# capitalised label of up to three words and a colon follow a value ("Mean: 186.8 Pixels:
# 1483200", the two columns of "Red: 91 Red: n/a")
_NEXT_CELL = re.compile(r"\s+(?=[A-Z][\w/.-]*(?: [A-Za-z][\w/.-]*){0,2}:\s*\S)")
_ENDS = (".", "!", "?", ":", ";", "\u3002", "\uff01", "\uff1f", "\uff1a", "\uff1b")


def picture_lines(raw: list[str]) -> list[str]:
    """The units of text read in a picture: its lines, with a row of several "Label: value"
    cells cut into its cells, and the lines of a wrapped paragraph (a long line that does not
    end a sentence, then a line that starts in lower case; or a path or word broken at "/"
    or "-") joined and cut into its sentences."""
    out: list[str] = []
    current: list[str] = []  # the lines of one paragraph
    for line in (c for t in raw for c in _cells(" ".join(plain(t).split())) if c):
        if current and _continues(current[-1], line):
            current.append(line)
            continue
        out += _joined(current)
        current = [line]
    return out + _joined(current)


def _joined(lines: list[str]) -> list[str]:
    """One line as it was read; the lines of a wrapped paragraph as its sentences."""
    if len(lines) < 2:
        return lines
    text = lines[0]
    for line in lines[1:]:
        text += line if text.endswith(("/", "-")) else " " + line
    return _sentences(text)


def _cells(line: str) -> list[str]:
    if line.count(":") < 2:
        return [line]
    cells, start = [], 0
    for m in _NEXT_CELL.finditer(line):
        _, colon, value = line[start:m.start()].partition(":")
        if colon and value.strip():  # the cell so far holds a label and its value
            cells.append(line[start:m.start()])
            start = m.end()
    return cells + [line[start:]]


def _continues(previous: str, line: str) -> bool:
    if previous.endswith(_ENDS) or not line[:1].islower():
        return False
    return previous.endswith(("/", "-")) or len(previous.split()) >= 5


_CODE_DIRECTIVES = ("code-block", "code", "sourcecode", "console")


class _Parser:
    """Lines in, units out: a paragraph's sentences, list items, table rows, and a unit per
    line of a literal block; headings, underlines, directives and "Term:" lines set the label
    the units after them stand under."""

    def __init__(self, raw: list[str], label: str):
        self.raw = raw
        self.label = label
        self.out: list[Unit] = []
        self.para: list[str] = []
        self.item: list[str] = []
        self.code = False  # inside a literal block (after "::", indented)
        self.code_indent = 0

    def parse(self) -> list[Unit]:
        for i, line in enumerate(self.raw):
            self._line(i, line)
        self.flush_para()
        self.flush_item()
        return [u for u in self.out if len(u.text) > 1]

    def add(self, text: str, kind: str) -> None:
        self.out.append(Unit(text, self.label, kind))

    def flush_para(self) -> None:
        if self.para:
            for s in _sentences(plain(" ".join(self.para))):
                self.add(s, "sentence")
            self.para.clear()

    def flush_item(self) -> None:
        if self.item:
            self.add(" ".join(plain(" ".join(self.item)).split()), "item")
            self.item.clear()

    def _line(self, i: int, line: str) -> None:
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        nxt = self.raw[i + 1] if i + 1 < len(self.raw) else ""
        if self.code:
            if not stripped:
                return
            if indent > self.code_indent:
                self.add(stripped, "code")
                return
            self.code = False
        if not stripped:
            self.flush_para()
            self.flush_item()
        elif not self._heading(line, stripped, indent, nxt) and not self._row(i, line, stripped):
            self._text(line, stripped, indent, nxt)

    def _heading(self, line: str, stripped: str, indent: int, nxt: str) -> bool:
        """Underlines, headings and directives: they set the label; True when ``line`` was
        one."""
        if _UNDERLINE.match(line):
            return True  # a heading's underline (or overline)
        if _UNDERLINE.match(nxt) and len(nxt.strip()) >= len(stripped) - 2 and not self.item:
            self.flush_para()
            self.label = _label_of(stripped)  # a heading: its underline follows
            return True
        if stripped.startswith("#"):
            self.flush_para()
            self.flush_item()
            self.label = _label_of(stripped)
            return True
        m = _DIRECTIVE.match(line)
        if not m:
            return False
        self.flush_para()
        self.flush_item()
        if m.group(2).strip():
            self.label = _label_of(m.group(2))
        if m.group(1) in _CODE_DIRECTIVES:
            self.code, self.code_indent = True, indent
        return True

    def _row(self, i: int, line: str, stripped: str) -> bool:
        """Table rules and rows (pipe tables, reStructuredText simple tables); True when
        ``line`` was one."""
        if _TABLE_RULE.match(line) and ("=" in line or "+" in line):
            self.flush_para()
            return True  # a table's rule
        if "|" in stripped.strip("|") and stripped.count("|") >= 2:
            self.flush_para()
            cells = [c.strip() for c in stripped.strip("|").split("|") if c.strip()]
            if cells and not all(set(c) <= set("-:= ") for c in cells):
                self.add(plain(" | ".join(cells)), "row")
            return True
        if re.search(r"\S {2,}\S", stripped) and _is_simple_table(self.raw, i):
            self.flush_para()
            self.add(plain(re.sub(r" {2,}", " | ", stripped)), "row")
            return True
        return False

    def _text(self, line: str, stripped: str, indent: int, nxt: str) -> None:
        """List items and their continuations, "Term:" labels, literal-block openers, and
        the lines of a paragraph."""
        if _LIST.match(line):
            self.flush_para()
            self.flush_item()
            self.item.append(_LIST.sub("", line).strip())
            return
        if self.item and indent > 0:
            self.item.append(stripped)  # a list item's continuation
            return
        self.flush_item()
        if stripped.endswith("::"):
            self.para.append(stripped[:-1] if not stripped.endswith(" ::") else stripped[:-3])
            self.flush_para()
            self.code, self.code_indent = True, indent
        elif stripped.endswith(":") and len(stripped.split()) <= 6 and nxt.strip() != "":
            self.flush_para()
            self.label = _label_of(stripped)  # "Default value:", a term above its definition
        else:
            self.para.append(stripped)


def _is_simple_table(raw: list[str], i: int) -> bool:
    """A row of a reStructuredText simple table: a '=== ===' rule above it."""
    for j in range(i - 1, max(i - 40, -1), -1):
        line = raw[j].strip()
        if not line:
            return False
        if re.fullmatch(r"=+( +=+)+", line):
            return True
    return False
