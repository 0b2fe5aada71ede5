"""The arrangement confirmation: the amount, the instalment schedule, how to pay,
and when an instalment counts as missed and the plan as broken."""

from __future__ import annotations

from xml.sax.saxutils import escape

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer

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
from agent_desk.letters.data import ArrangementLetterData, Language
from agent_desk.letters.style import (
    fill,
    format_long_date,
    money,
    styles,
)


def _waived_note(template_plain: str, template_amount: str, cents: int, lang: Language) -> str:
    if cents > 0:
        return fill(template_amount, amount=money(cents, lang))
    return escape(template_plain)


def letter_story(data: ArrangementLetterData) -> list[Flowable]:
    s = styles()
    lang = data.language
    t = templates.texts("arrangement", lang, data.text_overrides)
    story = opening(data, t["subject"])
    story.append(para(escape(t["intro"]), s.body))

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
        section(
            t["amount_title"],
            para(fill(t["amount_intro"], total=money(data.total_cents, lang)), s.body),
            Spacer(1, 3),
            amount_table(rows, (t["total"], money(data.total_cents, lang))),
        )
    )
    if data.interest_provisional_from is not None and data.charged_interest_cents:
        story.append(Spacer(1, 4))
        story.append(
            para(
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
    schedule = listing_table(
        (t["col_number"], t["col_due"], t["col_amount"]),
        (
            (str(line.number), format_long_date(line.due, lang), money(line.amount_cents, lang))
            for line in data.schedule
        ),
        (t["total"], "", money(data.total_cents, lang)),
        (25 * mm, 70 * mm, 30 * mm),
        valign="MIDDLE",
    )
    story.append(section(t["schedule_title"], para(intro, s.body), Spacer(1, 4)))
    story.append(schedule)
    story.extend(pay_box(data))
    story.extend(_arrangement_rules(data, t))
    story.append(section(t["missed_title"], para(escape(t["missed_body"]), s.body)))
    story.append(questions(data))
    story.append(debt_help_section(data))
    story.append(Spacer(1, 6))
    story.append(para(escape(t["thanks"]), s.body))
    story.extend(greeting(data))
    return story


def _count_days(count: int, t: templates.Texts) -> str:
    return t["day" if count == 1 else "days"].format(count=count)


def _arrangement_rules(data: ArrangementLetterData, t: templates.Texts) -> list[Flowable]:
    """When an instalment counts as missed, and what happens when the plan breaks."""
    s = styles()
    missed = (
        fill(t["rule_missed"], days=_count_days(data.missed_after_days, t))
        if data.missed_after_days > 0
        else escape(t["rule_missed_zero"])
    )
    count = data.missed_instalments_before_broken
    broken = fill(t["broken_rule"], count=count) if count > 1 else escape(t["broken_rule_one"])
    consequences = [
        para(escape(t[key]), s.bullet, bullet="•")
        for key in ("broken_ends", "broken_interest", "broken_contact")
    ]
    return [
        section(t["rule_title"], para(missed, s.body)),
        section(
            t["broken_title"],
            para(broken, s.body),
            Spacer(1, 3),
            para(escape(t["broken_then"]), s.body),
            *consequences,
        ),
    ]
