"""A corpus of hostile files, generated (nothing binary is committed):
``python -m tests.server.hostile OUT_DIR`` writes them; the tests call ``corpus()``.

Bombs (zip, XML entity, page, pixel, content stream), malformed and truncated files,
polyglots, encrypted PDFs, JavaScript in PDFs, pathological text, nested archives."""

from __future__ import annotations

import io
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

from PIL import Image

MB = 1024 * 1024


# -- Office (zip of XML parts) -------------------------------------------------------------
_CT = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
       'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
       'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
       '"application/xml"/><Override PartName="/word/document.xml" ContentType="application/'
       'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
         'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
         'schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target='
         '"word/document.xml"/></Relationships>')
_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
_PARA = "<w:p><w:r><w:t>{}</w:t></w:r></w:p>"


def docx(body: str = _PARA.format("A harmless paragraph."), prolog: str = "",
         extra: dict[str, bytes] | None = None, repeat: int = 0, unit: str = "") -> bytes:
    """A minimal Word file; ``repeat`` copies of ``unit`` are streamed into the body (a bomb
    without holding it in memory)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", _CT)
        z.writestr("_rels/.rels", _RELS)
        with z.open("word/document.xml", "w", force_zip64=True) as f:
            f.write(f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<w:document {_W}>'
                    f"<w:body>{body}".encode())
            block = (unit * 10_000).encode()
            for _ in range(repeat // 10_000):
                f.write(block)
            f.write(b"</w:body></w:document>")
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return buf.getvalue()


def pptx_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", _CT.replace("word/document", "ppt/presentation"))
        with z.open("ppt/slides/slide1.xml", "w", force_zip64=True) as f:
            block = b"<a:t>bomb</a:t>" * 100_000
            for _ in range(200):  # 300 MB
                f.write(block)
    return buf.getvalue()


LAUGHS = ('<!DOCTYPE lolz [<!ENTITY lol "lol">' + "".join(
    f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
    for i in range(1, 10)) + "]>")
XXE = '<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def many_entries() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", _CT)
        for i in range(12_000):
            z.writestr(f"x/{i}.bin", b"")
    return buf.getvalue()


def zip_of(inner: bytes, name: str = "inner.zip") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, inner)
    return buf.getvalue()


def zero_zip(size: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z, \
            z.open("zeros.bin", "w", force_zip64=True) as f:
        for _ in range(size // MB):
            f.write(bytes(MB))
    return buf.getvalue()


# -- PDF --------------------------------------------------------------------------------------
def pdf(objects: list[bytes], root: int = 1, trailer_extra: bytes = b"") -> bytes:
    """A PDF with a correct cross-reference table from numbered object bodies."""
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<< /Size %d /Root %d 0 R %s >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, root, trailer_extra, xref))
    return out.getvalue()


def stream(data: bytes, extra: bytes = b"", compress: bool = True) -> bytes:
    if compress:
        data = zlib.compress(data, 9)
        extra += b" /Filter /FlateDecode"
    return b"<< /Length %d%s >>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def pdf_pages(n: int, size: tuple[int, int] = (612, 792), content: bytes | None = None,
              resources: bytes = b"<< >>") -> bytes:
    kids = b" ".join(b"%d 0 R" % (3 + i) for i in range(n))
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, n)]
    contents = b" /Contents %d 0 R" % (3 + n) if content is not None else b""
    for _ in range(n):
        objs.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Resources %s%s >>"
                    % (size[0], size[1], resources, contents))
    if content is not None:
        objs.append(stream(content))
    return pdf(objs)


def pdf_text(text: str = "Hello from a PDF.") -> bytes:
    return pdf_pages(1, content=b"BT /F1 12 Tf 72 700 Td (%s) Tj ET" % text.encode(),
                     resources=b"<< /Font << /F1 << /Type /Font /Subtype /Type1 "
                               b"/BaseFont /Helvetica >> >> >>")


def pdf_js() -> bytes:
    base = pdf_text("This PDF carries JavaScript.")
    return base.replace(b"<< /Type /Catalog /Pages 2 0 R >>",
                        b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /JavaScript "
                        b"/JS (app.alert\\('pwned'\\); while\\(true\\){}) >> >>")


def pdf_encrypted(password: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    w = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_text("Secret but readable text."))))
    w.encrypt(user_password=password, owner_password="owner", algorithm="AES-256")
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def pdf_loop() -> bytes:  # a page tree whose Kids point back at itself
    return pdf([b"<< /Type /Catalog /Pages 2 0 R >>",
                b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>",
                b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R] /Count 1 >>"])


def pdf_deep() -> bytes:  # 100,000 nested arrays
    return pdf([b"<< /Type /Catalog /Pages 2 0 R /X " + b"[" * 100_000 + b"]" * 100_000
                + b" >>", b"<< /Type /Pages /Kids [] /Count 0 >>"])


def pdf_image_bomb() -> bytes:  # an image XObject declaring 100000 x 100000 pixels
    img = stream(bytes(1000), b" /Type /XObject /Subtype /Image /Width 100000 /Height 100000"
                 b" /ColorSpace /DeviceRGB /BitsPerComponent 8")
    return pdf([b"<< /Type /Catalog /Pages 2 0 R >>",
                b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                b"/Resources << /XObject << /Im0 4 0 R >> >> /Contents 5 0 R >>",
                img, stream(b"q 612 0 0 792 0 0 cm /Im0 Do Q")])


def pdf_stream_bomb() -> bytes:  # a content stream that inflates to 400 MB of drawing
    comp = zlib.compressobj(9)
    data = b"".join(comp.compress(b"0 0 m 1 1 l S\n" * 100_000) for _ in range(300))
    data += comp.flush()
    body = b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream"
    return pdf([b"<< /Type /Catalog /Pages 2 0 R >>",
                b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
                body])


# -- images -----------------------------------------------------------------------------------
def png_chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def png_header(w: int, h: int, idat: bytes = zlib.compress(b"")) -> bytes:
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b""))


def png_inflating() -> bytes:  # 7000 x 7000 of zeros: 147 MB of pixels from a few hundred KB
    comp = zlib.compressobj(9)
    row = bytes(1 + 7000 * 3)
    data = b"".join(comp.compress(row) for _ in range(7000)) + comp.flush()
    return png_header(7000, 7000, data)


def gif_header(w: int, h: int) -> bytes:
    return (b"GIF89a" + struct.pack("<HH", w, h) + b"\x00\x00\x00"
            + b"\x2c" + struct.pack("<HHHH", 0, 0, w, h) + b"\x00\x02\x02\x44\x01\x00\x3b")


def jpeg_header(w: int, h: int) -> bytes:
    real = image("JPEG", (16, 16))
    sof = real.index(b"\xff\xc0")
    return real[:sof + 5] + struct.pack(">HH", h, w) + real[sof + 9:]


def image(fmt: str, size: tuple[int, int] = (64, 48), **kw: object) -> bytes:
    buf = io.BytesIO()
    Image.effect_noise(size, 40).convert("RGB").save(buf, fmt, **kw)
    return buf.getvalue()


def gif_many_frames() -> bytes:
    frames = [Image.new("P", (32, 32), i % 256) for i in range(3000)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
    return buf.getvalue()


def bmp_header(w: int, h: int) -> bytes:
    return (b"BM" + struct.pack("<IHHI", 54, 0, 0, 54)
            + struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, 0, 0, 0, 0, 0))


# -- the corpus -------------------------------------------------------------------------------
def corpus() -> dict[str, Callable[[], bytes]]:
    """name -> builder. Every name is unique; the extension decides the loader."""
    text_bomb_unit = _PARA.format("lorem ipsum dolor sit amet")
    return {
        # Office: zip bombs, entity attacks, broken packages
        "zip-bomb.docx": lambda: docx(repeat=9_000_000, unit="<w:p><w:r><w:t>a</w:t></w:r></w:p>"),
        "ratio-bomb-16mb.docx": lambda: docx(repeat=280_000, unit=text_bomb_unit),
        "xml-40mb.docx": lambda: docx(repeat=1_100_000, unit=text_bomb_unit),
        "zip-bomb.pptx": pptx_bomb,
        "billion-laughs.docx": lambda: docx(_PARA.format("&lol9;"), prolog=LAUGHS),
        "xxe.docx": lambda: docx(_PARA.format("&xxe;"), prolog=XXE),
        "xxe-in-rels.docx": lambda: docx(extra={"word/_rels/document.xml.rels":
                                                f"<?xml version='1.0'?>{XXE}<r>&xxe;</r>"
                                                .encode()}),
        "xxe.pptx": lambda: docx(prolog=XXE).replace(b"word/", b"ppt//"),
        "utf16-part.docx": lambda: docx(extra={"word/styles.xml": "\ufeff<a/>".encode(
            "utf-16")}),
        "many-entries.docx": many_entries,
        "zero-media.docx": lambda: docx(extra={"word/media/zeros.bin": bytes(300 * MB)}),
        "nested-zip.docx": lambda: docx(extra={"word/embeddings/a.zip": zip_of(zero_zip(
            64 * MB))}),
        "no-document.docx": lambda: zip_of(b"hello", "readme.txt"),
        "random.docx": lambda: bytes(range(256)) * 64,
        "truncated.docx": lambda: docx()[:600],
        "empty.pptx": lambda: b"",
        "random.pptx": lambda: b"PK\x03\x04" + bytes(2000),
        # PDF: page bombs, content-stream bombs, structure attacks, encryption, scripts
        "page-bomb.pdf": lambda: pdf_pages(1, size=(14400, 14400), content=b"0 0 m 10 10 l S"),
        "blank-pages.pdf": lambda: pdf_pages(60),
        "blank-drawn-pages.pdf": lambda: pdf_pages(40, content=b"1 1 1 rg 0 0 612 792 re f"),
        "many-pages.pdf": lambda: pdf_pages(5000),
        "stream-bomb.pdf": pdf_stream_bomb,
        "image-bomb.pdf": pdf_image_bomb,
        "page-tree-loop.pdf": pdf_loop,
        "deep-nesting.pdf": pdf_deep,
        "javascript.pdf": pdf_js,
        "aes-empty-password.pdf": lambda: pdf_encrypted(""),
        "aes-password.pdf": lambda: pdf_encrypted("s3cret"),
        "truncated.pdf": lambda: pdf_text()[:200],
        "header-only.pdf": lambda: b"%PDF-1.7\n",
        "no-xref.pdf": lambda: b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF",
        "pdf-zip-polyglot.pdf": lambda: pdf_text("A polyglot.") + zip_of(b"x" * 1000),
        "zip-named.pdf": lambda: zip_of(b"not a pdf"),
        "garbage.pdf": lambda: bytes(range(256)) * 100,
        # images: headers that promise billions of pixels, truncation, polyglots, animation
        "huge.png": lambda: png_header(100_000, 100_000),
        "inflating.png": png_inflating,
        "huge.gif": lambda: gif_header(65535, 65535),
        "huge.jpg": lambda: jpeg_header(65000, 65000),
        "huge.bmp": lambda: bmp_header(60_000, 60_000),
        "huge-negative.bmp": lambda: bmp_header(50_000, -50_000),
        "huge.tiff": lambda: image("TIFF")[:8] + image("TIFF")[8:].replace(
            struct.pack("<H", 64), struct.pack("<H", 65535), 1),
        "frames.gif": gif_many_frames,
        "truncated.jpg": lambda: image("JPEG")[:150],
        "truncated.webp": lambda: image("WEBP")[:40],
        "png-zip-polyglot.png": lambda: image("PNG") + zip_of(b"x" * 5000),
        "text-named.jpg": lambda: b"plain words pretending to be a picture",
        "html-named.png": lambda: b"<html><script>alert(1)</script></html>",
        "zero.png": lambda: b"",
        # text: pathological punctuation, no spaces, giant lines, encodings, markup
        "question-marks.txt": lambda: b"?" * 30_000,
        "bangs.md": lambda: b"# Title\n\n" + b"!" * 50_000 + b"\n\nA real sentence after.",
        "no-spaces.txt": lambda: b"abc" * 700_000,
        "one-line-300kb.txt": lambda: b"word " * 60_000,
        "nul-bytes.txt": lambda: b"text\x00" * 1000,
        "bad-utf16.txt": lambda: b"\xff\xfe" + b"\x00\xd8" * 1000,
        "deep-headings.md": lambda: b"\n".join(b"#" * (1 + i % 6) + b" h" for i in range(50_000)),
        "image-refs.md": lambda: "".join(f"![x](../../../../etc/passwd{i}) ![y](/dev/zero) "
                                         f"![z](/proc/self/mem)\n" for i in range(3000)).encode(),
        "nested-divs.html": lambda: b"<div>" * 200_000 + b"deep" + b"</div>" * 200_000,
        "xxe.html": lambda: (XXE + "<html><body>&xxe; visible</body></html>").encode(),
        "laughs.html": lambda: (LAUGHS + "<html><body>&lol9;</body></html>").encode(),
        "script-only.html": lambda: b"<script>" + b"x" * 100_000 + b"</script>",
        "entities.html": lambda: b"<p>" + b"&amp;&lt;&#x10FFFF;&#99999999;" * 20_000 + b"</p>",
        # other kinds: video, unsupported types, archives
        "random.mp4": lambda: bytes(range(256)) * 400,
        "truncated.webm": lambda: b"\x1aE\xdf\xa3" + bytes(300),
        "image.svg": lambda: ('<?xml version="1.0"?>' + LAUGHS + '<svg xmlns="http://www.w3'
                              '.org/2000/svg"><text>&lol9;</text></svg>').encode(),
        "laughs.xml": lambda: (LAUGHS + "<r>&lol9;</r>").encode(),
        "bomb.zip": lambda: zero_zip(64 * MB),
        "nested.zip": lambda: zip_of(zip_of(zero_zip(16 * MB))),
        "payload.exe": lambda: b"MZ" + bytes(500),
    }


def main(out: str) -> None:
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    for name, build in corpus().items():
        data = build()
        (folder / name).write_bytes(data)
        print(f"{len(data):>12,}  {name}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "hostile-corpus")
