"""The building blocks the letters share: paragraphs and sections, the amount table,
the pay box with its EPC QR code, questions, debt help, the opening and the greeting.
Every value from data is escaped before it goes into paragraph markup."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Final
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Paragraph, Spacer, Table, TableStyle

from agent_desk.letters import templates
from agent_desk.letters.data import (
    ArrangementLetterData,
    DebtHelp,
    FourteenDayLetterData,
    Language,
    LetterData,
    epc_payload,
    letter_payment_link,
    payment_amount_cents,
)
from agent_desk.letters.style import (
    ACCENT,
    ACCENT_TINT,
    BODY_WIDTH,
    FONT,
    TABLE_BASE,
    ZEBRA,
    fill,
    money,
    styles,
)


def para(text: str, style: ParagraphStyle, bullet: str | None = None) -> Paragraph:
    return Paragraph(text, style, bulletText=bullet)


def section(title: str, *content: Flowable) -> KeepTogether:
    """A heading that never stays behind alone at the bottom of a page."""
    return KeepTogether([para(escape(title), styles().heading), *content])


def listing_table(
    header: Sequence[str],
    rows: Iterable[Sequence[str]],
    total: Sequence[str],
    widths: Sequence[float],
    *,
    right: int = 1,
    valign: str = "TOP",
) -> Table:
    """A listing with a tinted header, zebra rows and a total line: a schedule of
    instalments, the claims of a 14-day letter.

    Every cell is plain text (escaped here); the last ``right`` columns are amounts,
    right-aligned; the total line's label and amounts are bold. The header repeats on
    each page the listing runs onto.
    """
    s = styles()
    first_right = len(header) - right

    def line(cells: Sequence[str], plain: ParagraphStyle, amount: ParagraphStyle) -> list[Flowable]:
        return [
            para(escape(text), amount if i >= first_right else plain)
            for i, text in enumerate(cells)
        ]

    table_rows = [line(header, s.cell_head, s.cell_head_right)]
    table_rows += [line(cells, s.cell, s.cell_right) for cells in rows]
    table_rows.append(
        [
            para(
                escape(text),
                s.cell_right_bold if i >= first_right else s.cell_bold if text else s.cell,
            )
            for i, text in enumerate(total)
        ]
    )
    table = Table(table_rows, colWidths=list(widths), repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                *TABLE_BASE,
                ("BACKGROUND", (0, 0), (-1, 0), ACCENT_TINT),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, ACCENT),
                ("ROWBACKGROUNDS", (0, 1), (-1, -2), [colors.white, ZEBRA]),
                ("LINEABOVE", (0, -1), (-1, -1), 0.8, ACCENT),
                ("LEFTPADDING", (0, 0), (-1, -1), 4),
                ("RIGHTPADDING", (0, 0), (-1, -1), 4),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
                ("TOPPADDING", (0, -1), (-1, -1), 4),
                ("VALIGN", (0, 0), (-1, -1), valign),
            ]
        )
    )
    return table


def amount_table(rows: Sequence[tuple[str, str | None]], total: tuple[str, str] | None) -> Table:
    """Label/amount rows, amounts right-aligned; ``None`` amount = a note spanning the row.

    Labels are markup already (escaped by the caller); amounts are plain text.
    """
    s = styles()
    data: list[list[Flowable | str]] = []
    spans: list[int] = []
    for label, amount in rows:
        if amount is None:
            spans.append(len(data))
            data.append([para(label, s.note), ""])
        else:
            data.append([para(label, s.cell), para(escape(amount), s.cell_right)])
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
        data.append(
            [para(escape(total[0]), s.cell_bold), para(escape(total[1]), s.cell_right_bold)]
        )
        if rows:
            style += [
                ("LINEABOVE", (0, -1), (-1, -1), 0.8, ACCENT),
                ("TOPPADDING", (0, -1), (-1, -1), 4),
            ]
    table = Table(data, colWidths=[95 * mm, 30 * mm], hAlign="LEFT")
    table.setStyle(TableStyle([*TABLE_BASE, *style]))
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


def pay_box(data: ArrangementLetterData | FourteenDayLetterData) -> list[Flowable]:
    s = styles()
    t = templates.texts(data.kind, data.language, data.text_overrides)
    rows: list[list[Flowable]] = [
        [
            para(escape(t["pay_iban"]), s.cell),
            para(escape(data.creditor.iban_display), s.cell_bold),
        ],
        [para(escape(t["pay_to"]), s.cell), para(escape(data.creditor.name), s.cell)],
        [
            para(escape(t["pay_reference"]), s.cell),
            para(escape(data.payment_reference), s.cell_bold),
        ],
    ]
    if data.creditor.bic:
        rows.append([para(escape(t["pay_bic"]), s.note), para(escape(data.creditor.bic), s.note)])
    qr_column = QR_SIZE + 6 * mm
    box = Table(rows, colWidths=[52 * mm, BODY_WIDTH - 52 * mm - qr_column], hAlign="LEFT")
    box.setStyle(
        TableStyle(
            [
                *TABLE_BASE,
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
    content: list[Flowable] = [outer, Spacer(1, 4), para(notes, s.body)]
    if link:
        content += [Spacer(1, 2), para(fill(t["pay_link"], link=link), s.body)]
    content += [Spacer(1, 4), para(escape(t["pay_note"]), s.body)]
    # The notes belong to the box: never left alone at the top of the next page.
    return [section(t["pay_title"], *content)]


def questions(data: LetterData) -> Flowable:
    s = styles()
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
    return section(t["questions_title"], para(body, s.body))


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


def debt_help_section(data: LetterData) -> Flowable:
    s = styles()
    t = templates.common(data.language, data.text_overrides)
    contact = _help_contact(data.debt_help, data.language)
    body = " ".join(part for part in (t["help_body"], contact, t["help_municipality"]) if part)
    return section(t["help_title"], para(body, s.body))


def greeting(data: LetterData) -> list[Flowable]:
    s = styles()
    t = templates.common(data.language, data.text_overrides)
    return [
        KeepTogether(
            [
                Spacer(1, 10),
                para(escape(t["closing"]), s.body),
                Spacer(1, 16),
                para(escape(data.agent_name), s.body),
                para(escape(data.creditor.name), s.small),
            ]
        )
    ]


def opening(data: LetterData, subject: str) -> list[Flowable]:
    s = styles()
    t = templates.common(data.language, data.text_overrides)
    return [
        para(escape(subject), s.subject),
        para(fill(t["salutation"], name=data.recipient.name.strip()), s.body),
        Spacer(1, 6),
    ]
