"""Hostile Office files: zip bombs, entity attacks, broken packages."""

from __future__ import annotations

import io
import zipfile

MB = 1024 * 1024


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
