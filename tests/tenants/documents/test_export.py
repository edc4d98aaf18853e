"""Exported PDFs are whole PDF files carrying the document's title, for any script the
call used (an embedded TrueType font), and still whole, with the text mapped to
Latin-1, on a machine without one."""

from __future__ import annotations

import uuid
import zlib
from datetime import UTC, datetime

import pytest

from audora.tenants.calls.content import DocumentKind, DocumentRecord
from audora.tenants.documents import export

MARKDOWN = (
    """# Statement of work

## Scope

- Booking for Zoë’s clinics — “fast” ✓
  - nested item
1. numbered
- [ ] a task

**Bold** text and `code`, and a very long word: """
    + "x" * 400
)


def _document(title: str = "SOW for Brightside") -> DocumentRecord:
    return DocumentRecord(
        id=uuid.uuid4(),
        call_id=uuid.uuid4(),
        kind=DocumentKind.SOW,
        title=title,
        version=1,
        markdown=MARKDOWN,
        structured=None,
        updated_at=datetime.now(UTC),
    )


def _whole(pdf: bytes) -> None:
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert b"/Type /Page" in pdf


def test_a_pdf_embeds_a_unicode_font_when_there_is_one() -> None:
    if export._font_file("") is None:
        pytest.skip("no DejaVu Sans on this machine; the fallback is tested below")
    pdf = export.pdf_file(_document())
    _whole(pdf)
    assert b"/Title (SOW for Brightside)" in pdf
    assert b"FontFile2" in pdf  # an embedded TrueType font


def test_without_a_font_the_pdf_uses_latin_1_and_never_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(export, "_SYSTEM_FONTS", ())
    monkeypatch.setattr(export.importlib.util, "find_spec", lambda _name: None)
    export._font_file.cache_clear()
    try:
        assert export._font_file("") is None
        pdf = export.pdf_file(_document("Zoë’s SOW ✓"))
    finally:
        export._font_file.cache_clear()
    _whole(pdf)
    assert b"FontFile2" not in pdf
    assert b"/BaseFont /Helvetica" in pdf
    streams = [
        zlib.decompress(chunk.split(b"stream\n", 1)[1].split(b"endstream", 1)[0].strip())
        for chunk in pdf.split(b"obj")
        if b"/FlateDecode" in chunk and b"stream\n" in chunk
    ]
    text = b"".join(streams)
    assert b'Booking for Zo\xeb\'s clinics - "fast" ?' in text
