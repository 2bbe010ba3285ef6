"""Small real report files made in the test: a DOCX through python-docx and a PDF written by hand, whose
Chinese text a PDF reader extracts through its ToUnicode map (no font file needed); and a zip bomb."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import docx


def make_docx(paragraphs: list[str]) -> bytes:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_pdf(lines: list[str]) -> bytes:
    """One page, one line per entry; each character is drawn as its own code point in an Identity-H font."""
    chars = sorted({ch for line in lines for ch in line})
    cmap = "\n".join(f"<{ord(c):04X}> <{ord(c):04X}>" for c in chars)
    to_unicode = (
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /Identity-UCS def "
        "/CMapType 2 def 1 begincodespacerange <0000> <FFFF> endcodespacerange "
        f"{len(chars)} beginbfchar\n{cmap}\nendbfchar endcmap CMapName currentdict /CMap defineresource pop end end"
    )
    text = "".join(
        f"BT /F1 12 Tf 40 {780 - 18 * i} Td <{''.join(f'{ord(c):04X}' for c in line)}> Tj ET\n"
        for i, line in enumerate(lines)
    )
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        _stream(text),
        "<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /Identity-H "
        "/DescendantFonts [6 0 R] /ToUnicode 7 0 R >>",
        "<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /DW 1000 >>",
        _stream(to_unicode),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _stream(data: str) -> str:
    return f"<< /Length {len(data.encode())} >>\nstream\n{data}\nendstream"


def zip_bomb(path: Path, megabytes: int = 300) -> Path:
    """A .docx whose padding part inflates to `megabytes` MB (about 1000:1 compressed)."""
    document = docx.Document()
    document.add_paragraph("某县司法局报告")
    document.save(path)
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as zf, zf.open("word/padding.xml", "w") as fh:
        block = b"<w:p/>" * (2**20 // 6)
        for _ in range(megabytes):
            fh.write(block)
    return path
