"""The audit trail and the customer's timeline say what happened in words, not JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from agent_desk.app import DeskApp
from agent_desk.i18n import Translator
from agent_desk.models import Customer
from agent_desk.services.actor import actor_for_login
from agent_desk.services.creditor import set_values
from agent_desk.services.database import Database
from agent_desk.services.signals import record_objection
from agent_desk.ui.app_window import DeskWindow
from agent_desk.ui.audit_words import readable_action, readable_detail, readable_entity
from agent_desk.ui.dialogs.audit import AuditDialog
from agent_desk.ui.labels import Words
from agent_desk.ui.prompter import RecordingPrompter
from agent_desk.ui.settings import DeskSettings

WAIT = 20_000
EN, NL = Words(Translator("en")), Words(Translator("nl"))


def test_a_json_detail_reads_as_words_in_both_languages() -> None:
    detail = json.dumps(
        {"kind": "policy", "key": "default", "version": 3, "reason": "shorter plans"}
    )
    assert readable_detail(EN, detail) == (
        "Kind: arrangement policy · Setting: default · Version: 3 · Reason: shorter plans"
    )
    dutch = readable_detail(NL, detail)
    assert dutch.startswith("Soort: regelingenbeleid · Instelling: default · Versie: 3")
    assert "{" not in dutch and '"' not in dutch


def test_amounts_dates_and_yes_no_are_the_desks_words() -> None:
    day = date(2031, 3, 12)
    detail = json.dumps(
        {
            "reference": "INV-1",
            "delivery": "emailed",
            "sent_on": day.isoformat(),
            "costs_booked_cents": 4000,
            "sha256": "ab" * 32,
        }
    )
    text = readable_detail(EN, detail)
    assert "Delivery: e-mailed" in text and "Sent on: 12 Mar 2031" in text
    assert "Costs booked: € 40.00" in text or "Costs booked: €40.00" in text
    assert "Fingerprint: abababababab…" in text
    dutch = readable_detail(NL, detail)
    assert "Verzending: gemaild" in dutch and "12 mrt 2031" in dutch.lower()
    assert "40,00" in dutch
    pairs = readable_detail(EN, "email_opt_out=True sms_opt_out=False")
    assert pairs == "No e-mail: yes · No SMS: no"
    assert readable_detail(NL, "email_opt_out=True sms_opt_out=False") == (
        "Geen e-mail: ja · Geen sms: nee"
    )


def test_plain_text_and_bad_json_stay_as_they_are() -> None:
    assert readable_detail(EN, "date of birth confirmed") == "date of birth confirmed"
    assert readable_detail(EN, "{not json") == "{not json"
    assert readable_detail(EN, "") == ""
    assert readable_action(NL, "signal_objection") == "bezwaar vastgelegd"
    assert readable_entity(EN, "promise_to_pay") == "promise"
    assert readable_action(EN, "something_new") == "something new"


@pytest.fixture
def boss(
    qtbot: QtBot, database: Database, prompter: RecordingPrompter, styled: None
) -> Iterator[DeskWindow]:
    desk = DeskApp(
        database, lang="nl", agent_login="marieke", prompter=prompter, settings=DeskSettings()
    )
    desk.start()
    qtbot.waitUntil(lambda: desk.window is not None, timeout=WAIT)
    window = desk.window
    assert window is not None
    qtbot.waitUntil(lambda: window.worker.pending == 0, timeout=WAIT)
    yield window
    window.close()
    desk.shutdown()


def test_the_audit_trail_and_the_timeline_show_no_json(
    qtbot: QtBot, boss: DeskWindow, database: Database
) -> None:
    now = datetime.now(UTC)
    with database.transaction() as session:
        marieke = actor_for_login(session, "marieke")
        customer_id = session.scalars(select(Customer.id).order_by(Customer.id).limit(1)).one()
        set_values(session, marieke, {"signatory": "Team Huurincasso"}, now)
        record_objection(
            session, marieke, customer_id, on=date(2026, 3, 12), channel="phone", now=now
        )
    boss.actions_.audit_trail.trigger()
    dialog = boss.supervisor.audit_dialog
    assert isinstance(dialog, AuditDialog)
    qtbot.waitUntil(lambda: not dialog.loading and bool(dialog.rows), timeout=WAIT)
    cells: dict[str, list[str]] = {}
    for row in range(dialog.table.rowCount()):  # newest first: keep the newest per kind
        texts = [dialog.table.item(row, c).text() for c in range(6)]  # type: ignore[union-attr]
        cells.setdefault(dialog.rows[row].entity, texts)
    profile = cells["creditor_profile"]
    assert profile[2] == "gewijzigd" and profile[3] == "schuldeisersprofiel"
    assert "Nu: Team Huurincasso" in profile[5] and "{" not in profile[5]
    objection = cells["signal_objection"]
    assert objection[2] == "bezwaar vastgelegd"
    assert "Op: 12 mrt" in objection[5].lower() or "op: 12 mrt" in objection[5].lower()
    assert "Kanaal: telefoon" in objection[5]
    assert all("{" not in row[5] for row in cells.values())
    dialog.reject()

    with qtbot.waitSignal(boss.file_shown, timeout=WAIT):
        boss.open_customer(customer_id)
    qtbot.waitUntil(lambda: boss.worker.pending == 0, timeout=WAIT)
    timeline = boss.customer_panel.timeline
    lines = [
        " ".join(timeline.item(r, c).text() for c in range(3) if timeline.item(r, c))
        for r in range(timeline.rowCount())
    ]
    objection_line = next(line for line in lines if "bezwaar" in line)
    assert "12 mrt" in objection_line.lower() and "2026-03-12" not in objection_line
    assert all("{" not in line for line in lines)


def test_credit_that_settled_a_later_claim_reads_as_words(boss: DeskWindow) -> None:
    """The books' "credit_used" row: in the timeline and the audit trail, both languages,
    also for rows written before the detail was machine words."""
    from agent_desk.services.customer_file import TimelineItem, _credit_values

    new = json.dumps({"amount_cents": 852, "claims": ["INV-2", "INV-3"], "on": "2026-11-20"})
    old = "8.52 credit settled INV-2, INV-3 on 2026-11-20"
    assert (
        _credit_values(new)
        == _credit_values(old)
        == {
            "amount_cents": "852",
            "claims": "INV-2, INV-3",
            "on": "2026-11-20",
        }
    )
    at = datetime(2026, 11, 20, 3, tzinfo=UTC)
    item = TimelineItem(at, "credit", "credit_used", "", None, _credit_values(new))
    line = boss.customer_panel.describe(item).replace("\xa0", " ")
    assert line.startswith("€ 8,52 tegoed verrekend met INV-2, INV-3 (20 nov")
    assert readable_action(NL, "credit_used") == "tegoed gebruikt"
    english = readable_detail(EN, new).replace("\xa0", " ")
    assert english.startswith("Amount: €8.52 · Claims: INV-2, INV-3 · On: 20 Nov")
    dutch = readable_detail(NL, new).replace("\xa0", " ")
    assert "Bedrag: € 8,52" in dutch and "Vorderingen: INV-2, INV-3" in dutch
    # A detail nobody can read stays out of the line rather than showing as code.
    unknown = TimelineItem(at, "credit", "credit_used", "", None, _credit_values("x"))
    assert "{" not in boss.customer_panel.describe(unknown)
