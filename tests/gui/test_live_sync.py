"""Live sync and offline work on the real desk (SQLite demo database, polling listener)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import date, datetime, timedelta

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select
from sqlalchemy.engine import URL

from agent_desk.app import DeskApp
from agent_desk.demo import load_demo
from agent_desk.errors import DatabaseUnavailableError
from agent_desk.models import Customer, PromiseToPay
from agent_desk.services import activity
from agent_desk.services.actor import actor_for_login
from agent_desk.services.database import Database
from agent_desk.services.outbox import OperationStatus
from agent_desk.services.reassign import ReassignFilter, reassign
from agent_desk.services.sync import ChangeListener, ConnectionState
from agent_desk.ui.app_window import DeskWindow
from agent_desk.ui.dialogs.promise import PromiseDialog, PromiseInput
from agent_desk.ui.prompter import RecordingPrompter
from agent_desk.ui.settings import DeskSettings

WAIT = 20_000
LIVE = 3_000  # a colleague's change shows within this many milliseconds


def idle(qtbot: QtBot, window: DeskWindow) -> None:
    qtbot.waitUntil(lambda: window.worker.pending == 0, timeout=WAIT)


def listening(qtbot: QtBot, window: DeskWindow) -> None:
    qtbot.waitUntil(lambda: window.live_sync.listener is not None, timeout=WAIT)
    qtbot.waitUntil(lambda: window.live_sync.online is True, timeout=WAIT)
    idle(qtbot, window)


def queue_ids(window: DeskWindow) -> set[int]:
    model = window.queue_model
    return {cid for row in range(model.rowCount()) if (cid := model.customer_id(row)) is not None}


def test_a_reassignment_by_the_supervisor_shows_on_the_desk(
    qtbot: QtBot, window: DeskWindow, database: Database
) -> None:
    listening(qtbot, window)
    mine = sorted(queue_ids(window))
    assert mine
    moved = mine[0]
    with database.transaction() as session:
        number = session.get(Customer, moved).customer_number  # type: ignore[union-attr]
        supervisor = actor_for_login(session, "marieke")
        result = reassign(
            session,
            supervisor,
            ReassignFilter(customer_numbers=[number]),
            ["daan"],
            datetime.now().astimezone(),
        )
    assert result.moved == 1
    qtbot.waitUntil(lambda: moved not in queue_ids(window), timeout=LIVE)
    assert "synced" in window.connection_label.text()

    # And back: the customer appears again.
    with database.transaction() as session:
        supervisor = actor_for_login(session, "marieke")
        reassign(
            session,
            supervisor,
            ReassignFilter(customer_numbers=[number]),
            ["sanne"],
            datetime.now().astimezone(),
        )
    qtbot.waitUntil(lambda: moved in queue_ids(window), timeout=LIVE)


def test_a_colleagues_note_refreshes_the_open_file(
    qtbot: QtBot, window: DeskWindow, database: Database
) -> None:
    listening(qtbot, window)
    with qtbot.waitSignal(window.file_shown, timeout=WAIT) as shown:
        window.actions_.next_customer.trigger()
    idle(qtbot, window)
    customer_id = shown.args[0]
    with database.transaction() as session:
        colleague = actor_for_login(session, "marieke")
        activity.add_note(
            session, colleague, customer_id, "Klant belde terug.", datetime.now().astimezone()
        )

    def shows_note() -> bool:
        table = window.customer_panel.timeline
        items = (
            table.item(row, col)
            for row in range(table.rowCount())
            for col in range(table.columnCount())
        )
        return any(item is not None and "Klant belde terug." in item.text() for item in items)

    qtbot.waitUntil(shows_note, timeout=LIVE)


def test_an_open_dialog_keeps_its_text_until_it_closes(
    qtbot: QtBot, window: DeskWindow, database: Database
) -> None:
    listening(qtbot, window)
    with qtbot.waitSignal(window.file_shown, timeout=WAIT) as shown:
        window.actions_.next_customer.trigger()
    idle(qtbot, window)
    customer_id = shown.args[0]
    dialog = window.recorder.log_contact()
    assert dialog is not None
    reloads: list[int] = []
    window.file_shown.connect(reloads.append)
    with database.transaction() as session:
        colleague = actor_for_login(session, "marieke")
        activity.add_note(
            session, colleague, customer_id, "Tussendoor.", datetime.now().astimezone()
        )
    qtbot.waitUntil(lambda: window._stale_file == customer_id, timeout=LIVE)
    assert reloads == []  # nothing reloaded under the dialog
    dialog.reject()
    qtbot.waitUntil(lambda: reloads == [customer_id], timeout=WAIT)


def test_the_status_bar_says_offline_when_the_listener_loses_the_connection(
    qtbot: QtBot, window: DeskWindow
) -> None:
    listening(qtbot, window)
    listener = window.live_sync.listener
    assert listener is not None
    # What the listener does on its own thread when the database is out of reach.
    thread = threading.Thread(
        target=listener.on_state, args=(ConnectionState.OFFLINE, "connection refused")
    )
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: "Offline" in window.connection_label.text(), timeout=LIVE)
    assert window.connection_label.property("offline") == "true"
    window.live_sync.set_online(True)
    assert "Connected" in window.connection_label.text()


def test_a_promise_saved_offline_is_kept_and_sent_once_when_back(
    qtbot: QtBot, window: DeskWindow, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    listening(qtbot, window)
    with qtbot.waitSignal(window.file_shown, timeout=WAIT) as shown:
        window.actions_.next_customer.trigger()
    idle(qtbot, window)
    customer_id = shown.args[0]
    real = activity.record_promise
    calls: list[int] = []

    def down_once(*args: object, **kwargs: object) -> int:
        calls.append(1)
        if len(calls) == 1:
            raise DatabaseUnavailableError("Cannot reach the database server.")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(activity, "record_promise", down_once)
    dialog = window.recorder.promise()
    assert isinstance(dialog, PromiseDialog)
    due = date.today() + timedelta(days=5)
    dialog.submitted.emit(PromiseInput(amount_cents=12_345, due_date=due))
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT)
    assert "Saved on this computer" in window.statusBar().currentMessage()
    assert "Offline" in window.connection_label.text()
    pending = window.offline.pending()
    assert [op.customer_id for op in pending] == [customer_id]
    assert pending[0].base_version is not None

    def promises() -> int:
        with database.transaction() as session:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(PromiseToPay)
                    .where(
                        PromiseToPay.customer_id == customer_id,
                        PromiseToPay.amount_cents == 12_345,
                    )
                )
                or 0
            )

    assert promises() == 0
    # The connection comes back: the desk replays on the worker.
    window.live_sync.set_online(True)
    qtbot.waitUntil(lambda: not window.offline.pending(), timeout=WAIT)
    idle(qtbot, window)
    assert promises() == 1
    assert window.offline.outbox.counts() == {OperationStatus.DONE: 1}
    # A second "reconnect" sends nothing again.
    window.live_sync.set_online(False)
    window.live_sync.set_online(True)
    idle(qtbot, window)
    assert promises() == 1


def test_conflicts_on_replay_go_to_the_review_list(
    qtbot: QtBot, window: DeskWindow, database: Database
) -> None:
    listening(qtbot, window)
    customer_id = sorted(queue_ids(window))[0]
    with database.transaction() as session:
        customer = session.get(Customer, customer_id)
        assert customer is not None
        stale = customer.version - 1
    due = date.today() + timedelta(days=3)
    window.offline.outbox.enqueue_promise(
        customer_id=customer_id,
        base_version=stale,
        agent_login="sanne",
        now=datetime.now().astimezone(),
        amount_cents=5_000,
        due_date=due,
    )
    window.offline.replay()
    qtbot.waitUntil(lambda: window.review_dialog is not None, timeout=WAIT)
    dialog = window.review_dialog
    assert dialog is not None
    assert dialog.table.rowCount() == 1
    what, who = dialog.table.item(0, 1), dialog.table.item(0, 2)
    assert what is not None and who is not None
    assert what.text() == "Promise to pay"
    assert who.text() == str(customer_id)
    dialog.retry_button.click()
    assert dialog.table.rowCount() == 0
    qtbot.waitUntil(lambda: not window.offline.pending(), timeout=WAIT)
    idle(qtbot, window)
    assert window.offline.outbox.counts() == {OperationStatus.DONE: 1}
    dialog.close()


@pytest.fixture
def pg_database(fresh_pg: Callable[[str], AbstractContextManager[URL]]) -> Iterator[Database]:
    """A fresh PostgreSQL database with a small demo, dropped afterwards."""
    with fresh_pg("agent_desk_gui") as url:
        database = Database(url)
        try:
            database.upgrade()
            with database.transaction() as session:
                load_demo(session, customers=120, seed=3)
            yield database
        finally:
            database.dispose()


@pytest.mark.pg
def test_on_postgresql_a_reassignment_arrives_by_notify(
    qtbot: QtBot, pg_database: Database, styled: None
) -> None:
    desk = DeskApp(
        pg_database,
        lang="en",
        agent_login="sanne",
        prompter=RecordingPrompter(),
        settings=DeskSettings(),
    )
    desk.start()
    try:
        qtbot.waitUntil(lambda: desk.window is not None, timeout=WAIT)
        window = desk.window
        assert window is not None
        qtbot.waitUntil(lambda: not window.queue_model.loading, timeout=WAIT)
        listening(qtbot, window)
        assert isinstance(window.live_sync.listener, ChangeListener)
        qtbot.waitUntil(lambda: window.live_sync.listener.backend_pid is not None, timeout=WAIT)  # type: ignore[union-attr]
        moved = sorted(queue_ids(window))[0]
        with pg_database.transaction() as session:
            number = session.get(Customer, moved).customer_number  # type: ignore[union-attr]
            supervisor = actor_for_login(session, "marieke")
            reassign(
                session,
                supervisor,
                ReassignFilter(customer_numbers=[number]),
                ["daan"],
                datetime.now().astimezone(),
            )
        qtbot.waitUntil(lambda: moved not in queue_ids(window), timeout=LIVE)
        window.close()
    finally:
        desk.shutdown()
