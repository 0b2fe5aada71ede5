"""The supervisor's team view, reassign and audit dialogs, through the real widgets."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from agent_desk.app import DeskApp
from agent_desk.domain.codes import CustomerStatus
from agent_desk.domain.team_day import local_day
from agent_desk.models import Agent, Customer, Payment, PromiseToPay
from agent_desk.services.activity import record_promise
from agent_desk.services.actor import SYSTEM, actor_for_login
from agent_desk.services.audit_view import CSV_HEADER
from agent_desk.services.database import Database
from agent_desk.services.payments import PaymentInput, receive_payments
from agent_desk.services.promises import resolve_due_promises
from agent_desk.services.team import outcomes_per_day, team_summary
from agent_desk.ui.app_window import DeskWindow
from agent_desk.ui.dialogs.audit import AuditDialog, ScriptedCsvDestination
from agent_desk.ui.dialogs.reassign import ReassignDialog
from agent_desk.ui.labels import OUTCOMES
from agent_desk.ui.prompter import RecordingPrompter
from agent_desk.ui.settings import DeskSettings
from agent_desk.ui.team_view import TeamViewDialog

WAIT = 20_000


def idle(qtbot: QtBot, window: DeskWindow) -> None:
    qtbot.waitUntil(lambda: window.worker.pending == 0, timeout=WAIT)


@pytest.fixture
def supervisor_desk(
    qtbot: QtBot, database: Database, prompter: RecordingPrompter, styled: None
) -> Iterator[DeskApp]:
    desk = DeskApp(
        database, lang="en", agent_login="marieke", prompter=prompter, settings=DeskSettings()
    )
    desk.start()
    qtbot.waitUntil(lambda: desk.window is not None, timeout=WAIT)
    assert desk.window is not None
    qtbot.waitUntil(lambda: desk.window is not None and not desk.window.queue_model.loading)
    qtbot.waitUntil(lambda: desk.worker.pending == 0, timeout=WAIT)
    yield desk
    if desk.window is not None:
        desk.window.close()
    desk.shutdown()


@pytest.fixture
def boss(supervisor_desk: DeskApp) -> DeskWindow:
    assert supervisor_desk.window is not None
    return supervisor_desk.window


def open_team_view(qtbot: QtBot, window: DeskWindow) -> TeamViewDialog:
    assert window.actions_.team_view.isVisible()
    window.actions_.team_view.trigger()
    dialog = window.supervisor.team_view
    assert isinstance(dialog, TeamViewDialog)
    qtbot.waitUntil(lambda: not dialog.loading, timeout=WAIT)
    idle(qtbot, window)
    return dialog


def test_the_team_view_shows_what_team_overview_counts(
    qtbot: QtBot, boss: DeskWindow, database: Database
) -> None:
    dialog = open_team_view(qtbot, boss)
    assert dialog.isVisible()
    with database.transaction() as session:
        expected = team_summary(session, boss.clock())
    rows = dialog.rows()
    assert len(rows) == len(expected.agents)
    for row, agent in zip(rows, expected.agents, strict=True):
        assert row[0].startswith(agent.display_name)
        assert row[1:] == [
            str(agent.queue_size),
            str(agent.assigned),
            str(agent.attempts_today),
            str(agent.customers_reached_today),
            str(agent.promises_today),
            str(agent.arrangements_today),
            kept_text(agent.promises_kept, agent.promises_broken),
        ]
    assert dialog.pending.value.text() == str(expected.pending_approval)
    assert dialog.stale.value.text() == str(expected.stale_contact_customers)
    assert dialog.no_step.value.text() == str(expected.customers_without_next_step)
    assert dialog.unassigned.value.text() == str(expected.unassigned)
    assert sum(a.assigned for a in expected.agents) > 0


def kept_text(kept: int, broken: int) -> str:
    resolved = kept + broken
    return f"{round(100 * kept / resolved)}% ({kept}/{resolved})" if resolved else "–"


def test_the_team_view_shows_the_kept_rate_per_agent(
    qtbot: QtBot, boss: DeskWindow, database: Database
) -> None:
    """Marieke took four promises: two kept, one broken, one still running."""
    now = boss.clock()
    today = local_day(now)
    made = now - timedelta(days=10)
    with database.transaction() as session:
        marieke = actor_for_login(session, "marieke")
        recent = select(Payment.customer_id).where(Payment.paid_on >= today - timedelta(days=15))
        ids = session.scalars(
            select(Customer.id)
            .where(
                Customer.status == CustomerStatus.OPEN,
                Customer.arrears_cents > 10000,
                Customer.id.not_in(recent),
                Customer.id.not_in(select(PromiseToPay.customer_id)),
            )
            .order_by(Customer.id)
            .limit(4)
        ).all()
        assert len(ids) == 4
        for customer_id in ids[:3]:
            record_promise(
                session,
                marieke,
                customer_id,
                amount_cents=5000,
                due_date=today - timedelta(days=8),
                now=made,
            )
        record_promise(
            session,
            marieke,
            ids[3],
            amount_cents=5000,
            due_date=today + timedelta(days=3),
            now=now - timedelta(days=1),
        )
        receive_payments(
            session,
            SYSTEM,
            [PaymentInput(cid, 5000, today - timedelta(days=9), f"KEPT-{cid}") for cid in ids[:2]],
            made + timedelta(days=1),
        )
        run = resolve_due_promises(session, today, now)
        assert (run.kept, run.broken) == (0, 1)
    dialog = open_team_view(qtbot, boss)
    column = dialog.kept_column
    header = dialog.table.horizontalHeaderItem(column)
    assert header is not None and header.text() == "Promises kept\n(last 30 days)"
    assert "kept/resolved" in header.toolTip()
    rows = {row[0]: row for row in dialog.rows()}
    assert rows["Marieke Hoekstra (supervisor)"][column] == "67% (2/3)"
    for row in range(dialog.table.rowCount()):
        item = dialog.table.item(row, 0)
        if item is not None and item.data(Qt.ItemDataRole.UserRole) == "marieke":
            cell = dialog.table.item(row, column)
            assert cell is not None
            assert cell.toolTip() == (
                "4 promises taken in the last 30 days: 2 kept, 1 broken, 1 still running."
            )
    with database.transaction() as session:
        expected = team_summary(session, boss.clock())
    for agent in expected.agents:
        (row,) = [r for r in rows.values() if r[0].startswith(agent.display_name)]
        assert row[column] == kept_text(agent.promises_kept, agent.promises_broken)


def test_the_charts_have_series_with_the_data(
    qtbot: QtBot, boss: DeskWindow, database: Database
) -> None:
    dialog = open_team_view(qtbot, boss)
    data = dialog.data
    assert data is not None
    agents = [a for a in data.summary.agents if a.role != "supervisor"]
    (queue,) = dialog.queue_chart.series()
    (bars,) = queue.barSets()
    assert [bars.at(i) for i in range(bars.count())] == [float(a.queue_size) for a in agents]
    assert dialog.queue_chart.categories() == [a.display_name.split(" ")[0] for a in agents]

    assert len(data.days) == 14 and data.days[-1] == local_day(boss.clock())  # the team's day
    (outcomes,) = dialog.outcomes_chart.series()
    labels = [s.label() for s in outcomes.barSets()]
    with database.transaction() as session:
        expected = outcomes_per_day(session, data.days[0], data.days[-1] + timedelta(days=1))
    total = sum(sum(day.values()) for day in expected.values())
    assert total > 0, "the demo has calls in the last two weeks"
    assert dialog.outcomes_chart.total() == total
    assert labels and set(labels) <= set(OUTCOMES.values())
    assert dialog.outcomes_chart.chart_.legend().isVisible()
    assert len(dialog.outcomes_chart.categories()) == 14

    with qtbot.waitSignal(dialog.loaded, timeout=WAIT):
        qtbot.mouseClick(dialog.refresh_button, Qt.MouseButton.LeftButton)
    assert dialog.queue_chart.series()[0].barSets()[0].count() == len(agents)


def open_customers(database: Database, login: str) -> int:
    with database.transaction() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(Customer)
                .join(Agent, Agent.id == Customer.assigned_agent_id)
                .where(Agent.login == login, Customer.status == CustomerStatus.OPEN)
            )
            or 0
        )


def open_reassign(qtbot: QtBot, window: DeskWindow) -> ReassignDialog:
    window.actions_.reassign.trigger()
    dialog = window.supervisor.reassign_dialog
    assert isinstance(dialog, ReassignDialog)
    qtbot.waitUntil(lambda: bool(dialog.agents), timeout=WAIT)
    idle(qtbot, window)
    return dialog


def test_the_preview_says_how_many_move_and_confirm_moves_them(
    qtbot: QtBot, boss: DeskWindow, database: Database
) -> None:
    sanne_before = open_customers(database, "sanne")
    daan_before, eva_before = open_customers(database, "daan"), open_customers(database, "eva")
    assert sanne_before > 10
    with database.transaction() as session:
        held = session.scalar(
            select(Customer.id)
            .join(Agent, Agent.id == Customer.assigned_agent_id)
            .where(Agent.login == "sanne", Customer.status == CustomerStatus.OPEN)
            .order_by(Customer.id)
            .limit(1)
        )
    assert held is not None
    with qtbot.waitSignal(boss.file_shown, timeout=WAIT):
        boss.open_customer(held)  # open on a desk right now: held, so skipped
    idle(qtbot, boss)
    dialog = open_reassign(qtbot, boss)
    assert not dialog.confirm.isEnabled()
    dialog.choose_from("sanne")
    with qtbot.waitSignal(dialog.previewed, timeout=WAIT):
        dialog.choose_targets(["daan", "eva"])
    preview = dialog.preview
    assert preview is not None
    assert preview.skipped_held == 1
    assert preview.count + preview.skipped_held == sanne_before
    assert "1 skipped: open on a desk right now" in dialog.details.text()
    assert dialog.sentence.text() == (
        f"{preview.count} customers move from Sanne de Vries to Daan Bakker and Eva Janssen."
    )
    assert "Spread evenly" in dialog.details.text()
    assert dialog.confirm.isEnabled()

    with qtbot.waitSignal(boss.supervisor.reassigned, timeout=WAIT) as moved:
        qtbot.mouseClick(dialog.confirm, Qt.MouseButton.LeftButton)
    result = moved.args[0]
    assert result.moved == preview.count
    assert result.per_target == preview.per_target
    idle(qtbot, boss)
    assert not dialog.isVisible()
    assert open_customers(database, "sanne") == preview.skipped_held
    assert open_customers(database, "daan") == daan_before + preview.per_target["daan"]
    assert open_customers(database, "eva") == eva_before + preview.per_target["eva"]
    assert f"{result.moved} customers moved." in boss.statusBar().currentMessage()


def test_reassign_validation_sits_next_to_the_fields(
    qtbot: QtBot, boss: DeskWindow, database: Database
) -> None:
    dialog = open_reassign(qtbot, boss)
    dialog.postcode_from.setText("12a")
    dialog.refresh_preview()
    assert "four digits" in dialog.error_text("postcode_from")
    assert dialog.preview is None and not dialog.confirm.isEnabled()

    dialog.postcode_from.setText("5000")
    dialog.postcode_to.setText("1000")
    dialog.refresh_preview()
    assert "lower postcode first" in dialog.error_text("postcode_from")

    dialog.postcode_to.setText("")
    dialog.submit()
    assert "Tick the agent" in dialog.error_text("to")

    dialog.postcode_from.setText("")
    dialog.choose_targets(["daan"])
    dialog.submit()
    assert "at least one filter" in dialog.error_text("filter")

    dialog.choose_from("daan")  # the source cannot be a target: unticked and greyed out
    assert "daan" not in dialog.target_logins()
    daan = next(
        dialog.targets.item(r)
        for r in range(dialog.targets.count())
        if dialog.targets.item(r).data(Qt.ItemDataRole.UserRole) == "daan"
    )
    assert not daan.flags() & Qt.ItemFlag.ItemIsEnabled
    dialog.choose_targets(["eva"])
    dialog.postcode_from.setText("1000")
    dialog.postcode_to.setText("1001")  # nobody lives there in the demo
    with qtbot.waitSignal(dialog.previewed, timeout=WAIT):
        dialog.refresh_preview()
    assert dialog.sentence.text() == "No customers match; nothing would move."
    assert not dialog.confirm.isEnabled()


def test_the_audit_trail_shows_events_and_exports_csv(
    qtbot: QtBot, boss: DeskWindow, database: Database, tmp_path: Path
) -> None:
    with database.transaction() as session:
        customer = session.scalars(select(Customer).order_by(Customer.id).limit(1)).one()
        customer_id, number = customer.id, customer.customer_number
    with qtbot.waitSignal(boss.file_shown, timeout=WAIT):
        boss.open_customer(customer_id)  # opening a file is audited
    idle(qtbot, boss)
    target = tmp_path / "audit.csv"
    boss.supervisor.csv_destination = ScriptedCsvDestination(target)
    boss.actions_.audit_trail.trigger()
    dialog = boss.supervisor.audit_dialog
    assert isinstance(dialog, AuditDialog)
    qtbot.waitUntil(lambda: not dialog.loading, timeout=WAIT)
    idle(qtbot, boss)
    assert dialog.table.rowCount() == len(dialog.rows) > 0
    first = dialog.rows[0]
    assert first.login == "marieke" and first.customer_number == number
    item = dialog.table.item(0, 1)
    assert item is not None and item.text() == "Marieke Hoekstra"

    dialog.customer.setText(number)
    with qtbot.waitSignal(dialog.loaded, timeout=WAIT):
        qtbot.mouseClick(dialog.show_button, Qt.MouseButton.LeftButton)
    assert dialog.rows and {r.customer_number for r in dialog.rows} == {number}

    with qtbot.waitSignal(dialog.exported, timeout=WAIT) as exported:
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert exported.args[0] == target
    with target.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.reader(stream))
    assert tuple(rows[0]) == CSV_HEADER
    assert len(rows) - 1 == len(dialog.rows)
    assert all(row[5] == number for row in rows[1:])
    assert "saved to" in dialog.notice.text()


def test_an_agent_desk_has_no_supervisor_tools(window: DeskWindow) -> None:
    actions = window.actions_
    for action in (actions.team_view, actions.reassign, actions.audit_trail):
        assert not action.isVisible()
        assert not action.isEnabled()
    assert window.supervisor.open_team_view() is None
    assert window.supervisor.open_reassign() is None
    assert window.supervisor.open_audit() is None
    texts = {text for _, text in window.shortcuts()}
    assert not texts & {"Team view", "Reassign customers", "Audit trail"}


def test_the_supervisor_menu_lists_the_tools(boss: DeskWindow) -> None:
    keys = dict((text, key) for key, text in boss.shortcuts())
    assert keys["Team view"] == "Ctrl+Shift+T"
    assert keys["Reassign customers"] == "Ctrl+Shift+R"
    assert keys["Audit trail"] == "Ctrl+Shift+U"


def test_an_open_team_view_follows_colleagues_work_live(
    qtbot: QtBot, boss: DeskWindow, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agent_desk.domain.codes import Channel, Direction, NextStepKind, Outcome
    from agent_desk.services.activity import NextStepInput, log_contact_attempt
    from agent_desk.services.actor import actor_for_login

    boss.supervisor.live_refresh.setInterval(200)  # the real interval is 3 s
    dialog = open_team_view(qtbot, boss)
    qtbot.waitUntil(lambda: boss.live_sync.online is True, timeout=WAIT)
    before = {row[0]: row for row in dialog.rows()}
    # Nobody presses refresh: the change log wakes the desk and the view reloads once.
    loads: list[object] = []
    monkeypatch.setattr(
        dialog, "_loaded", lambda data, real=dialog._loaded: (loads.append(data), real(data))
    )
    with database.transaction() as session:
        sanne = actor_for_login(session, "sanne")
        customer_id = session.scalar(
            select(Customer.id).where(Customer.assigned_agent_id == sanne.agent_id).limit(1)
        )
        assert customer_id is not None
        now = boss.clock()
        for minutes in (1, 2):
            log_contact_attempt(
                session,
                sanne,
                customer_id,
                channel=Channel.PHONE,
                direction=Direction.OUTBOUND,
                outcome=Outcome.NO_ANSWER,
                note="",
                next_step=NextStepInput(NextStepKind.RETRY, now + timedelta(hours=minutes)),
                now=now,
            )
    qtbot.waitUntil(lambda: dialog.rows() != list(before.values()), timeout=WAIT)
    idle(qtbot, boss)
    assert len(loads) == 1
    after = {row[0]: row for row in dialog.rows()}
    changed = [name for name in after if after[name] != before.get(name)]
    assert changed and all(name.startswith("Sanne") for name in changed)
