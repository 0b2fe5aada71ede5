"""Draw letters as A4 PDFs with reportlab platypus.

* Page one follows DIN 5008 form B (the layout Dutch window envelopes are made for):
  letterhead at the top, the address in the envelope window, an information block
  (date, reference, contact) beside it, the text below the window. Further pages get
  a slim header. Every page has a footer with the creditor's details and
  "pagina 1 van 3".
* Every value that comes from data is escaped before it goes into paragraph markup.
* The same input gives the same bytes: reportlab's invariant mode, and the PDF
  creation date is the letter date.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import multiprocessing
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any, Final
from xml.sax.saxutils import escape

from babel.dates import format_date
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from agent_desk.domain.money import format_money
from agent_desk.letters import templates
from agent_desk.letters.data import (
    AnyLetter,
    ArrangementLetterData,
    DebtHelp,
    DebtHelpReferralData,
    FourteenDayLetterData,
    Language,
    LetterData,
    PauseLetterData,
    epc_payload,
    letter_payment_link,
    payment_amount_cents,
    validate,
)
from agent_desk.resources import resource_path

# --------------------------------------------------------------------------- geometry

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

# --------------------------------------------------------------------------- look

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
class _Styles:
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


def _make_styles() -> _Styles:
    body = ParagraphStyle(
        "body", fontName=FONT, fontSize=9.5, leading=13.5, textColor=INK, alignment=TA_LEFT
    )
    cell = ParagraphStyle("cell", parent=body, leading=12.5)
    return _Styles(
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


_STYLES: _Styles | None = None


def _styles() -> _Styles:
    global _STYLES
    if _STYLES is None:
        register_fonts()
        _STYLES = _make_styles()
    return _STYLES


# --------------------------------------------------------------------------- formatting

_BABEL_LOCALE: Final[dict[Language, str]] = {"nl": "nl_NL", "en": "en_GB"}


def format_long_date(value: date, language: Language) -> str:
    """``31 januari 2027`` / ``31 January 2027``."""
    return str(format_date(value, format="long", locale=_BABEL_LOCALE[language]))


def money(cents: int, language: Language) -> str:
    return format_money(cents, language)


def fill(template: str, **values: object) -> str:
    """Fill a template (which may hold markup) with values that are always escaped."""
    return template.format(**{key: escape(str(value)) for key, value in values.items()})


def sha256_hex(pdf: bytes) -> str:
    return hashlib.sha256(pdf).hexdigest()


# --------------------------------------------------------------------------- canvas


class _LetterCanvas(Canvas):  # type: ignore[misc]
    """Canvas that knows the page count at the end, for "pagina 1 van 3".

    Pages are kept until ``save``; then each gets its page number and is emitted.
    """

    def __init__(
        self,
        *args: Any,
        page_label: str = "{page}/{pages}",
        letter_date: date | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs["invariant"] = 1
        kwargs["initialFontName"] = FONT
        super().__init__(*args, **kwargs)
        self._page_label = page_label
        self._pages: list[dict[str, Any]] = []
        if letter_date is not None:
            stamp = f"D:{letter_date:%Y%m%d}000000+00'00'"
            self.setDateFormatter(lambda *_args: stamp)

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self.setFont(FONT, 7.5)
            self.setFillColor(MUTED)
            self.drawRightString(
                PAGE_WIDTH - MARGIN_RIGHT,
                14 * mm,
                self._page_label.format(page=number, pages=total),
            )
            super().showPage()
        super().save()


# --------------------------------------------------------------------------- page furniture


def _fit_font_size(text: str, font: str, size: float, width: float, minimum: float = 6.5) -> float:
    while size > minimum and pdfmetrics.stringWidth(text, font, size) > width:
        size -= 0.25
    return size


def _draw_line(
    canv: Canvas, x: float, y: float, text: str, font: str, size: float, width: float
) -> None:
    """Draw one line of plain text (no markup), shrinking it to fit ``width`` if needed."""
    canv.setFont(font, _fit_font_size(text, font, size, width))
    canv.drawString(x, y, text)


def _footer(canv: Canvas, data: LetterData) -> None:
    creditor = data.creditor
    t = templates.common(data.language, data.text_overrides)
    canv.saveState()
    canv.setStrokeColor(RULE)
    canv.setLineWidth(0.5)
    canv.line(MARGIN_LEFT, 20 * mm, PAGE_WIDTH - MARGIN_RIGHT, 20 * mm)
    canv.setFillColor(MUTED)
    width = BODY_WIDTH - 30 * mm  # leave room for the page number
    first = " · ".join(
        [
            creditor.name,
            *[line for line in creditor.address_lines if line.strip()],
            creditor.website,
        ]
    )
    second_parts = [
        t["kvk"].format(kvk=creditor.kvk),
        f"{t['iban']} {creditor.iban_display}",
    ]
    if creditor.bic:
        second_parts.append(f"{t['bic']} {creditor.bic}")
    second_parts.append(creditor.phone)
    second_parts.append(creditor.email)
    _draw_line(canv, MARGIN_LEFT, 14 * mm, first, FONT, 7.5, width)
    _draw_line(canv, MARGIN_LEFT, 10.5 * mm, " · ".join(second_parts), FONT, 7.5, width)
    canv.restoreState()


def _letterhead(canv: Canvas, data: LetterData) -> None:
    creditor = data.creditor
    top = PAGE_HEIGHT
    canv.saveState()
    # Logo (if any) at the top left; else the creditor's name as a word mark.
    drew_logo = False
    if creditor.logo_path:
        try:
            image = ImageReader(creditor.logo_path)
            iw, ih = image.getSize()
            scale = min(45 * mm / iw, 16 * mm / ih)
            canv.drawImage(
                image,
                MARGIN_LEFT,
                top - 14 * mm - ih * scale,
                width=iw * scale,
                height=ih * scale,
                mask="auto",
            )
            drew_logo = True
        except OSError:
            drew_logo = False
    if not drew_logo:
        canv.setFillColor(ACCENT)
        _draw_line(canv, MARGIN_LEFT, top - 24 * mm, creditor.name, FONT_BOLD, 16, 95 * mm)
    # Thin accent bar under the letterhead.
    canv.setFillColor(ACCENT)
    canv.rect(MARGIN_LEFT, top - 33 * mm, 18 * mm, 0.9 * mm, stroke=0, fill=1)
    # Sender's details at the top right.
    x = INFO_BLOCK.left
    y = top - 16 * mm
    canv.setFillColor(INK)
    _draw_line(canv, x, y, creditor.name, FONT_BOLD, 8, INFO_BLOCK.width)
    canv.setFillColor(MUTED)
    for line in [*creditor.address_lines, creditor.phone, creditor.email, creditor.website]:
        if not line.strip():
            continue
        y -= 3.6 * mm
        _draw_line(canv, x, y, line, FONT, 8, INFO_BLOCK.width)
    canv.restoreState()


def _address_window(canv: Canvas, data: LetterData) -> None:
    win = ADDRESS_WINDOW
    x = win.left + ADDRESS_INDENT
    width = win.width - 2 * ADDRESS_INDENT
    canv.saveState()
    # Return address, small and underlined, in the top zone of the window.
    creditor = data.creditor
    back = " · ".join([creditor.name, *[line for line in creditor.address_lines if line.strip()]])
    size = _fit_font_size(back, FONT, 6.5, width, minimum=5)
    y_back = PAGE_HEIGHT - win.top - ADDRESS_RETURN_ZONE + 4 * mm
    canv.setFillColor(MUTED)
    canv.setFont(FONT, size)
    canv.drawString(x, y_back, back)
    canv.setStrokeColor(MUTED)
    canv.setLineWidth(0.3)
    canv.line(x, y_back - 1.2, x + pdfmetrics.stringWidth(back, FONT, size), y_back - 1.2)
    # The postal address.
    canv.setFillColor(INK)
    y = PAGE_HEIGHT - win.top - ADDRESS_RETURN_ZONE - 4.5 * mm
    for line in data.recipient.address_lines():
        _draw_line(canv, x, y, line, FONT, 10, width)
        y -= 4.6 * mm
    canv.restoreState()


def _info_block(canv: Canvas, data: LetterData) -> None:
    t = templates.common(data.language, data.text_overrides)
    rows = [
        (t["date"], format_long_date(data.letter_date, data.language)),
        (t["reference"], data.reference),
        (t["agent"], data.agent_name),
        (t["phone"], data.creditor.phone),
    ]
    canv.saveState()
    y = PAGE_HEIGHT - INFO_BLOCK.top - 4 * mm
    label_width = 27 * mm
    for label, value in rows:
        canv.setFillColor(MUTED)
        _draw_line(canv, INFO_BLOCK.left, y, label, FONT, 8, label_width - 2 * mm)
        canv.setFillColor(INK)
        _draw_line(
            canv, INFO_BLOCK.left + label_width, y, value, FONT, 8.5, INFO_BLOCK.width - label_width
        )
        y -= 5 * mm
    canv.restoreState()


def _marks(canv: Canvas) -> None:
    canv.saveState()
    canv.setStrokeColor(RULE)
    canv.setLineWidth(0.4)
    for from_top in FOLD_MARKS:
        canv.line(4 * mm, PAGE_HEIGHT - from_top, 8 * mm, PAGE_HEIGHT - from_top)
    canv.line(4 * mm, PUNCH_MARK, 10 * mm, PUNCH_MARK)
    canv.restoreState()


def _later_header(canv: Canvas, data: LetterData) -> None:
    t = templates.common(data.language, data.text_overrides)
    canv.saveState()
    y = PAGE_HEIGHT - 16 * mm
    canv.setFillColor(ACCENT)
    _draw_line(canv, MARGIN_LEFT, y, data.creditor.name, FONT_BOLD, 9, BODY_WIDTH / 2)
    canv.setFillColor(MUTED)
    right = (
        f"{data.recipient.name.strip()} · {t['reference']} {data.reference} · "
        f"{format_long_date(data.letter_date, data.language)}"
    )
    size = _fit_font_size(right, FONT, 7.5, BODY_WIDTH / 2)
    canv.setFont(FONT, size)
    canv.drawRightString(PAGE_WIDTH - MARGIN_RIGHT, y, right)
    canv.setStrokeColor(RULE)
    canv.setLineWidth(0.5)
    canv.line(MARGIN_LEFT, y - 3 * mm, PAGE_WIDTH - MARGIN_RIGHT, y - 3 * mm)
    canv.restoreState()


def _on_first_page(data: LetterData, canv: Canvas, _doc: BaseDocTemplate) -> None:
    _letterhead(canv, data)
    _address_window(canv, data)
    _info_block(canv, data)
    _marks(canv)
    _footer(canv, data)


def _on_later_page(data: LetterData, canv: Canvas, _doc: BaseDocTemplate) -> None:
    _later_header(canv, data)
    _footer(canv, data)


# --------------------------------------------------------------------------- building blocks


#: Plain-string cells would otherwise be drawn in Helvetica (and embed a second font).
_TABLE_BASE: Final[list[tuple[Any, ...]]] = [("FONTNAME", (0, 0), (-1, -1), FONT)]


def _p(text: str, style: ParagraphStyle, bullet: str | None = None) -> Paragraph:
    return Paragraph(text, style, bulletText=bullet)


def _section(title: str, *content: Flowable) -> KeepTogether:
    """A heading that never stays behind alone at the bottom of a page."""
    return KeepTogether([_p(escape(title), _styles().heading), *content])


def _amount_table(rows: Sequence[tuple[str, str | None]], total: tuple[str, str] | None) -> Table:
    """Label/amount rows, amounts right-aligned; ``None`` amount = a note spanning the row.

    Labels are markup already (escaped by the caller); amounts are plain text.
    """
    s = _styles()
    data: list[list[Flowable | str]] = []
    spans: list[int] = []
    for label, amount in rows:
        if amount is None:
            spans.append(len(data))
            data.append([_p(label, s.note), ""])
        else:
            data.append([_p(label, s.cell), _p(escape(amount), s.cell_right)])
    style: list[tuple[Any, ...]] = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("RIGHTPADDING", (0, 0), (-1, -1), 0),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    for row in spans:
        style.append(("SPAN", (0, row), (-1, row)))
    if total is not None:
        data.append([_p(escape(total[0]), s.cell_bold), _p(escape(total[1]), s.cell_right_bold)])
        if rows:
            style += [
                ("LINEABOVE", (0, -1), (-1, -1), 0.8, ACCENT),
                ("TOPPADDING", (0, -1), (-1, -1), 4),
            ]
    table = Table(data, colWidths=[95 * mm, 30 * mm], hAlign="LEFT")
    table.setStyle(TableStyle([*_TABLE_BASE, *style]))
    return table


#: Side of the printed EPC QR code. EPC069-12 asks for at least 2 x 2 cm; banking apps
#: read 28 mm comfortably from paper.
QR_SIZE: Final = 28 * mm


class QrCode(Flowable):  # type: ignore[misc]  # reportlab ships no types
    """The EPC QR code (error correction M, as EPC069-12 requires, with its quiet zone),
    drawn as filled rectangles straight on the page: reportlab's own QR encoder, but
    without a Drawing's default font state (the letter embeds only DejaVu Sans)."""

    def __init__(self, payload: str, size: float = QR_SIZE) -> None:
        super().__init__()
        self.payload = payload
        self.size = size

    def wrap(self, _available_width: float, _available_height: float) -> tuple[float, float]:
        return self.size, self.size

    def draw(self) -> None:
        widget = QrCodeWidget(self.payload, barLevel="M", barBorder=4)
        left, bottom, right, top = widget.getBounds()
        sx, sy = self.size / (right - left), self.size / (top - bottom)
        canv = self.canv
        canv.saveState()
        canv.setFillColor(colors.white)
        canv.rect(0, 0, self.size, self.size, stroke=0, fill=1)
        for shape in widget.draw().contents:
            fill = getattr(shape, "fillColor", None)
            if fill is None:
                continue
            canv.setFillColor(fill)
            canv.rect(
                (shape.x - left) * sx,
                (shape.y - bottom) * sy,
                shape.width * sx,
                shape.height * sy,
                stroke=0,
                fill=1,
            )
        canv.restoreState()


def _pay_box(data: ArrangementLetterData | FourteenDayLetterData) -> list[Flowable]:
    s = _styles()
    t = templates.texts(data.kind, data.language, data.text_overrides)
    rows: list[list[Flowable]] = [
        [_p(escape(t["pay_iban"]), s.cell), _p(escape(data.creditor.iban_display), s.cell_bold)],
        [_p(escape(t["pay_to"]), s.cell), _p(escape(data.creditor.name), s.cell)],
        [
            _p(escape(t["pay_reference"]), s.cell),
            _p(escape(data.payment_reference), s.cell_bold),
        ],
    ]
    if data.creditor.bic:
        rows.append([_p(escape(t["pay_bic"]), s.note), _p(escape(data.creditor.bic), s.note)])
    qr_column = QR_SIZE + 6 * mm
    box = Table(rows, colWidths=[52 * mm, BODY_WIDTH - 52 * mm - qr_column], hAlign="LEFT")
    box.setStyle(
        TableStyle(
            [
                *_TABLE_BASE,
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ("RIGHTPADDING", (0, 0), (-1, -1), 6),
                ("TOPPADDING", (0, 0), (-1, -1), 2.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    amount = money(payment_amount_cents(data), data.language)
    outer = Table(
        [[box, QrCode(epc_payload(data))]],
        colWidths=[BODY_WIDTH - qr_column, qr_column],
        hAlign="LEFT",
    )
    outer.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), FONT),
                ("BACKGROUND", (0, 0), (0, -1), ACCENT_TINT),
                ("BACKGROUND", (1, 0), (1, -1), colors.white),  # the code's quiet zone
                ("BOX", (1, 0), (1, -1), 0.5, ACCENT_TINT),
                ("LINEBEFORE", (0, 0), (0, -1), 2, ACCENT),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LEFTPADDING", (0, 0), (0, -1), 0),
                ("LEFTPADDING", (1, 0), (1, -1), 3 * mm),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3 * mm),
                ("TOPPADDING", (0, 0), (-1, -1), 3 * mm),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3 * mm),
            ]
        )
    )
    notes = escape(t["pay_qr"]) + " " + fill(t["pay_qr_amount"], amount=amount)
    link = letter_payment_link(data)
    content: list[Flowable] = [outer, Spacer(1, 4), _p(notes, s.body)]
    if link:
        content += [Spacer(1, 2), _p(fill(t["pay_link"], link=link), s.body)]
    content += [Spacer(1, 4), _p(escape(t["pay_note"]), s.body)]
    # The notes belong to the box: never left alone at the top of the next page.
    return [_section(t["pay_title"], *content)]


def _early_signal(data: FourteenDayLetterData) -> Flowable:
    """The offer to pass the details to the municipality, and the right to object
    (Besluit gemeentelijke schuldhulpverlening art. 2 d)."""
    s = _styles()
    t = templates.texts("fourteen_day", data.language)
    return _section(
        t["signal_title"],
        _p(escape(t["signal_body"]), s.body),
        Spacer(1, 3),
        _p(fill(t["signal_object"], days=data.objection_days), s.body),
        Spacer(1, 3),
        _p(escape(t["signal_law"]), s.note),
    )


def _questions(data: LetterData) -> Flowable:
    s = _styles()
    t = templates.common(data.language, data.text_overrides)
    hours = data.creditor.hours(data.language)
    first = (
        fill(
            t["questions_hours"], phone=data.creditor.phone, hours=hours, email=data.creditor.email
        )
        if hours
        else fill(t["questions_no_hours"], phone=data.creditor.phone, email=data.creditor.email)
    )
    body = first + " " + fill(t["questions_reference"], reference=data.reference)
    return _section(t["questions_title"], _p(body, s.body))


def _help_contact(help_org: DebtHelp, language: Language) -> str:
    t = templates.COMMON[language]
    parts = []
    if help_org.phone.strip():
        parts.append(fill(t["help_call"], name=help_org.name, phone=help_org.phone))
    if help_org.website.strip():
        visit = fill(t["help_visit"], website=help_org.website)
        parts.append(visit if parts else visit[:1].upper() + visit[1:])
    if not parts:
        return ""
    return t["help_or"].join(parts) + "."


def _debt_help(data: LetterData) -> Flowable:
    s = _styles()
    t = templates.common(data.language, data.text_overrides)
    contact = _help_contact(data.debt_help, data.language)
    body = " ".join(part for part in (t["help_body"], contact, t["help_municipality"]) if part)
    return _section(t["help_title"], _p(body, s.body))


def _greeting(data: LetterData) -> list[Flowable]:
    s = _styles()
    t = templates.common(data.language, data.text_overrides)
    return [
        KeepTogether(
            [
                Spacer(1, 10),
                _p(escape(t["closing"]), s.body),
                Spacer(1, 16),
                _p(escape(data.agent_name), s.body),
                _p(escape(data.creditor.name), s.small),
            ]
        )
    ]


def _opening(data: LetterData, subject: str) -> list[Flowable]:
    s = _styles()
    t = templates.common(data.language, data.text_overrides)
    return [
        _p(escape(subject), s.subject),
        _p(fill(t["salutation"], name=data.recipient.name.strip()), s.body),
        Spacer(1, 6),
    ]


# --------------------------------------------------------------------------- letters


def _waived_note(template_plain: str, template_amount: str, cents: int, lang: Language) -> str:
    if cents > 0:
        return fill(template_amount, amount=money(cents, lang))
    return escape(template_plain)


def _arrangement_story(data: ArrangementLetterData) -> list[Flowable]:
    s = _styles()
    lang = data.language
    t = templates.texts("arrangement", lang, data.text_overrides)
    story = _opening(data, t["subject"])
    story.append(_p(escape(t["intro"]), s.body))

    rows: list[tuple[str, str | None]] = [
        (escape(t["principal"]), money(data.principal_cents, lang))
    ]
    if data.costs_waived:
        rows.append(
            (
                _waived_note(t["costs_waived"], t["costs_waived_amount"], data.costs_cents, lang),
                None,
            )
        )
    elif data.costs_cents:
        rows.append((escape(t["costs"]), money(data.costs_cents, lang)))
    if data.interest_waived:
        rows.append(
            (
                _waived_note(
                    t["interest_waived"], t["interest_waived_amount"], data.interest_cents, lang
                ),
                None,
            )
        )
    elif data.interest_cents:
        rows.append((escape(t["interest"]), money(data.interest_cents, lang)))
    story.append(
        _section(
            t["amount_title"],
            _p(fill(t["amount_intro"], total=money(data.total_cents, lang)), s.body),
            Spacer(1, 3),
            _amount_table(rows, (t["total"], money(data.total_cents, lang))),
        )
    )
    if data.interest_provisional_from is not None and data.charged_interest_cents:
        story.append(Spacer(1, 4))
        story.append(
            _p(
                fill(
                    t["interest_provisional"],
                    date=format_long_date(data.interest_provisional_from, lang),
                ),
                s.body,
            )
        )

    count = len(data.schedule)
    intro = (
        fill(t["schedule_intro"], count=count)
        if count > 1
        else fill(t["schedule_intro_one"], due=format_long_date(data.schedule[0].due, lang))
    )
    header = [
        _p(escape(t["col_number"]), s.cell_head),
        _p(escape(t["col_due"]), s.cell_head),
        _p(escape(t["col_amount"]), s.cell_head_right),
    ]
    table_rows: list[list[Flowable]] = [header]
    for line in data.schedule:
        table_rows.append(
            [
                _p(str(line.number), s.cell),
                _p(escape(format_long_date(line.due, lang)), s.cell),
                _p(escape(money(line.amount_cents, lang)), s.cell_right),
            ]
        )
    table_rows.append(
        [
            _p(escape(t["total"]), s.cell_bold),
            _p("", s.cell),
            _p(escape(money(data.total_cents, lang)), s.cell_right_bold),
        ]
    )
    schedule = Table(table_rows, colWidths=[25 * mm, 70 * mm, 30 * mm], repeatRows=1, hAlign="LEFT")
    schedule.setStyle(
        TableStyle(
            [
                *_TABLE_BASE,
                ("BACKGROUND", (0, 0), (-1, 0), ACCENT_TINT),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, ACCENT),
                ("ROWBACKGROUNDS", (0, 1), (-1, -2), [colors.white, ZEBRA]),
                ("LINEABOVE", (0, -1), (-1, -1), 0.8, ACCENT),
                ("LEFTPADDING", (0, 0), (-1, -1), 4),
                ("RIGHTPADDING", (0, 0), (-1, -1), 4),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
                ("TOPPADDING", (0, -1), (-1, -1), 4),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    story.append(_section(t["schedule_title"], _p(intro, s.body), Spacer(1, 4)))
    story.append(schedule)
    story.extend(_pay_box(data))
    story.extend(_arrangement_rules(data, t))
    story.append(_section(t["missed_title"], _p(escape(t["missed_body"]), s.body)))
    story.append(_questions(data))
    story.append(_debt_help(data))
    story.append(Spacer(1, 6))
    story.append(_p(escape(t["thanks"]), s.body))
    story.extend(_greeting(data))
    return story


def _count_days(count: int, t: templates.Texts) -> str:
    return t["day" if count == 1 else "days"].format(count=count)


def _arrangement_rules(data: ArrangementLetterData, t: templates.Texts) -> list[Flowable]:
    """When an instalment counts as missed, and what happens when the plan breaks."""
    s = _styles()
    missed = (
        fill(t["rule_missed"], days=_count_days(data.missed_after_days, t))
        if data.missed_after_days > 0
        else escape(t["rule_missed_zero"])
    )
    count = data.missed_instalments_before_broken
    broken = fill(t["broken_rule"], count=count) if count > 1 else escape(t["broken_rule_one"])
    consequences = [
        _p(escape(t[key]), s.bullet, bullet="•")
        for key in ("broken_ends", "broken_interest", "broken_contact")
    ]
    return [
        _section(t["rule_title"], _p(missed, s.body)),
        _section(
            t["broken_title"],
            _p(broken, s.body),
            Spacer(1, 3),
            _p(escape(t["broken_then"]), s.body),
            *consequences,
        ),
    ]


def _claims_table(data: FourteenDayLetterData, t: templates.Texts) -> Table:
    """The claims a 14-day letter names: reference, what it is for, due date, amount."""
    s = _styles()
    lang = data.language
    rows: list[list[Flowable]] = [
        [
            _p(escape(t["col_reference"]), s.cell_head),
            _p(escape(t["col_description"]), s.cell_head),
            _p(escape(t["col_due"]), s.cell_head),
            _p(escape(t["col_amount"]), s.cell_head_right),
        ]
    ]
    for claim in data.claims:
        rows.append(
            [
                _p(escape(claim.reference), s.cell),
                _p(escape(claim.description.strip() or "–"), s.cell),
                _p(escape(format_long_date(claim.due, lang)), s.cell),
                _p(escape(money(claim.amount_cents, lang)), s.cell_right),
            ]
        )
    rows.append(
        [
            _p(escape(t["claims_total"]), s.cell_bold),
            _p("", s.cell),
            _p("", s.cell),
            _p(escape(money(data.outstanding_cents, lang)), s.cell_right_bold),
        ]
    )
    widths = [38 * mm, BODY_WIDTH - 38 * mm - 36 * mm - 28 * mm, 36 * mm, 28 * mm]
    table = Table(rows, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                *_TABLE_BASE,
                ("BACKGROUND", (0, 0), (-1, 0), ACCENT_TINT),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, ACCENT),
                ("ROWBACKGROUNDS", (0, 1), (-1, -2), [colors.white, ZEBRA]),
                ("LINEABOVE", (0, -1), (-1, -1), 0.8, ACCENT),
                ("LEFTPADDING", (0, 0), (-1, -1), 4),
                ("RIGHTPADDING", (0, 0), (-1, -1), 4),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
                ("TOPPADDING", (0, -1), (-1, -1), 4),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _fourteen_day_story(data: FourteenDayLetterData) -> list[Flowable]:
    s = _styles()
    lang = data.language
    t = templates.texts("fourteen_day", lang, data.text_overrides)
    story = _opening(data, t["subject"])
    intro = (
        fill(t["intro_claim"], claim=data.claim_description.strip())
        if data.claim_description.strip()
        else escape(t["intro"])
    )
    story.append(_p(intro + " " + escape(t["intro_more"]), s.body))
    outstanding = money(data.outstanding_cents, lang)
    story.append(
        _section(
            t["claims_title"],
            _p(escape(t["claims_intro"]), s.body),
            Spacer(1, 4),
            _claims_table(data, t),
        )
    )
    if data.later_claims:
        story += [Spacer(1, 4), _p(escape(t["later_claims"]), s.body)]
    story.append(
        _section(
            t["amount_title"],
            _p(
                fill(
                    t["term_body"], outstanding=outstanding, term=templates.FOURTEEN_DAY_TERM[lang]
                ),
                s.body,
            ),
        )
    )
    costs_total = data.costs_cents + data.vat_cents
    rows: list[tuple[str, str | None]] = [
        (escape(t["outstanding"]), outstanding),
        (escape(t["costs"]), money(data.costs_cents, lang)),
    ]
    if data.vat_cents:
        rows.append((escape(t["vat"]), money(data.vat_cents, lang)))
    cost_block: list[Flowable] = [
        _p(
            fill(
                t["costs_body"],
                costs=money(costs_total, lang),
                total=money(data.total_if_unpaid_cents, lang),
            ),
            s.body,
        ),
        Spacer(1, 3),
        _amount_table(rows, (t["total_if_unpaid"], money(data.total_if_unpaid_cents, lang))),
    ]
    if data.vat_statement:
        cost_block += [Spacer(1, 4), _p(escape(t["vat_statement"]), s.body)]
    cost_block += [Spacer(1, 4), _p(escape(t["partial"]), s.body)]
    story.append(_section(t["costs_title"], *cost_block))
    story.extend(_pay_box(data))
    story.append(_section(t["cant_pay_title"], _p(escape(t["cant_pay_body"]), s.body)))
    story.append(_questions(data))
    story.append(_debt_help(data))
    if data.early_signal_offer:
        story.append(_early_signal(data))
    story.append(Spacer(1, 6))
    story.append(_p(escape(t["already_paid"]), s.body))
    story.extend(_greeting(data))
    return story


def _pause_story(data: PauseLetterData) -> list[Flowable]:
    s = _styles()
    lang = data.language
    t = templates.texts("pause", lang, data.text_overrides)
    until = format_long_date(data.paused_until, lang)
    story = _opening(data, t["subject"])
    story.append(_p(escape(t["intro"]), s.body))
    story.append(_section(t["what_title"], _p(fill(t["what_body"], until=until), s.body)))
    story.append(
        _section(t["reason_title"], _p(fill(t["reason_body"], reason=data.reason.strip()), s.body))
    )
    story.append(_section(t["after_title"], _p(fill(t["after_body"], until=until), s.body)))
    story.append(Spacer(1, 4))
    story.append(_p(escape(t["note"]), s.body))
    story.append(_questions(data))
    story.append(_debt_help(data))
    story.extend(_greeting(data))
    return story


def _debt_help_story(data: DebtHelpReferralData) -> list[Flowable]:
    s = _styles()
    lang = data.language
    t = templates.texts("debt_help", lang, data.text_overrides)
    org = data.help_organisation
    story = _opening(data, t["subject"])
    story.append(_p(escape(t["intro"]), s.body))
    rows: list[list[Flowable]] = [[_p(escape(org.name), s.cell_bold), _p("", s.cell)]]
    if org.address_lines:
        rows.append(
            [
                _p(escape(t["address"]), s.cell),
                _p("<br/>".join(escape(line) for line in org.address_lines), s.cell),
            ]
        )
    for key, value in (("phone", org.phone), ("website", org.website), ("email", org.email)):
        if value.strip():
            rows.append([_p(escape(t[key]), s.cell), _p(escape(value), s.cell_bold)])
    box = Table(rows, colWidths=[35 * mm, BODY_WIDTH - 35 * mm], hAlign="LEFT")
    box.setStyle(
        TableStyle(
            [
                *_TABLE_BASE,
                ("SPAN", (0, 0), (-1, 0)),
                ("BACKGROUND", (0, 0), (-1, -1), ACCENT_TINT),
                ("LINEBEFORE", (0, 0), (0, -1), 2, ACCENT),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ("TOPPADDING", (0, 0), (-1, -1), 2.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
                ("TOPPADDING", (0, 0), (-1, 0), 6),
                ("BOTTOMPADDING", (0, 0), (-1, 0), 4),
                ("BOTTOMPADDING", (0, -1), (-1, -1), 6),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story.append(_section(t["where_title"], box))
    story.append(_section(t["what_title"], _p(escape(t["what_body"]), s.body)))
    if data.outstanding_cents:
        story.append(Spacer(1, 4))
        story.append(
            _p(
                fill(
                    t["outstanding"],
                    amount=money(data.outstanding_cents, lang),
                    reference=data.reference,
                ),
                s.body,
            )
        )
    story.append(_section(t["us_title"], _p(escape(t["us_body"]), s.body)))
    story.append(_questions(data))
    story.extend(_greeting(data))
    return story


def _story(data: AnyLetter) -> list[Flowable]:
    if isinstance(data, ArrangementLetterData):
        return _arrangement_story(data)
    if isinstance(data, FourteenDayLetterData):
        return _fourteen_day_story(data)
    if isinstance(data, PauseLetterData):
        return _pause_story(data)
    return _debt_help_story(data)


def subject(data: AnyLetter) -> str:
    """The letter's subject line in the recipient's language."""
    return templates.texts(data.kind, data.language, data.text_overrides)["subject"]


# --------------------------------------------------------------------------- public API


def render_pdf(data: AnyLetter) -> bytes:
    """Validate ``data`` and return the letter as PDF bytes (same input, same bytes)."""
    validate(data)
    _styles()
    buffer = io.BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN_LEFT,
        rightMargin=MARGIN_RIGHT,
        topMargin=BODY_TOP_LATER,
        bottomMargin=BODY_BOTTOM,
        title=subject(data),
        author=data.creditor.name,
        subject=f"{data.kind} {data.reference}",
        creator=f"Agent Desk letters/{data.kind} template {templates.template_version(data.kind, data.text_overrides)}",
        keywords=[data.kind, templates.template_version(data.kind, data.text_overrides)],
        lang=data.language,
        invariant=1,
        initialFontName=FONT,
    )
    first_frame = Frame(
        MARGIN_LEFT,
        BODY_BOTTOM,
        BODY_WIDTH,
        PAGE_HEIGHT - BODY_TOP_FIRST - BODY_BOTTOM,
        id="first",
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )
    later_frame = Frame(
        MARGIN_LEFT,
        BODY_BOTTOM,
        BODY_WIDTH,
        PAGE_HEIGHT - BODY_TOP_LATER - BODY_BOTTOM,
        id="later",
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )
    doc.addPageTemplates(
        [
            PageTemplate(
                id="First",
                frames=[first_frame],
                onPage=partial(_on_first_page, data),
                autoNextPageTemplate="Later",
            ),
            PageTemplate(id="Later", frames=[later_frame], onPage=partial(_on_later_page, data)),
        ]
    )
    canvasmaker = partial(
        _LetterCanvas,
        page_label=templates.common(data.language, data.text_overrides)["page"],
        letter_date=data.letter_date,
    )
    doc.build(_story(data), canvasmaker=canvasmaker)
    return buffer.getvalue()


@dataclass(frozen=True)
class WrittenLetter:
    """What to record about a letter that was written."""

    path: Path
    sha256: str
    kind: str
    template_version: str
    reference: str
    size: int


def write_pdf(data: AnyLetter, path: str | os.PathLike[str]) -> WrittenLetter:
    """Render and write atomically: a temporary file in the same folder, then rename.

    Validation runs first, so bad input never creates a file; an error while writing
    removes the temporary file, so no half-written letter is ever left behind.
    """
    pdf = render_pdf(data)
    target = Path(path)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pdf)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    return WrittenLetter(
        path=target,
        sha256=sha256_hex(pdf),
        kind=data.kind,
        template_version=templates.template_version(data.kind, data.text_overrides),
        reference=data.reference,
        size=len(pdf),
    )


# --------------------------------------------------------------------------- batch

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def default_filename(data: AnyLetter) -> str:
    """``arrangement-REF-2027-01-31.pdf``, safe on every file system."""
    reference = _UNSAFE.sub("_", data.reference.strip()).strip("._") or "letter"
    return f"{data.kind}-{reference}-{data.letter_date.isoformat()}.pdf"


@dataclass(frozen=True)
class BatchItem:
    data: AnyLetter
    filename: str | None = None

    @property
    def name(self) -> str:
        return self.filename or default_filename(self.data)


@dataclass(frozen=True)
class BatchFailure:
    name: str
    reference: str
    reason: str


@dataclass
class BatchSummary:
    written: list[WrittenLetter] = field(default_factory=list)
    failed: list[BatchFailure] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed


ProgressCallback = Callable[[int, int], None]

# (name, reference, written or None, reason or None)
_Outcome = tuple[str, str, WrittenLetter | None, str | None]


def _render_one(name: str, data: AnyLetter, out_dir: str) -> _Outcome:
    """Worker: never raises, so one bad letter cannot stop the batch."""
    from agent_desk.errors import AgentDeskError

    try:
        written = write_pdf(data, Path(out_dir) / name)
        return (name, data.reference, written, None)
    except AgentDeskError as error:
        return (name, data.reference, None, str(error))
    except Exception as error:
        return (
            name,
            data.reference,
            None,
            f"Could not write this letter ({type(error).__name__}: {error}).",
        )


#: At most this many letters per task sent to a worker process.
BATCH_CHUNK = 16


def _warm_worker() -> None:
    """A batch worker's start: fonts registered and styles built before the first letter."""
    register_fonts()
    _styles()


def _render_many(items: list[tuple[str, AnyLetter]], out_dir: str) -> list[_Outcome]:
    return [_render_one(name, data, out_dir) for name, data in items]


def render_batch(
    items: Iterable[AnyLetter | BatchItem],
    out_dir: str | os.PathLike[str],
    workers: int = 2,
    progress: ProgressCallback | None = None,
) -> BatchSummary:
    """Write many letters into ``out_dir`` using ``workers`` processes.

    Returns what was written (with SHA-256) and what failed, with a plain reason.
    ``progress(done, total)`` is called in this process after each letter.
    """
    started = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    batch = [item if isinstance(item, BatchItem) else BatchItem(item) for item in items]
    summary = BatchSummary()
    total = len(batch)
    done = 0
    todo: list[BatchItem] = []
    seen: set[str] = set()
    for item in batch:
        if item.name in seen:
            summary.failed.append(
                BatchFailure(
                    item.name,
                    item.data.reference,
                    "Another letter in this batch has the same file name.",
                )
            )
            done += 1
            if progress:
                progress(done, total)
            continue
        seen.add(item.name)
        todo.append(item)

    def collect(outcome: _Outcome) -> None:
        nonlocal done
        name, reference, written, reason = outcome
        if written is not None:
            summary.written.append(written)
        else:
            summary.failed.append(BatchFailure(name, reference, reason or "Unknown error."))
        done += 1
        if progress:
            progress(done, total)

    if workers <= 1 or len(todo) <= 1:
        for item in todo:
            collect(_render_one(item.name, item.data, str(out)))
    else:
        # "spawn" is safe from a multi-threaded (Qt) parent and works on every OS. Letters
        # go to the workers a few at a time (one task per letter cost more in messages
        # than in rendering), and each worker warms its fonts and styles once at start.
        context = multiprocessing.get_context("spawn")
        size = max(1, min(BATCH_CHUNK, len(todo) // (workers * 4)))
        chunks = [todo[i : i + size] for i in range(0, len(todo), size)]
        with ProcessPoolExecutor(
            max_workers=workers, mp_context=context, initializer=_warm_worker
        ) as pool:
            futures = {
                pool.submit(
                    _render_many, [(item.name, item.data) for item in chunk], str(out)
                ): chunk
                for chunk in chunks
            }
            for future in as_completed(futures):
                try:
                    outcomes = future.result()
                except Exception as error:
                    outcomes = [
                        (item.name, item.data.reference, None, f"The worker stopped: {error}.")
                        for item in futures[future]
                    ]
                for outcome in outcomes:
                    collect(outcome)
    summary.written.sort(key=lambda w: w.path.name)
    summary.seconds = time.perf_counter() - started
    return summary
