"""Hostile PDFs: page, pixel and stream bombs, loops, deep nesting, encryption, scripts."""

from __future__ import annotations

import io
import zlib


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
