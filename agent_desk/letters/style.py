"""The letters' look: the A4 page geometry (DIN 5008 form B), the colours, the
embedded fonts, the paragraph styles, and how dates, money and markup are written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Final
from xml.sax.saxutils import escape

from babel.dates import format_date
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from agent_desk.domain.money import format_money
from agent_desk.letters.data import Language
from agent_desk.resources import resource_path

PAGE_WIDTH: Final[float] = float(A4[0])
PAGE_HEIGHT: Final[float] = float(A4[1])
MARGIN_LEFT: Final = 25 * mm  # DIN 5008: text starts 25 mm from the left edge
MARGIN_RIGHT: Final = 20 * mm
BODY_WIDTH: Final = PAGE_WIDTH - MARGIN_LEFT - MARGIN_RIGHT


@dataclass(frozen=True)
class Box:
    """A rectangle measured like on paper: from the left and from the TOP edge."""

    left: float
    top: float
    width: float
    height: float

    @property
    def bottom_y(self) -> float:
        """Lower edge in reportlab coordinates (origin bottom-left)."""
        return PAGE_HEIGHT - self.top - self.height


#: Address window of a standard window envelope (C5/6 and DL "venster links", and
#: C5 folded in three), as laid down in DIN 5008 form B, which Dutch envelopes follow:
#: 20 mm from the left edge, 45 mm from the top, 85 x 45 mm. The upper 17.7 mm is the
#: "Zusatz- und Vermerkzone" where the small return address goes; the postal address
#: proper sits in the lower 27.3 mm. Text is indented 5 mm inside the window.
ADDRESS_WINDOW: Final = Box(left=20 * mm, top=45 * mm, width=85 * mm, height=45 * mm)
ADDRESS_RETURN_ZONE: Final = 17.7 * mm
ADDRESS_INDENT: Final = 5 * mm
#: Information block (date, reference, contact) beside the window, DIN 5008 form B.
INFO_BLOCK: Final = Box(left=125 * mm, top=50 * mm, width=65 * mm, height=40 * mm)
#: Fold marks for a DIN 5008 form B letter, and the punch-hole mark, from the top.
FOLD_MARKS: Final = (105 * mm, 210 * mm)
PUNCH_MARK: Final = PAGE_HEIGHT / 2
#: Where the text starts on page one (below the window) and on further pages.
BODY_TOP_FIRST: Final = 98.5 * mm
BODY_TOP_LATER: Final = 27 * mm
BODY_BOTTOM: Final = 26 * mm  # above the footer

ACCENT: Final = colors.HexColor("#1F5A73")  # calm deep teal-blue
ACCENT_TINT: Final = colors.HexColor("#EAF1F4")
ZEBRA: Final = colors.HexColor("#F6F9FA")
INK: Final = colors.HexColor("#1E1E1E")
MUTED: Final = colors.HexColor("#5F6B70")
RULE: Final = colors.HexColor("#C9D3D7")

FONT: Final = "DejaVuSans"
FONT_BOLD: Final = "DejaVuSans-Bold"

_fonts_registered = False


def register_fonts() -> None:
    """Register DejaVu Sans (regular, bold) once per process; it is embedded as a subset."""
    global _fonts_registered
    if _fonts_registered:
        return
    pdfmetrics.registerFont(TTFont(FONT, str(resource_path("fonts", "DejaVuSans.ttf"))))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(resource_path("fonts", "DejaVuSans-Bold.ttf"))))
    pdfmetrics.registerFontFamily(
        FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD
    )
    _fonts_registered = True


@dataclass(frozen=True)
class Styles:
    body: ParagraphStyle
    subject: ParagraphStyle
    heading: ParagraphStyle
    small: ParagraphStyle
    cell: ParagraphStyle
    cell_bold: ParagraphStyle
    cell_right: ParagraphStyle
    cell_right_bold: ParagraphStyle
    cell_head: ParagraphStyle
    cell_head_right: ParagraphStyle
    note: ParagraphStyle
    bullet: ParagraphStyle


def _make_styles() -> Styles:
    body = ParagraphStyle(
        "body", fontName=FONT, fontSize=9.5, leading=13.5, textColor=INK, alignment=TA_LEFT
    )
    cell = ParagraphStyle("cell", parent=body, leading=12.5)
    return Styles(
        body=body,
        subject=ParagraphStyle(
            "subject", parent=body, fontName=FONT_BOLD, fontSize=12.5, leading=16, spaceAfter=10
        ),
        heading=ParagraphStyle(
            "heading",
            parent=body,
            fontName=FONT_BOLD,
            fontSize=10,
            leading=14,
            textColor=ACCENT,
            spaceBefore=8,
            spaceAfter=2,
        ),
        small=ParagraphStyle("small", parent=body, fontSize=8, leading=11, textColor=MUTED),
        cell=cell,
        cell_bold=ParagraphStyle("cell_bold", parent=cell, fontName=FONT_BOLD),
        cell_right=ParagraphStyle("cell_right", parent=cell, alignment=TA_RIGHT),
        cell_right_bold=ParagraphStyle(
            "cell_right_bold", parent=cell, alignment=TA_RIGHT, fontName=FONT_BOLD
        ),
        cell_head=ParagraphStyle(
            "cell_head", parent=cell, fontName=FONT_BOLD, fontSize=8.5, textColor=ACCENT
        ),
        cell_head_right=ParagraphStyle(
            "cell_head_right",
            parent=cell,
            fontName=FONT_BOLD,
            fontSize=8.5,
            textColor=ACCENT,
            alignment=TA_RIGHT,
        ),
        note=ParagraphStyle("note", parent=cell, fontSize=8.5, textColor=MUTED),
        bullet=ParagraphStyle(
            "bullet",
            parent=body,
            leftIndent=5 * mm,
            bulletIndent=1 * mm,
            bulletFontName=FONT,
            spaceBefore=1.5,
        ),
    )


_STYLES: Styles | None = None


def styles() -> Styles:
    global _STYLES
    if _STYLES is None:
        register_fonts()
        _STYLES = _make_styles()
    return _STYLES


_BABEL_LOCALE: Final[dict[Language, str]] = {"nl": "nl_NL", "en": "en_GB"}


def format_long_date(value: date, language: Language) -> str:
    """``31 januari 2027`` / ``31 January 2027``."""
    return str(format_date(value, format="long", locale=_BABEL_LOCALE[language]))


def money(cents: int, language: Language) -> str:
    return format_money(cents, language)


def fill(template: str, **values: object) -> str:
    """Fill a template (which may hold markup) with values that are always escaped."""
    return template.format(**{key: escape(str(value)) for key, value in values.items()})


#: Plain-string cells would otherwise be drawn in Helvetica (and embed a second font).
TABLE_BASE: Final[list[tuple[Any, ...]]] = [("FONTNAME", (0, 0), (-1, -1), FONT)]
