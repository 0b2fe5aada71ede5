"""Issue 18: one action path, changes with their origin, no outbox I/O on the GUI thread.

On the real desk (SQLite demo database, polling listener): a queue click costs one
worker task and a saved note the save plus one refresh; a conflict on an arrangement
opens the same conflict dialog as one on a contact; a colleague's change still
arrives live while the desk's own echo is skipped; the outbox is never touched from
the GUI thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from agent_desk.domain.codes import Channel, Direction, NextStepKind, Outcome
from agent_desk.errors import DatabaseUnavailableError, PermissionDeniedError
from agent_desk.models import Arrangement, ChangeLog, Customer
from agent_desk.services import activity
from agent_desk.services.actor import actor_for_login
from agent_desk.services.changelog import ORIGIN_KEY
from agent_desk.services.database import Database
from agent_desk.services.outbox import Outbox
from agent_desk.ui.app_window import DeskWindow
from agent_desk.ui.dialogs.arrangement import ArrangementDialog
from agent_desk.ui.dialogs.note import NoteDialog

WAIT = 20_000
LIVE = 3_000


def idle(qtbot: QtBot, window: DeskWindow) -> None:
    qtbot.waitUntil(lambda: window.worker.pending == 0, timeout=WAIT)


def listening(qtbot: QtBot, window: DeskWindow) -> None:
    window.show()
    qtbot.waitUntil(lambda: window.live_sync.listener is not None, timeout=WAIT)
    qtbot.waitUntil(lambda: window.live_sync.online is True, timeout=WAIT)
    idle(qtbot, window)


def settled(qtbot: QtBot, window: DeskWindow, quiet: float = 0.8) -> None:
    """Nothing pending, and no live-sync wake for ``quiet`` seconds (the poller looks
    every 20 ms, so an echo would have come by then)."""
    since = time.monotonic()
    while time.monotonic() - since < quiet:
        qtbot.wait(20)
        if window.worker.pending:
            since = time.monotonic()


def tasks_for(qtbot: QtBot, window: DeskWindow, act: Callable[[], None]) -> int:
    before = window.worker.submitted
    act()
    settled(qtbot, window)
    return window.worker.submitted - before


# -- task counts ---------------------------------------------------------------------


def test_a_queue_click_is_one_task_and_a_saved_note_the_save_and_one_refresh(
    qtbot: QtBot, window: DeskWindow, database: Database
) -> None:
    listening(qtbot, window)
    settled(qtbot, window)
    first = window.queue_model.index(0, 0)
    clicked = tasks_for(qtbot, window, lambda: window.queue_panel.view.activated.emit(first))
    file = window.current_file()
    assert file is not None
    assert clicked == 1  # the file; the hold it took comes back as our own echo: skipped

    dialog = window.recorder.note()
    assert isinstance(dialog, NoteDialog)
    dialog.text.setPlainText("Belt liever na zessen.")
    saved = tasks_for(qtbot, window, dialog.save.click)
    assert not dialog.isVisible()
    assert saved == 2  # the save, then the file once (from what the save changed)
    texts = [
        window.customer_panel.timeline.item(r, 2).text()
        for r in range(window.customer_panel.timeline.rowCount())
    ]
    assert "Belt liever na zessen." in texts  # the one refresh showed it
    with database.transaction() as session:  # the rows say which desk made them
        origins = set(
            session.scalars(select(ChangeLog.origin).where(ChangeLog.customer_id == file.id))
        )
    assert window.worker.origin in origins
    assert window.live_sync.listener is not None and window.live_sync.listener.echoes >= 2


def test_a_colleagues_change_still_arrives_live_and_our_own_echo_does_not(
    qtbot: QtBot, window: DeskWindow, database: Database
) -> None:
    listening(qtbot, window)
    with qtbot.waitSignal(window.file_shown, timeout=WAIT) as shown:
        window.actions_.next_customer.trigger()
    settled(qtbot, window)
    customer_id = int(shown.args[0])
    arrived: list[object] = []
    window.live_sync.changed.connect(arrived.append)

    # A second session with this desk's origin (as its worker would write): no wake.
    with database.transaction() as session:
        session.info[ORIGIN_KEY] = window.worker.origin
        activity.add_note(
            session,
            actor_for_login(session, "sanne"),
            customer_id,
            "Own echo.",
            datetime.now(UTC),
        )
    before = window.worker.submitted
    settled(qtbot, window)
    assert arrived == [] and window.worker.submitted == before

    # A colleague on another desk (another origin): it shows within the second.
    with qtbot.waitSignal(window.file_shown, timeout=LIVE), database.transaction() as session:
        session.info[ORIGIN_KEY] = "9:colleague-desk"
        activity.add_note(
            session,
            actor_for_login(session, "marieke"),
            customer_id,
            "Klant belde terug.",
            datetime.now(UTC),
        )
    assert len(arrived) == 1
    summary = arrived[0]
    assert summary.origins == frozenset({"9:colleague-desk"})  # type: ignore[attr-defined]
    assert summary.own >= 1  # type: ignore[attr-defined]  # our echoes: read, left out


# -- one routing for every action: a conflict on an arrangement ---------------------------


def test_a_conflict_on_an_arrangement_opens_the_conflict_dialog_like_a_contact(
    qtbot: QtBot, window: DeskWindow, database: Database
) -> None:
    with database.transaction() as session:
        taken = select(Arrangement.customer_id)
        customer_id = session.scalar(
            select(Customer.id)
            .where(Customer.arrears_cents >= 150_000, Customer.id.not_in(taken))
            .order_by(Customer.id)
            .limit(1)
        )
    assert customer_id is not None
    with qtbot.waitSignal(window.file_shown, timeout=WAIT):
        window.open_customer(customer_id)
    idle(qtbot, window)
    window.actions_.arrangement.trigger()
    dialog = window.arrangement_dialog
    assert isinstance(dialog, ArrangementDialog)
    qtbot.waitUntil(lambda: dialog.owed is not None, timeout=WAIT)
    dialog.count.setValue(5)
    dialog.recalculate()
    old_version = window.current_file().version  # type: ignore[union-attr]
    now = datetime.now(UTC)
    with database.transaction() as session:  # Daan, meanwhile, on his own desk
        activity.log_contact_attempt(
            session,
            actor_for_login(session, "daan"),
            customer_id,
            channel=Channel.PHONE,
            direction=Direction.OUTBOUND,
            outcome=Outcome.VOICEMAIL,
            note="Voicemail ingesproken.",
            next_step=activity.NextStepInput(NextStepKind.RETRY, now + timedelta(days=1)),
            now=now,
        )
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: (
            window.recorder.conflict_dialog is not None
            and window.recorder.conflict_dialog.isVisible()
        ),
        timeout=WAIT,
    )
    idle(qtbot, window)
    conflict = window.recorder.conflict_dialog
    assert conflict is not None
    assert "Voicemail ingesproken." in "\n".join(conflict.their_texts())
    assert conflict.mine_text("Arrangement").startswith("5 instalments of")  # what I planned
    assert dialog.isVisible()  # the plan the agent made is still there
    file = window.current_file()
    assert file is not None and file.version > old_version  # the latest file is loaded
    with database.transaction() as session:
        assert (
            session.scalar(select(Arrangement.id).where(Arrangement.customer_id == customer_id))
            is None
        )
    # "Save mine on the latest" saves the same plan on the fresh version.
    qtbot.mouseClick(conflict.save_mine, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT)
    idle(qtbot, window)
    with database.transaction() as session:
        saved = session.scalar(select(Arrangement.id).where(Arrangement.customer_id == customer_id))
    assert saved is not None


# -- no outbox I/O on the GUI thread ----------------------------------------------------------


@pytest.fixture
def outbox_threads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[threading.Thread]]:
    """Every thread that writes or reads the outbox file from now on."""
    seen: list[threading.Thread] = []
    real_write, real_select = Outbox._write, Outbox._select

    def write(self: Outbox) -> object:
        seen.append(threading.current_thread())
        return real_write(self)

    def select_(self: Outbox, where: str, params: tuple[object, ...] = ()) -> object:
        seen.append(threading.current_thread())
        return real_select(self, where, params)

    monkeypatch.setattr(Outbox, "_write", write)
    monkeypatch.setattr(Outbox, "_select", select_)
    yield seen


def test_an_offline_save_never_touches_the_outbox_on_the_gui_thread(
    qtbot: QtBot,
    window: DeskWindow,
    outbox_threads: list[threading.Thread],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    listening(qtbot, window)
    with qtbot.waitSignal(window.file_shown, timeout=WAIT) as shown:
        window.actions_.next_customer.trigger()
    idle(qtbot, window)
    customer_id = int(shown.args[0])

    def down(*_args: object, **_kwargs: object) -> object:
        raise DatabaseUnavailableError("Cannot reach the database server.")

    monkeypatch.setattr(activity, "add_note", down)
    outbox_threads.clear()
    first = window.recorder.note()
    assert isinstance(first, NoteDialog)
    first.text.setPlainText("offline, first")
    first.save.click()
    qtbot.waitUntil(lambda: not first.isVisible(), timeout=WAIT)
    assert [op.customer_id for op in window.offline.pending()] == [customer_id]
    second = window.recorder.note()  # behind the first, in order, straight to the outbox
    assert isinstance(second, NoteDialog)
    second.text.setPlainText("offline, second")
    second.save.click()
    qtbot.waitUntil(lambda: not second.isVisible(), timeout=WAIT)
    texts = [op.payload["text"] for op in window.offline.pending()]
    assert texts == ["offline, first", "offline, second"]
    assert "Saved on this computer" in window.statusBar().currentMessage()
    window._show_waiting()
    assert "note" in window.customer_panel.waiting.text()
    assert outbox_threads, "the outbox was not used at all"
    main = threading.main_thread()
    assert all(thread is not main for thread in outbox_threads), "outbox I/O on the GUI thread"
    assert {thread.name.split("_")[0] for thread in outbox_threads} == {"desk-outbox"}


# -- the same routing for every answer -------------------------------------------------------


def test_a_refusal_is_a_notice_and_anything_else_takes_the_crash_path(
    qtbot: QtBot, window: DeskWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    with qtbot.waitSignal(window.file_shown, timeout=WAIT):
        window.actions_.next_customer.trigger()
    idle(qtbot, window)
    crashes: list[BaseException] = []
    monkeypatch.setattr(window, "unexpected", crashes.append)
    monkeypatch.setattr(window.action_path, "unexpected", crashes.append)

    def refused(*_args: object, **_kwargs: object) -> object:
        raise PermissionDeniedError("You may not change this customer.")

    monkeypatch.setattr(activity, "add_note", refused)
    dialog = window.recorder.note()
    assert isinstance(dialog, NoteDialog)
    dialog.text.setPlainText("refused")
    dialog.save.click()
    qtbot.waitUntil(lambda: not dialog.notice.isHidden(), timeout=WAIT)
    assert "may not change this customer" in dialog.notice.text()
    assert dialog.isVisible() and dialog.save.isEnabled() and crashes == []

    def broken(*_args: object, **_kwargs: object) -> object:
        raise RuntimeError("a bug")

    monkeypatch.setattr(activity, "add_note", broken)
    dialog.save.click()
    qtbot.waitUntil(lambda: bool(crashes), timeout=WAIT)
    assert isinstance(crashes[0], RuntimeError)
    assert dialog.isVisible() and dialog.save.isEnabled()  # the text is kept
    assert dialog.text.toPlainText() == "refused"
