"""The 14-day letter (WIK): the claims, the term, the collection costs if it stays
unpaid, how to pay, and the offer to signal the municipality."""

from __future__ import annotations

from xml.sax.saxutils import escape

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer, Table

from agent_desk.letters import templates
from agent_desk.letters.blocks import (
    amount_table,
    debt_help_section,
    greeting,
    listing_table,
    opening,
    para,
    pay_box,
    questions,
    section,
)
from agent_desk.letters.data import FourteenDayLetterData
from agent_desk.letters.style import (
    BODY_WIDTH,
    fill,
    format_long_date,
    money,
    styles,
)


def _early_signal(data: FourteenDayLetterData) -> Flowable:
    """The offer to pass the details to the municipality, and the right to object
    (Besluit gemeentelijke schuldhulpverlening art. 2 d)."""
    s = styles()
    t = templates.texts("fourteen_day", data.language)
    return section(
        t["signal_title"],
        para(escape(t["signal_body"]), s.body),
        Spacer(1, 3),
        para(fill(t["signal_object"], days=data.objection_days), s.body),
        Spacer(1, 3),
        para(escape(t["signal_law"]), s.note),
    )


def _claims_table(data: FourteenDayLetterData, t: templates.Texts) -> Table:
    """The claims a 14-day letter names: reference, what it is for, due date, amount."""
    lang = data.language
    return listing_table(
        (t["col_reference"], t["col_description"], t["col_due"], t["col_amount"]),
        (
            (
                claim.reference,
                claim.description.strip() or "–",
                format_long_date(claim.due, lang),
                money(claim.amount_cents, lang),
            )
            for claim in data.claims
        ),
        (t["claims_total"], "", "", money(data.outstanding_cents, lang)),
        (38 * mm, BODY_WIDTH - 38 * mm - 36 * mm - 28 * mm, 36 * mm, 28 * mm),
    )


def letter_story(data: FourteenDayLetterData) -> list[Flowable]:
    s = styles()
    lang = data.language
    t = templates.texts("fourteen_day", lang, data.text_overrides)
    story = opening(data, t["subject"])
    intro = (
        fill(t["intro_claim"], claim=data.claim_description.strip())
        if data.claim_description.strip()
        else escape(t["intro"])
    )
    story.append(para(intro + " " + escape(t["intro_more"]), s.body))
    outstanding = money(data.outstanding_cents, lang)
    story.append(
        section(
            t["claims_title"],
            para(escape(t["claims_intro"]), s.body),
            Spacer(1, 4),
            _claims_table(data, t),
        )
    )
    if data.later_claims:
        story += [Spacer(1, 4), para(escape(t["later_claims"]), s.body)]
    story.append(
        section(
            t["amount_title"],
            para(
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
        para(
            fill(
                t["costs_body"],
                costs=money(costs_total, lang),
                total=money(data.total_if_unpaid_cents, lang),
            ),
            s.body,
        ),
        Spacer(1, 3),
        amount_table(rows, (t["total_if_unpaid"], money(data.total_if_unpaid_cents, lang))),
    ]
    if data.vat_statement:
        cost_block += [Spacer(1, 4), para(escape(t["vat_statement"]), s.body)]
    cost_block += [Spacer(1, 4), para(escape(t["partial"]), s.body)]
    story.append(section(t["costs_title"], *cost_block))
    story.extend(pay_box(data))
    story.append(section(t["cant_pay_title"], para(escape(t["cant_pay_body"]), s.body)))
    story.append(questions(data))
    story.append(debt_help_section(data))
    if data.early_signal_offer:
        story.append(_early_signal(data))
    story.append(Spacer(1, 6))
    story.append(para(escape(t["already_paid"]), s.body))
    story.extend(greeting(data))
    return story
