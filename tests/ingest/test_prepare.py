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
