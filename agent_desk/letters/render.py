"""Draw a letter as an A4 PDF with reportlab platypus: the page frame
(``letters.frame``) around the body of its kind (``letters.kinds``).

* Page one follows DIN 5008 form B (the layout Dutch window envelopes are made for):
  letterhead at the top, the address in the envelope window, an information block
  (date, reference, contact) beside it, the text below the window. Further pages get
  a slim header. Every page has a footer with the creditor's details and
  "pagina 1 van 3".
* Every value that comes from data is escaped before it goes into paragraph markup.
* The same input gives the same bytes: reportlab's invariant mode, and the PDF
  creation date is the letter date.

Writing the file is ``letters.files``; many letters at once, ``letters.batch``.
"""

from __future__ import annotations

import io
from functools import partial

from reportlab.lib.pagesizes import A4
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate

from agent_desk.letters import templates
from agent_desk.letters.checks import validate
from agent_desk.letters.data import (
    AnyLetter,
    ArrangementLetterData,
    FourteenDayLetterData,
    PauseLetterData,
)
from agent_desk.letters.frame import LetterCanvas, on_first_page, on_later_page
from agent_desk.letters.kinds import arrangement, debt_help, fourteen_day, pause
from agent_desk.letters.style import (
    BODY_BOTTOM,
    BODY_TOP_FIRST,
    BODY_TOP_LATER,
    BODY_WIDTH,
    FONT,
    MARGIN_LEFT,
    MARGIN_RIGHT,
    PAGE_HEIGHT,
    styles,
)


def story(data: AnyLetter) -> list[Flowable]:
    """The letter's body: the flowables of its kind."""
    if isinstance(data, ArrangementLetterData):
        return arrangement.letter_story(data)
    if isinstance(data, FourteenDayLetterData):
        return fourteen_day.letter_story(data)
    if isinstance(data, PauseLetterData):
        return pause.letter_story(data)
    return debt_help.letter_story(data)


def subject(data: AnyLetter) -> str:
    """The letter's subject line in the recipient's language."""
    return templates.texts(data.kind, data.language, data.text_overrides)["subject"]


def render_pdf(data: AnyLetter) -> bytes:
    """Validate ``data`` and return the letter as PDF bytes (same input, same bytes)."""
    validate(data)
    styles()
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
                onPage=partial(on_first_page, data),
                autoNextPageTemplate="Later",
            ),
            PageTemplate(id="Later", frames=[later_frame], onPage=partial(on_later_page, data)),
        ]
    )
    canvasmaker = partial(
        LetterCanvas,
        page_label=templates.common(data.language, data.text_overrides)["page"],
        letter_date=data.letter_date,
    )
    doc.build(story(data), canvasmaker=canvasmaker)
    return buffer.getvalue()
