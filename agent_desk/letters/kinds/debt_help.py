"""The debt-help referral: where to get help, what they do, and what we do meanwhile."""

from __future__ import annotations

from xml.sax.saxutils import escape

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer, Table, TableStyle

from agent_desk.letters import templates
from agent_desk.letters.blocks import greeting, opening, para, questions, section
from agent_desk.letters.data import DebtHelpReferralData
from agent_desk.letters.style import (
    ACCENT,
    ACCENT_TINT,
    BODY_WIDTH,
    TABLE_BASE,
    fill,
    money,
    styles,
)


def letter_story(data: DebtHelpReferralData) -> list[Flowable]:
    s = styles()
    lang = data.language
    t = templates.texts("debt_help", lang, data.text_overrides)
    org = data.help_organisation
    story = opening(data, t["subject"])
    story.append(para(escape(t["intro"]), s.body))
    rows: list[list[Flowable]] = [[para(escape(org.name), s.cell_bold), para("", s.cell)]]
    if org.address_lines:
        rows.append(
            [
                para(escape(t["address"]), s.cell),
                para("<br/>".join(escape(line) for line in org.address_lines), s.cell),
            ]
        )
    for key, value in (("phone", org.phone), ("website", org.website), ("email", org.email)):
        if value.strip():
            rows.append([para(escape(t[key]), s.cell), para(escape(value), s.cell_bold)])
    box = Table(rows, colWidths=[35 * mm, BODY_WIDTH - 35 * mm], hAlign="LEFT")
    box.setStyle(
        TableStyle(
            [
                *TABLE_BASE,
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
    story.append(section(t["where_title"], box))
    story.append(section(t["what_title"], para(escape(t["what_body"]), s.body)))
    if data.outstanding_cents:
        story.append(Spacer(1, 4))
        story.append(
            para(
                fill(
                    t["outstanding"],
                    amount=money(data.outstanding_cents, lang),
                    reference=data.reference,
                ),
                s.body,
            )
        )
    story.append(section(t["us_title"], para(escape(t["us_body"]), s.body)))
    story.append(questions(data))
    story.extend(greeting(data))
    return story
