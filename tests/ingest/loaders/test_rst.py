"""Sphinx pages (reStructuredText, often saved as .txt) keep their section titles."""

from ingest.loaders.base import looks_like_rst, rst_sections

PAGE = """\
========
Settings
========

Intro text.

Core Settings
=============

``SESSION_COOKIE_AGE``
----------------------

Default: ``1209600``

``SESSION_COOKIE_NAME``
-----------------------

Default: ``'sessionid'``

Sessions
========

About sessions.
"""


def test_sections_carry_their_heading_path():
    assert looks_like_rst(PAGE)
    sections = rst_sections(PAGE)
    heads = [m.get("section") for _, m in sections]
    assert heads == ["Settings", "Settings > Core Settings > SESSION_COOKIE_AGE",
                     "Settings > Core Settings > SESSION_COOKIE_NAME", "Settings > Sessions"]
    text, _ = sections[1]
    assert text == "Settings > Core Settings > SESSION_COOKIE_AGE\n\nDefault: ``1209600``"


def test_plain_prose_is_not_taken_for_rst():
    assert not looks_like_rst("A note.\n\nIt has -- dashes --- and lines.\n")
