"""The stored item, written down once: the metadata keys that ingest writes and retrieval,
prompts, citations, the command line and eval read, the id scheme, and the channels a hit can
come from. Every reader and writer imports these names; none spells a key by hand.

An item is one vector in a collection's ``text`` or ``image`` store:

- a text chunk of a file (``modality`` "text"), id ``<doc_id>-<sha12>-t<k>``;
- a picture (``modality`` "image"): a whole image file, an image inside a document, a
  rendered page or a video keyframe, id ``<doc_id>-<sha12>-i<j>``; its bytes are kept in the
  blob store under ``blob``;
- text read from a picture (OCR or a caption) is a text chunk that carries ``image_id`` and
  ``blob`` of its picture and says how it was read in ``derived_from``: retrieval returns it
  as that picture.
"""

from __future__ import annotations

import re
from typing import Any, Literal, TypedDict

# -- every item ---------------------------------------------------------------------------
SOURCE = "source"  # the file's name as given (a path for files read from disk)
DOC_ID = "doc_id"  # the document (manifest row) the item belongs to
SHA256 = "sha256"  # of the whole file: items of an older version are found by it
KIND = "kind"  # the file's kind: text, markdown, html, pdf, docx, pptx, image, video
MODALITY = "modality"  # "text" or "image"
CHUNK_INDEX = "chunk_index"
MODEL = "model"  # the embedding model that made the vector
INGESTED_AT = "ingested_at"
TITLE = "title"
TEXT = "mmrag:text"  # a text item's content, kept in metadata (see rag/store/chroma.py)

# -- where in the file ----------------------------------------------------------------------
SECTION = "section"  # heading path, "Policy > Booking"
PAGE = "page"
SLIDE = "slide"
TIMESTAMP = "timestamp"  # seconds into a video
REF = "ref"  # the reference a page made to a local image file ("img/a.png")
SHOWS = "shows"  # on a page's passage: the text read in the pictures it shows, JSON
# [[ref, text], ...]
LOCATION_KEYS = (PAGE, SLIDE, TIMESTAMP, REF)  # carried from a picture to the text read in it

# -- pictures --------------------------------------------------------------------------------
WIDTH = "width"
HEIGHT = "height"
SCANNED = "scanned"  # a PDF page rendered for lack of a text layer
BLOB = "blob"  # the stored copy's path relative to the blob store
FILE_BLOB = "file_blob"  # a PDF's own stored copy, to render the page a citation points at
BLOB_KEYS = (BLOB, FILE_BLOB)  # metadata keys that name a stored copy
IMAGE_SHA256 = "image_sha256"  # of the picture's bytes: search by an identical image
OCR_TEXT = "ocr_text"
CAPTION = "caption"
TAGS = "tags"  # comma-separated labels; each also as a ``tag_<label>`` key (``tag_key``)
TAG_PREFIX = "tag_"

# -- text read from a picture -----------------------------------------------------------
IMAGE_ID = "image_id"  # the picture's item id
DERIVED_FROM = "derived_from"  # "ocr" or "caption"

# -- channels: how a hit was found ------------------------------------------------------------
Channel = Literal["text", "image", "image_query", "exact", "ocr", "caption"]
TEXT_CHANNEL = "text"  # question -> text chunks (text model)
IMAGE_CHANNEL = "image"  # question -> pictures (CLIP text encoder)
IMAGE_QUERY_CHANNEL = "image_query"  # query image -> pictures (CLIP image encoder)
EXACT_CHANNEL = "exact"  # query image byte-identical to a stored picture
# question -> text chunks the English model cannot read, by the multilingual model; also the
# store's modality of their vectors
MULTILINGUAL_CHANNEL = "multilingual"
LEXICAL_CHANNEL = "lexical"  # question words -> text items, by full-text search alone
VECTOR_ONLY_CHANNELS = (IMAGE_CHANNEL, IMAGE_QUERY_CHANNEL, EXACT_CHANNEL)  # no text matched


class ItemMetadata(TypedDict, total=False):
    """The metadata of a stored item, as ingest writes it (tag keys besides)."""

    source: str
    doc_id: str
    sha256: str
    kind: str
    modality: str
    chunk_index: int
    model: str
    ingested_at: str
    title: str
    section: str
    page: int
    slide: int
    timestamp: float
    ref: str
    width: int
    height: int
    scanned: bool
    blob: str
    file_blob: str
    image_sha256: str
    ocr_text: str
    caption: str
    tags: str
    image_id: str
    derived_from: str


def text_item_id(doc_id: str, sha: str, k: int) -> str:
    return f"{doc_id}-{sha[:12]}-t{k}"


def image_item_id(doc_id: str, sha: str, j: int) -> str:
    return f"{doc_id}-{sha[:12]}-i{j}"


def tag_key(label: str) -> str:
    """The metadata key of a picture tag: ``tag_`` and the label in lower case, words joined."""
    return TAG_PREFIX + re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")


def is_tag_key(key: str) -> bool:
    return key == TAGS or key.startswith(TAG_PREFIX)


def folder_of(source: str) -> str:
    """The folder a source lies in ('' for a bare name): the unit of the per-folder cap."""
    return source.rsplit("/", 1)[0] if "/" in source else ""


def display_source(source: str) -> str:
    """A source as a client may see it: a file ingested from this machine's disk by its name
    only, never the path on the server (uploads are names already)."""
    return source.replace("\\", "/").rsplit("/", 1)[-1] if source.startswith(("/", "\\")) \
        or (len(source) > 2 and source[1] == ":") else source


def location(meta: dict[str, Any]) -> str | None:
    """Where in its source an item is: a page of a PDF, a slide of a deck, the image a page
    referred to, a moment of a video."""
    for key in (PAGE, SLIDE):
        if meta.get(key) is not None:
            return f"{key} {meta[key]}"
    if meta.get(REF):
        return f"image {meta[REF]}"
    if meta.get(TIMESTAMP) is not None:
        seconds = int(float(meta[TIMESTAMP]))
        return f"at {seconds // 60:02d}:{seconds % 60:02d}"
    return None


def body_of(text: str, section: str) -> str:
    """A chunk's text without the heading path it starts with (context, not content)."""
    return text[len(section):] if section and text.startswith(section) else text
