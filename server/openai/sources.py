"""Sources where chat clients look for them: OpenAI's ``url_citation`` annotations on the
answer's ``[n]`` markers, and a Markdown "Sources" list after the answer for clients that do
not show annotations (``MMRAG_SERVER__SOURCES_FOOTER``, or ``sources_footer`` per request).

``auto`` adds the list unless the request comes from a client known to render annotations.
Observed here (2026-11-29): LangChain's ChatOpenAI, LlamaIndex's OpenAILike and ``llm`` all
call through the official ``openai`` package and send its User-Agent (``OpenAI/Python
2.54.0``), and none of them shows or keeps the annotations; they get the list. Open WebUI
0.12.4 calls from its server with aiohttp (``Python/3.11 aiohttp/3.14.5``) and turns
url_citation annotations into its own sources (chips on the markers, a "Sources" panel), so
the list would only repeat them there."""

from __future__ import annotations

import re

from rag.text.language import say

from ..schemas import CitationOut
from .protocol import Annotation, UrlCitation

_MARKER = re.compile(r"\[(\d+)\]")
SHOWS_ANNOTATIONS = ("aiohttp/",)  # User-Agent marks of clients that render them


def wants_footer(setting: str, requested: bool | None, user_agent: str) -> bool:
    if requested is not None:
        return requested
    if setting != "auto":
        return setting == "always"
    return not any(mark in user_agent for mark in SHOWS_ANNOTATIONS)


def title(c: CitationOut) -> str:
    return f"{c.source}, {c.location}" if c.location else c.source


def url_citations(text: str, citations: list[CitationOut]) -> list[Annotation]:
    """One url_citation per ``[n]`` in the text that names a source with a link."""
    by_n = {c.n: c for c in citations if c.url}
    return [Annotation(url_citation=UrlCitation(url=by_n[n].url or "", title=title(by_n[n]),
                                                start_index=m.start(), end_index=m.end()))
            for m in _MARKER.finditer(text) if (n := int(m.group(1))) in by_n]


def footer(citations: list[CitationOut], question: str = "") -> str:
    """The sources an answer cites (all of them when it cites none), numbered as cited:
    a linked title with the quoted sentence, or the picture itself; labelled in the
    question's language."""
    shown = [c for c in citations if c.cited] or citations
    if not shown:
        return ""
    lines = ["", "", f"**{say('sources', question)}**", ""]
    for c in shown:
        name = title(c).replace("[", "(").replace("]", ")")
        if c.modality == "image" and c.url:
            lines.append(f"{c.n}. [{name}]({c.url})  \n   ![{name}]({c.url})")
        elif c.url:
            quote = f" \u2014 \u201c{c.snippet}\u201d" if c.snippet else ""
            lines.append(f"{c.n}. [{name}]({c.url}){quote}")
        else:
            lines.append(f"{c.n}. {name}")
    return "\n".join(lines)
