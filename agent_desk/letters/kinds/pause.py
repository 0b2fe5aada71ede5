"""The pause letter: collection stops until a date, why, and what happens after."""

from __future__ import annotations

from xml.sax.saxutils import escape

from reportlab.platypus import Flowable, Spacer

from agent_desk.letters import templates
from agent_desk.letters.blocks import (
    debt_help_section,
    greeting,
    opening,
    para,
    questions,
    section,
)
from agent_desk.letters.data import PauseLetterData
from agent_desk.letters.style import fill, format_long_date, styles


def letter_story(data: PauseLetterData) -> list[Flowable]:
    s = styles()
    lang = data.language
    t = templates.texts("pause", lang, data.text_overrides)
    until = format_long_date(data.paused_until, lang)
    story = opening(data, t["subject"])
    story.append(para(escape(t["intro"]), s.body))
    story.append(section(t["what_title"], para(fill(t["what_body"], until=until), s.body)))
    story.append(
        section(t["reason_title"], para(fill(t["reason_body"], reason=data.reason.strip()), s.body))
    )
    story.append(section(t["after_title"], para(fill(t["after_body"], until=until), s.body)))
    story.append(Spacer(1, 4))
    story.append(para(escape(t["note"]), s.body))
    story.append(questions(data))
    story.append(debt_help_section(data))
    story.extend(greeting(data))
    return story
