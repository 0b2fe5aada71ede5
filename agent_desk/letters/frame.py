"""The page frame every letter shares: letterhead, the address in the envelope
window, the information block, fold marks, the slim header of later pages, the
footer, and the canvas that numbers the pages ("pagina 1 van 3") at the end."""

from __future__ import annotations

from datetime import date
from typing import Any

from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate

from agent_desk.letters import templates
from agent_desk.letters.data import LetterData
from agent_desk.letters.style import (
    ACCENT,
    ADDRESS_INDENT,
    ADDRESS_RETURN_ZONE,
    ADDRESS_WINDOW,
    BODY_WIDTH,
    FOLD_MARKS,
    FONT,
    FONT_BOLD,
    INFO_BLOCK,
    INK,
    MARGIN_LEFT,
    MARGIN_RIGHT,
    MUTED,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    PUNCH_MARK,
    RULE,
    format_long_date,
)


class LetterCanvas(Canvas):  # type: ignore[misc]
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


def on_first_page(data: LetterData, canv: Canvas, _doc: BaseDocTemplate) -> None:
    _letterhead(canv, data)
    _address_window(canv, data)
    _info_block(canv, data)
    _marks(canv)
    _footer(canv, data)


def on_later_page(data: LetterData, canv: Canvas, _doc: BaseDocTemplate) -> None:
    _later_header(canv, data)
    _footer(canv, data)
