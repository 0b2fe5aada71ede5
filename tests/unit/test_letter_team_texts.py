"""A team's own letter texts and the provisional-interest sentence, read back from the PDF."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import date

from pypdf import PdfReader

from agent_desk.letters import templates
from agent_desk.letters.examples import example_arrangement
from agent_desk.letters.render import render_pdf


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() or "" for page in reader.pages))


def test_a_team_text_replaces_the_shipped_one_and_marks_the_version() -> None:
    data = replace(
        example_arrangement("nl"),
        text_overrides={"common.closing": "Met hartelijke groet van het hele team,"},
    )
    text = _text(render_pdf(data))
    assert "Met hartelijke groet van het hele team," in text
    assert "Met vriendelijke groet," not in text
    assert templates.template_version("arrangement", data.text_overrides).endswith("+team")
    assert templates.template_version("arrangement") == templates.TEMPLATE_VERSION["arrangement"]


def test_the_letter_says_when_the_interest_is_provisional() -> None:
    plain = _text(render_pdf(example_arrangement("en")))
    assert "not been confirmed yet" not in plain
    data = replace(example_arrangement("en"), interest_provisional_from=date(2025, 1, 1))
    text = _text(render_pdf(data))
    assert "The statutory interest from 1 January 2025 is calculated at a rate that has" in text
    assert "not been confirmed yet" in text


def test_a_team_text_is_checked_against_the_shipped_one() -> None:
    assert templates.check_text("nl/common.closing", "Groet,") == []
    assert templates.check_text("nl/fourteen_day.term_body", "Betaal snel.") != []
    missing = templates.check_text("nl/fourteen_day.term_body", "Betaal {outstanding}.")
    assert any("{term}" in reason for _line, reason in missing)
    bad = templates.check_text("en/common.salutation", "Dear {name},\n<i>hi</i> {oops}")
    assert (2, "markup <i> is not allowed; only <b>…</b> is") in bad
    assert any(line == 2 and "unknown placeholder {oops}" in r for line, r in bad)
    assert templates.check_text("en/common.nothing", "x")[0][1].startswith("There is no letter")
    assert templates.check_text("en/common.salutation", "  ") == [(1, "the text is empty")]
    assert len(templates.team_keys()) > 100
