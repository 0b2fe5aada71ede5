"""The desk driven through its real widgets: queue, next customer, logging, conflicts."""

from __future__ import annotations

from datetime import datetime, timedelta

from PySide6.QtCore import QDateTime, Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from agent_desk.app import DeskApp
from agent_desk.domain.codes import NextStepKind, Outcome
from agent_desk.domain.team_day import local_day
from agent_desk.models import Customer
from agent_desk.services.balance import customer_balance
from agent_desk.services.database import Database
from agent_desk.ui.app_window import DeskWindow
from agent_desk.ui.dialogs.log_contact import LogContactDialog
from agent_desk.ui.dialogs.pause import PauseDialog
from agent_desk.ui.dialogs.promise import PromiseDialog
from agent_desk.ui.plain import PlainLabel
from agent_desk.ui.queue_model import COL_ARREARS, COL_CUSTOMER, COL_WHY, QueueModel

WAIT = 20_000


def idle(qtbot: QtBot, window: DeskWindow) -> None:
    qtbot.waitUntil(lambda: window.worker.pending == 0, timeout=WAIT)


def next_customer(qtbot: QtBot, window: DeskWindow) -> int:
    with qtbot.waitSignal(window.file_shown, timeout=WAIT) as shown:
        window.actions_.next_customer.trigger()
    idle(qtbot, window)
    customer_id = shown.args[0] if shown.args else None
    assert isinstance(customer_id, int)
    return customer_id


def timeline_texts(window: DeskWindow) -> list[str]:
    table = window.customer_panel.timeline
    return [table.item(row, 1).text() for row in range(table.rowCount())]


def test_the_queue_model_passes_the_model_tester(
    qtbot: QtBot, window: DeskWindow, qtmodeltester: ModelTester
) -> None:
    model = window.queue_model
    assert model.rowCount() > 20
    qtmodeltester.check(model)
    idle(qtbot, window)
    qtmodeltester.check(model)
    # Every row says why in words, arrears are right-aligned money.
    assert model.index(0, COL_WHY).data()
    arrears = model.index(0, COL_ARREARS)
    assert "€" in arrears.data()
    alignment = arrears.data(Qt.ItemDataRole.TextAlignmentRole)
    assert alignment & Qt.AlignmentFlag.AlignRight


def test_the_queue_loads_rows_in_pages(qtbot: QtBot, window: DeskWindow) -> None:
    model = QueueModel(
        window.worker,
        window.words,
        window.clock,
        window.queue_model.scope,
        window.actor.agent_id,
        page_size=5,
    )
    with qtbot.waitSignal(model.loaded, timeout=WAIT):
        model.reload()
    assert model.rowCount() > 12
    assert model.queue_row(0) is not None
    assert model.queue_row(12) is None  # not fetched yet
    with qtbot.waitSignal(model.page_loaded, timeout=WAIT) as page:
        assert model.index(12, COL_CUSTOMER).data() == "…"
    assert page.args == [2]
    assert model.queue_row(12) is not None
    assert model.index(12, COL_CUSTOMER).data().endswith(model.queue_row(12).customer_number)  # type: ignore[union-attr]


def test_next_customer_opens_the_file_and_holds_it(
    qtbot: QtBot, window: DeskWindow, database: Database
) -> None:
    first = window.queue_model.customer_id(0)
    customer_id = next_customer(qtbot, window)
    assert customer_id == first
    panel = window.customer_panel
    assert panel.file is not None and panel.file.id == customer_id
    assert panel.name.text() == panel.file.name
    # What is owed today comes from the books, interest up to today included.
    with database.transaction() as session:
        owed = customer_balance(session, customer_id, local_day(window.clock())).outstanding
    assert panel.file.owed_cents == owed > 0
    booked = panel.file.arrears_cents
    assert window.words.money(booked) in panel.summary.text()
    if owed > booked:
        assert window.words.money(owed - booked) in panel.summary.text()
    assert panel.claims.rowCount() == len(panel.file.claims) >= 1
    assert window.actions_.log_contact.isEnabled()
    with database.transaction() as session:
        customer = session.get(Customer, customer_id)
        assert customer is not None
        assert customer.held_by_agent_id == window.actor.agent_id
        assert customer.held_until is not None


def test_opening_from_the_list_holds_and_quitting_releases(
    qtbot: QtBot, desk_app: DeskApp, window: DeskWindow, database: Database
) -> None:
    customer_id = window.queue_model.customer_id(3)
    assert customer_id is not None
    with qtbot.waitSignal(window.file_shown, timeout=WAIT):
        window.queue_panel.view.doubleClicked.emit(window.queue_model.index(3, 0))
    with database.transaction() as session:
        held = session.scalars(
            select(Customer.id).where(Customer.held_by_agent_id == window.actor.agent_id)
        ).all()
    assert list(held) == [customer_id]
    window.close()
    with database.transaction() as session:
        held_after = session.scalars(
            select(Customer.id).where(Customer.held_by_agent_id == window.actor.agent_id)
        ).all()
    assert list(held_after) == []
    desk_app.window = None


def open_log_dialog(window: DeskWindow) -> LogContactDialog:
    window.actions_.log_contact.trigger()
    dialog = window.open_dialog
    assert isinstance(dialog, LogContactDialog)
    assert dialog.isVisible()
    return dialog


def test_a_failed_attempt_suggests_a_retry_and_the_customer_leaves_the_queue(
    qtbot: QtBot, window: DeskWindow
) -> None:
    customer_id = next_customer(qtbot, window)
    dialog = open_log_dialog(window)
    dialog.choose(dialog.outcome, Outcome.NO_ANSWER.value)
    assert dialog.step_kind.currentData() == NextStepKind.RETRY.value
    suggested = dialog.step_due.dateTime().toPython()
    assert isinstance(suggested, datetime)
    assert suggested > datetime.now()
    qtbot.keyClicks(dialog.note, "Voicemail vol, later opnieuw.")
    with qtbot.waitSignal(window.queue_model.loaded, timeout=WAIT):
        qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    idle(qtbot, window)
    assert not dialog.isVisible()
    assert "no answer" in timeline_texts(window)[0]
    assert window.customer_panel.timeline.item(0, 2).text() == "Voicemail vol, later opnieuw."
    assert customer_id not in window.queue_model.ids()


def test_the_desk_refuses_to_move_on_without_a_next_step(qtbot: QtBot, window: DeskWindow) -> None:
    next_customer(qtbot, window)
    before = len(timeline_texts(window))
    dialog = open_log_dialog(window)
    dialog.choose(dialog.outcome, Outcome.REACHED.value)
    dialog.choose(dialog.step_kind, None)
    qtbot.keyClicks(dialog.note, "Klant belt zelf terug.")
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(dialog.error_text("next_step")), timeout=WAIT)
    assert "Choose a next step" in dialog.error_text("next_step")
    assert dialog.isVisible()
    assert dialog.note.toPlainText() == "Klant belt zelf terug."
    assert dialog.save.isEnabled()
    idle(qtbot, window)
    assert len(timeline_texts(window)) == before


def test_a_promise_shows_in_the_timeline_and_changes_the_queue(
    qtbot: QtBot, window: DeskWindow
) -> None:
    customer_id = next_customer(qtbot, window)
    window.actions_.promise.trigger()
    dialog = window.open_dialog
    assert isinstance(dialog, PromiseDialog)
    dialog.amount.setText("12,50")
    with qtbot.waitSignal(window.queue_model.loaded, timeout=WAIT):
        qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    idle(qtbot, window)
    assert not dialog.isVisible()
    assert any("promise to pay €12.50" in text for text in timeline_texts(window))
    assert customer_id not in window.queue_model.ids()
    assert "check promise" in window.customer_panel.next_step.text()


def test_a_bad_amount_is_explained_next_to_the_field(qtbot: QtBot, window: DeskWindow) -> None:
    next_customer(qtbot, window)
    window.actions_.promise.trigger()
    dialog = window.open_dialog
    assert isinstance(dialog, PromiseDialog)
    dialog.amount.setText("twaalf")
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    assert "not an amount" in dialog.error_text("amount")
    assert dialog.isVisible()


def test_a_pause_shows_in_the_timeline_and_can_be_ended(qtbot: QtBot, window: DeskWindow) -> None:
    customer_id = next_customer(qtbot, window)
    window.actions_.pause.trigger()
    dialog = window.open_dialog
    assert isinstance(dialog, PauseDialog)
    assert not dialog.end.isVisible()
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)  # no reason yet
    qtbot.waitUntil(lambda: bool(dialog.error_text("reason")), timeout=WAIT)
    dialog.reason.setCurrentIndex(0)
    with qtbot.waitSignal(window.queue_model.loaded, timeout=WAIT):
        qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    idle(qtbot, window)
    assert "collection paused until" in timeline_texts(window)[0]
    assert customer_id not in window.queue_model.ids()
    badges = window.customer_panel.page.findChildren(PlainLabel, "badge")
    assert any("paused until" in badge.text() for badge in badges)

    window.actions_.pause.trigger()
    again = window.open_dialog
    assert isinstance(again, PauseDialog)
    assert not again.end.isHidden()
    with qtbot.waitSignal(window.file_shown, timeout=WAIT):
        qtbot.mouseClick(again.end, Qt.MouseButton.LeftButton)
    idle(qtbot, window)
    assert "pause ended" in timeline_texts(window)[0]


def test_search_and_sort_happen_in_the_query(
    qtbot: QtBot, window: DeskWindow, database: Database
) -> None:
    model = window.queue_model
    total = model.rowCount()
    row = model.queue_row(5)
    assert row is not None
    with qtbot.waitSignal(model.loaded, timeout=WAIT):
        qtbot.keyClicks(window.queue_panel.search, row.customer_number)
    idle(qtbot, window)
    assert model.ids() == [row.customer_id]
    assert window.queue_panel.title.text().endswith("(1)")
    with qtbot.waitSignal(model.loaded, timeout=WAIT):
        window.queue_panel.search.clear()
    assert model.rowCount() == total

    with qtbot.waitSignal(model.loaded, timeout=WAIT):
        window.queue_panel.view.sortByColumn(COL_ARREARS, Qt.SortOrder.DescendingOrder)
    idle(qtbot, window)
    amounts = [r.arrears_cents for r in (model.queue_row(i) for i in range(20)) if r]
    assert amounts == sorted(amounts, reverse=True)
    with qtbot.waitSignal(model.loaded, timeout=WAIT):
        window.queue_panel.view.sortByColumn(COL_CUSTOMER, Qt.SortOrder.AscendingOrder)
    idle(qtbot, window)
    ids = model.ids()[:20]
    with database.transaction() as session:
        last = dict(
            session.execute(
                select(Customer.id, Customer.last_name).where(Customer.id.in_(ids))
            ).all()
        )
    names = [last[i] for i in ids]
    assert names == sorted(names)


def test_a_colleagues_change_is_explained_and_the_note_is_kept(
    qtbot: QtBot, window: DeskWindow, database: Database
) -> None:
    customer_id = next_customer(qtbot, window)
    dialog = open_log_dialog(window)
    dialog.choose(dialog.outcome, Outcome.REACHED.value)
    dialog.choose(dialog.step_kind, NextStepKind.CALLBACK.value)
    dialog.step_due.setDateTime(QDateTime(datetime.now() + timedelta(days=2)))
    qtbot.keyClicks(dialog.note, "Afgesproken: betaalt vrijdag.")
    with database.transaction() as session:  # a colleague, meanwhile
        customer = session.get(Customer, customer_id)
        assert customer is not None
        customer.best_time = "morning" if customer.best_time == "evening" else "evening"
        changed_to = customer.best_time
    old_version = window.current_file().version  # type: ignore[union-attr]
    with qtbot.waitSignal(window.file_shown, timeout=WAIT):
        qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    idle(qtbot, window)
    assert dialog.isVisible()
    # The conflict dialog explains it; the agent goes back to the form.
    conflict = window.recorder.conflict_dialog
    assert conflict is not None and conflict.isVisible()
    assert conflict.mine_text("Note") == "Afgesproken: betaalt vrijdag."
    qtbot.mouseClick(conflict.keep_editing, Qt.MouseButton.LeftButton)
    assert not conflict.isVisible() and window.recorder.conflict_dialog is None
    assert "A colleague changed this customer" in dialog.notice.text()
    assert dialog.note.toPlainText() == "Afgesproken: betaalt vrijdag."
    file = window.current_file()
    assert file is not None and file.version > old_version and file.best_time == changed_to
    # Saving again now works, with the kept text.
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT)
    idle(qtbot, window)
    assert window.customer_panel.timeline.item(0, 2).text() == "Afgesproken: betaalt vrijdag."


def test_shortcuts_are_in_menus_tooltips_and_the_help(qtbot: QtBot, window: DeskWindow) -> None:
    actions = window.actions_
    assert actions.log_contact.shortcut().toString() == "F2"
    assert "(F2)" in actions.log_contact.toolTip()
    assert not actions.arrangement.isEnabled()
    assert "plan instalments" in actions.arrangement.toolTip()
    keys = dict(window.shortcuts())
    for key in ("F2", "F3", "F4", "F5", "F6", "F8", "F9", "Ctrl+K", "/", "Ctrl+Q"):
        assert key in keys
    dialog = window.show_shortcuts()
    assert dialog.table.rowCount() == len(keys)
    dialog.close()
    actions.search.trigger()
    qtbot.waitUntil(window.queue_panel.search.hasFocus, timeout=WAIT)


def test_the_status_bar_shows_database_connection_and_agent(window: DeskWindow) -> None:
    assert "sqlite" in window.database_label.text()
    assert "embedded" in window.database_label.text()
    assert "Connected" in window.connection_label.text()
    assert "Sanne de Vries" in window.agent_label.text()
    assert "agent" in window.agent_label.text()
