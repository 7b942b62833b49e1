"""The URLs the API hands out for stored things. They name their collection unless it is the
server's default one (the collection a request without ``?collection=`` reads), so a link
works whatever ``MMRAG_DEFAULT_COLLECTION`` is."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class Links:
    collection: str
    default_collection: str

    def _query(self) -> str:
        if self.collection == self.default_collection:
            return ""
        return f"?collection={quote(self.collection, safe='')}"

    def image(self, item_id: str) -> str:
        return f"/v1/images/{quote(item_id, safe='')}{self._query()}"
