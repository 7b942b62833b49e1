import codecs

import pytest

from ingest.loaders import Limits, kind_of, load
from ingest.loaders.base import markdown_sections
from ingest.loaders.text import decode_text, html_to_text
from rag.errors import InvalidInput, TooLarge


def test_kinds_by_extension():
    assert kind_of("a/B.MD") == "markdown" and kind_of("x.htm") == "html"
    assert kind_of("p.jpeg") == "image" and kind_of("p.GIF") == "image"
    assert kind_of("archive.zip") is None and kind_of("README") is None


@pytest.mark.parametrize("data, expected", [
    ("héllo wörld".encode(), "héllo wörld"),
    (codecs.BOM_UTF8 + b"with bom", "with bom"),
    ("utf sixteen".encode("utf-16"), "utf sixteen"),
])
def test_text_encodings(data, expected):
    assert decode_text(data, 1000)[0] == expected


def test_legacy_encoding_is_detected():
    text = "Café crème, déjà vu, naïve façade. " * 20
    decoded, enc = decode_text(text.encode("cp1252"), 10_000)
    assert decoded == text and enc != "utf-8"


@pytest.mark.parametrize("data, message", [
    (b"", "empty file"),
    (b"   \n\t  ", "only whitespace"),
    (b"\x00\x01\x02binary\x00junk", "binary data"),
])
def test_bad_text_is_refused_with_a_reason(data, message):
    with pytest.raises(InvalidInput, match=message):
        decode_text(data, 1000)


def test_text_size_limit():
    with pytest.raises(TooLarge):
        decode_text(b"a" * 50, 10)


def test_html_keeps_content_and_drops_boilerplate():
    html = """<html><head><title>Policy  page</title><script>var x = "secret";</script>
    <style>p {color: red}</style></head><body><nav>Home | About</nav>
    <h1>Heading</h1><p>First &amp; only paragraph.</p><footer>Copyright</footer></body></html>"""
    text, title = html_to_text(html)
    assert title == "Policy page"
    assert "Heading" in text and "First & only paragraph." in text
    for junk in ("secret", "color", "Home", "Copyright"):
        assert junk not in text


def test_load_refuses_unsupported_types_and_empty_html():
    with pytest.raises(InvalidInput, match="unsupported file type '.zip'"):
        load("x.zip", b"PK\x03\x04", Limits(100, 100))
    with pytest.raises(InvalidInput, match="no visible text"):
        load("x.html", b"<html><script>1</script></html>", Limits(100, 100))


def test_markdown_chunks_keep_their_heading_path():
    md = "# Policy\n\nIntro.\n\n## Booking\n\nUse the portal.\n\n```\n# not a heading\n```\n"
    sections = markdown_sections(md)
    assert sections[0] == ("Policy\n\nIntro.", {"section": "Policy"})
    text, meta = sections[1]
    assert meta == {"section": "Policy > Booking"}
    assert text.startswith("Policy > Booking\n\nUse the portal.") and "# not a heading" in text


def test_a_page_s_pictures_carry_the_text_just_before_them(tmp_path):
    from PIL import Image

    from ingest.loaders import Limits
    from ingest.loaders.base import BEFORE, BEFORE_CHARS
    from ingest.loaders.text import local_images
    from rag.sections import IngestSettings

    Image.new("RGB", (40, 30), "red").save(tmp_path / "a.png")
    html = ('<html><script>var x = "<img src=a.png>";</script><h1>Dialogs</h1><p>Figure 1. '
            'The Undo dialog</p><div><img src="a.png"></div><p>After it.</p></html>')
    [pic], _ = local_images("html", html, tmp_path, Limits.of(IngestSettings()))
    assert pic.meta[BEFORE] == "Dialogs Figure 1. The Undo dialog"
    md = "# Dialogs\n\n" + "word " * 40 + "\n\nThe Undo dialog:\n\n![undo](a.png)\n"
    [pic], _ = local_images("markdown", md, tmp_path, Limits.of(IngestSettings()))
    assert pic.meta[BEFORE].endswith("The Undo dialog:") and len(pic.meta[BEFORE]) == BEFORE_CHARS
