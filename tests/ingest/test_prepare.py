"""Preparing one file, called directly (no threads): the outcome without the model calls."""

from __future__ import annotations

from ingest.pipeline import Ingestor, Source
from ingest.records import Prepared
from rag import items

FAQ = b"# FAQ\n\n## Pay\n\nSalaries are paid on the 25th of every month.\n"


def test_a_file_is_prepared_then_known_unchanged(service):
    ingestor = Ingestor(service)
    prep = ingestor.preparer.prepare(Source("faq.md", data=FAQ), "default", None)
    assert isinstance(prep, Prepared) and prep.kind == "markdown"
    assert prep.texts == [("FAQ > Pay\n\nSalaries are paid on the 25th of every month.",
                           {items.SECTION: "FAQ > Pay"})]
    ingestor.ingest([Source("faq.md", data=FAQ)])
    again = ingestor.preparer.prepare(Source("faq.md", data=FAQ), "default", None)
    assert again.status == "unchanged" and again.chunks == 1


def test_a_bad_file_is_skipped_with_the_reason(service):
    out = Ingestor(service).preparer.prepare(Source("x.docx", data=b"PK\x03\x04junk"),
                                             "default", None)
    assert out.status == "skipped" and "Word (.docx)" in out.reason


def test_the_passage_before_a_picture_keeps_what_was_read_in_it():
    import json

    from ingest.prepare import SHOWS_CHARS, shown_by
    from ingest.records import PICTURE
    from rag import items

    texts = [("Dialogs\n\nThe Undo dialog lists your actions.", {}),
             ("Figure 15.25. The Undo History dialog", {}),
             ("The Undo History dialog", {PICTURE: 0}),  # read in an earlier picture
             ("Redo. This button advances the image.", {})]
    shown_by(texts, "actions. Figure 15.25. The Undo History dialog", "undo.png", "Eraser")
    shown_by(texts, "Figure 15.25. The Undo History dialog", "undo2.png", "x" * SHOWS_CHARS)
    shown_by(texts, "words no passage holds", "lost.png", "Lost")
    assert [items.SHOWS in w for _, w in texts] == [False, True, False, False]
    shows = json.loads(texts[1][1][items.SHOWS])
    assert shows[0] == ["undo.png", "Eraser"] and shows[1][0] == "undo2.png"
    assert sum(len(t) for _, t in shows) == SHOWS_CHARS  # bounded
