"""A document as a file: its Markdown as it is, or a PDF rendered from it.

The PDF is built in memory with fpdf2 (nothing touches a disk, E7). Text is set in
DejaVu Sans, a TrueType font fpdf2 embeds (subset), so any script a call used prints:
the font is `AUDORA_PDF_FONT_FILE`, else DejaVu Sans where the system or matplotlib has
it. Without any, the PDF falls back to the PDF core font Helvetica, which covers
Latin-1 only: typographic punctuation is mapped to ASCII and anything else left is
printed as "?", never dropped silently nor a failed export.

The Markdown is rendered plainly: headings larger and bold, list items indented with
a bullet, emphasis markers removed, everything else as paragraphs.
"""

from __future__ import annotations

import importlib.util
import re
from functools import cache
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import WrapMode

from audora.tenants.calls.content import DocumentRecord

_SYSTEM_FONTS = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),  # Debian, Ubuntu
    Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),  # Fedora
    Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),  # Arch
    Path("/usr/local/share/fonts/DejaVuSans.ttf"),
)
_ASCII = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
        "\u2022": "-",
        "\u00a0": " ",
        "\u20ac": "EUR ",
    }
)
_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$")
_ITEM = re.compile(r"^(\s*)(?:[-*+]|\d+[.)])[ \t]+(?:\[[ xX]\][ \t]+)?(.*)$")
_EMPHASIS = re.compile(r"(\*\*|__|`)")
_SIZES = {1: 18, 2: 15, 3: 13}


@cache
def _font_file(configured: str) -> Path | None:
    if configured:
        return Path(configured)
    candidates = list(_SYSTEM_FONTS)
    spec = importlib.util.find_spec("matplotlib")
    if spec is not None and spec.origin is not None:
        candidates.append(Path(spec.origin).parent / "mpl-data/fonts/ttf/DejaVuSans.ttf")
    return next((p for p in candidates if p.is_file()), None)


def markdown_file(document: DocumentRecord) -> bytes:
    return document.markdown.encode()


class _Writer:
    def __init__(self, font_file: Path | None) -> None:
        self.pdf = FPDF(format="A4")
        self.pdf.set_margins(20, 20, 20)
        self.pdf.set_auto_page_break(auto=True, margin=20)
        self.unicode = font_file is not None
        if font_file is not None:
            self.pdf.add_font("body", fname=str(font_file))
            bold = font_file.with_name(font_file.stem + "-Bold" + font_file.suffix)
            self.pdf.add_font("body", style="B", fname=str(bold if bold.is_file() else font_file))
            self.family = "body"
        else:
            self.family = "helvetica"

    def text(self, value: str) -> str:
        if self.unicode:
            return value
        return value.translate(_ASCII).encode("latin-1", "replace").decode("latin-1")

    def line(self, value: str, *, size: int = 11, bold: bool = False, indent: float = 0) -> None:
        self.pdf.set_font(self.family, style="B" if bold else "", size=size)
        self.pdf.set_x(self.pdf.l_margin + indent)
        self.pdf.multi_cell(
            0, size * 0.5, self.text(value), new_x="LMARGIN", new_y="NEXT", wrapmode=WrapMode.CHAR
        )


def pdf_file(document: DocumentRecord, *, font_file: str = "") -> bytes:
    """`document` (already shaped for its reader) as a PDF."""
    writer = _Writer(_font_file(font_file))
    pdf = writer.pdf
    pdf.set_title(writer.text(document.title))
    pdf.set_creator("Audora")
    pdf.add_page()
    writer.line(document.title, size=20, bold=True)
    pdf.ln(4)
    for raw in document.markdown.split("\n"):
        plain = _EMPHASIS.sub("", raw.rstrip())
        heading = _HEADING.match(plain)
        item = _ITEM.match(plain)
        if not plain.strip():
            pdf.ln(3)
        elif heading:
            pdf.ln(2)
            writer.line(heading.group(2), size=_SIZES.get(len(heading.group(1)), 12), bold=True)
            pdf.ln(1)
        elif item:
            bullet = "\u2022" if writer.unicode else "-"
            depth = len(item.group(1).expandtabs(4)) // 2
            writer.line(f"{bullet} {item.group(2)}", indent=4 + 5 * min(depth, 6))
        else:
            writer.line(plain.strip())
    return bytes(pdf.output())
