"""A small HTTP client of a running mmrag server's retrieval, shared by the framework
retrievers (``mmrag.llamaindex``, ``mmrag.langchain``): a question (words, a picture or both)
in, the ranked hits of both channels out, each with its source, place, link and scores."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

import httpx

PLACES = (("page", "page"), ("slide", "slide"), ("timestamp", "at"))


@dataclass
class Hit:
    """One hit as the frameworks get it: ``text`` is the passage, or the text read in a
    picture; ``image_url`` is set for pictures."""

    id: str
    modality: str  # "text" or "image"
    source: str
    score: float
    text: str
    url: str  # the passage or picture, as a citation links to it
    image_url: str | None
    place: str | None  # "page 3", "slide 2", "at 40 s"
    metadata: dict[str, Any] = field(default_factory=dict)

    def as_metadata(self) -> dict[str, Any]:
        """What a framework's node or document carries: source, place, modality, url, scores,
        how it was found, and the item's own metadata."""
        return {**self.metadata, "id": self.id, "source": self.source, "place": self.place,
                "modality": self.modality, "url": self.url, "image_url": self.image_url,
                "score": self.score}


@dataclass
class MmragClient:
    """``base_url``: the server (``http://127.0.0.1:8000``); ``api_key`` when it has keys;
    ``collection``: None for the key's one collection, or 'default'."""

    base_url: str = "http://127.0.0.1:8000"
    api_key: str | None = None
    collection: str | None = None
    top_k: int = 5
    timeout: float = 60.0

    def _request(self, question: str, image: bytes | None) -> dict[str, Any]:
        body: dict[str, Any] = {"question": question, "top_k": self.top_k,
                                "generator": "extractive"}
        if self.collection:
            body["collection"] = self.collection
        if image:
            body["image"] = base64.b64encode(image).decode()
        return {"url": self.base_url.rstrip("/") + "/v1/query", "json": body,
                "headers": {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {},
                "timeout": self.timeout}

    def search(self, question: str, image: bytes | None = None) -> list[Hit]:
        with httpx.Client() as http:
            return self._hits(http.post(**self._request(question, image)))

    async def asearch(self, question: str, image: bytes | None = None) -> list[Hit]:
        async with httpx.AsyncClient() as http:
            return self._hits(await http.post(**self._request(question, image)))

    def _hits(self, r: httpx.Response) -> list[Hit]:
        if r.status_code != 200:
            try:
                why = r.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                why = r.text[:300]
            raise RuntimeError(f"mmrag at {self.base_url} answered {r.status_code}: {why}")
        base = self.base_url.rstrip("/")
        out = []
        for h in r.json()["hits"]:
            meta = h.get("metadata") or {}
            image_url = h.get("image_url")
            if image_url and image_url.startswith("/"):
                image_url = base + image_url
            places = [f"{word} {meta[key]}" + (" s" if key == "timestamp" else "")
                      for key, word in PLACES if meta.get(key) is not None]
            out.append(Hit(
                id=h["id"], modality=h["modality"], source=h["source"], score=h["score"],
                text=h.get("text") or meta.get("ocr_text") or meta.get("caption") or "",
                url=image_url or f"{base}/v1/items/{h['id']}", image_url=image_url,
                place=", ".join(places) or None,
                metadata={"channel": h.get("channel"), "raw_score": h.get("raw_score"),
                          "calibrated_score": h.get("calibrated_score"),
                          **{k: v for k, v in meta.items() if isinstance(v, str | int | float)}}))
        return out
