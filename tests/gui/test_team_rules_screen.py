"""The supervisor's team-rules screen, the rates warning and live reload, real widgets."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from PySide6.QtGui import QAction
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from agent_desk.app import DeskApp
from agent_desk.models import TeamRule
from agent_desk.resources import read_text
from agent_desk.services import team_rules
from agent_desk.services.actor import actor_for_login
from agent_desk.services.database import Database
from agent_desk.ui.app_window import DeskWindow
from agent_desk.ui.dialogs.team_rules import TeamRulesDialog
from agent_desk.ui.prompter import RecordingPrompter
from agent_desk.ui.settings import DeskSettings

WAIT = 20_000


def idle(qtbot: QtBot, window: DeskWindow) -> None:
    qtbot.waitUntil(lambda: window.worker.pending == 0, timeout=WAIT)


@pytest.fixture
def boss(
    qtbot: QtBot, database: Database, prompter: RecordingPrompter, styled: None
) -> Iterator[DeskWindow]:
    desk = DeskApp(
        database, lang="en", agent_login="marieke", prompter=prompter, settings=DeskSettings()
    )
    desk.start()
    qtbot.waitUntil(lambda: desk.window is not None, timeout=WAIT)
    assert desk.window is not None
    idle(qtbot, desk.window)
    yield desk.window
    desk.window.close()
    desk.shutdown()


def _versions(database: Database, key: str) -> int:
    with database.sessions() as session:
        return int(
            session.scalar(select(func.count()).select_from(TeamRule).where(TeamRule.key == key))
            or 0
        )


def test_the_status_bar_warns_a_supervisor_of_unconfirmed_rates(
    qtbot: QtBot, boss: DeskWindow, window: DeskWindow
) -> None:
    qtbot.waitUntil(lambda: boss.rates_label.isVisibleTo(boss), timeout=WAIT)
    assert "Rates unconfirmed since" in boss.rates_label.text()
    assert "2025" in boss.rates_label.text()
    idle(qtbot, window)
    assert not window.rates_label.isVisibleTo(window)  # an agent's desk: no warning


def test_a_supervisor_edits_the_policy_on_the_screen_and_a_bad_one_is_refused(
    qtbot: QtBot, boss: DeskWindow, database: Database
) -> None:
    action = boss.findChild(QAction, "teamRulesAction")
    assert action is not None
    action.trigger()
    dialog = boss.team_rules_dialog
    assert isinstance(dialog, TeamRulesDialog)
    idle(qtbot, boss)
    qtbot.waitUntil(lambda: dialog.documents.count() > 10, timeout=WAIT)
    row = next(
        i for i, v in enumerate(dialog.versions) if (v.kind, v.key) == ("policy", "arrangements")
    )
    dialog.documents.setCurrentRow(row)
    idle(qtbot, boss)
    qtbot.waitUntil(lambda: "max_term_months" in dialog.editor.toPlainText(), timeout=WAIT)
    shipped = read_text("policy", "arrangements.toml")
    dialog.editor.setPlainText(shipped.replace('min_instalment = "10.00"', "min_instalment = 10"))
    dialog.save_button.click()
    idle(qtbot, boss)
    qtbot.waitUntil(lambda: dialog.problem.text() != "", timeout=WAIT)
    line = shipped.splitlines().index('min_instalment = "10.00"') + 1
    assert f"policy/arrangements.toml:{line}:" in dialog.problem.text()
    assert "amount in quotes" in dialog.problem.text()
    assert _versions(database, "arrangements") == 1  # nothing written
    dialog.editor.setPlainText(shipped.replace("max_term_months = 24", "max_term_months = 18"))
    dialog.reason.setText("shorter plans this year")
    dialog.save_button.click()
    idle(qtbot, boss)
    qtbot.waitUntil(lambda: "version 2" in dialog.problem.text(), timeout=WAIT)
    assert _versions(database, "arrangements") == 2
    with database.sessions() as session:
        assert team_rules.policy(session).max_term_months == 18
        assert team_rules.history(session, "policy", "arrangements")[0].reason == (
            "shorter plans this year"
        )
    dialog.close()


def test_an_agent_desk_reloads_the_team_s_scripts_live(
    qtbot: QtBot, window: DeskWindow, database: Database
) -> None:
    idle(qtbot, window)
    good = read_text("scripts", "en", "pause_request.yaml")
    with database.sessions() as session:
        lead = actor_for_login(session, "marieke")
        team_rules.save(
            session,
            lead,
            "script",
            "en/pause_request",
            good.replace("title: ", "title: Team ", 1),
            reason="wording",
        )
        session.commit()
    window.live_sync.read()
    qtbot.waitUntil(
        lambda: (
            window.script_host.library is not None
            and window.script_host.library.get("pause_request", "en").title.startswith("Team ")
        ),
        timeout=WAIT,
    )


def test_the_calculator_marks_interest_past_the_confirmed_rates_provisional(
    qtbot: QtBot, window: DeskWindow, database: Database
) -> None:
    from tests.gui.test_arrangement_dialog import books, open_calculator

    dialog = open_calculator(qtbot, window, database, letter=False)
    file = window.current_file()
    assert file is not None
    owed = books(database, file.id)
    assert owed.interest > 0 and owed.interest_provisional_from is not None
    assert "provisional from" in dialog.interest_note.text()
    assert "not confirmed yet" in dialog.interest_note.toolTip()
    dialog.reject()
    idle(qtbot, window)
    # the supervisor records the checked rates up to today: no longer provisional
    with database.sessions() as session:
        lead = actor_for_login(session, "marieke")
        team_rules.add_rate(
            session,
            lead,
            date(2025, 7, 1),
            Decimal(6),
            "Staatscourant (test)",
            confirmed_until=date.today(),
        )
        session.commit()
    window.actions_.arrangement.trigger()
    again = window.arrangement_dialog
    assert again is not None and again is not dialog
    qtbot.waitUntil(lambda: again.owed is not None, timeout=WAIT)
    assert "provisional" not in again.interest_note.text()
    again.reject()
