"""A real outage: the desk talks to PostgreSQL through a TCP proxy that the test cuts.

This is what a home-working agent's VPN does: established connections die and new
ones are refused. The desk must say so, keep every kind of work in the outbox, refuse
to claim new customers with a plain explanation, and send everything exactly once
when the line comes back.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import date

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select
from sqlalchemy.engine import URL

from agent_desk.app import DeskApp
from agent_desk.demo import load_demo
from agent_desk.models import AuditEvent, ContactAttempt, Customer, NextStep, Note, PromiseToPay
from agent_desk.services.database import Database
from agent_desk.services.outbox import OperationKind
from agent_desk.ui.app_window import DeskWindow
from agent_desk.ui.dialogs.log_contact import LogContactDialog
from agent_desk.ui.dialogs.next_step import NextStepDialog
from agent_desk.ui.dialogs.note import NoteDialog
from agent_desk.ui.dialogs.pause import PauseDialog
from agent_desk.ui.dialogs.promise import PromiseDialog
from agent_desk.ui.prompter import RecordingPrompter
from agent_desk.ui.settings import DeskSettings

WAIT = 20_000


class Line:
    """A TCP proxy to PostgreSQL that can be cut (like a VPN dropping) and restored."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._server: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(64)
        self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def cut(self) -> None:
        """Refuse new connections and kill the established ones."""
        server, self._server = self._server, None
        if server is not None:
            with contextlib.suppress(OSError):
                server.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
            server.close()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def line_and_database(
    fresh_pg: Callable[[str], AbstractContextManager[URL]],
) -> Iterator[tuple[Line, Database, Database]]:
    """(line, desk's database through the line, direct database for checking)."""
    with fresh_pg("agent_desk_outage") as url:
        direct = Database(url)
        line = Line(url.host or "127.0.0.1", url.port or 5432)
        through = Database(url.set(host="127.0.0.1", port=line.port))
        try:
            direct.upgrade()
            with direct.transaction() as session:
                load_demo(session, customers=120, seed=3)
            yield line, through, direct
        finally:
            line.cut()
            through.dispose()
            direct.dispose()


def _idle(qtbot: QtBot, window: DeskWindow) -> None:
    qtbot.waitUntil(lambda: window.worker.pending == 0, timeout=WAIT)


def _count(database: Database, model: type, *where: object) -> int:
    with database.transaction() as session:
        statement = select(func.count()).select_from(model).where(*where)  # type: ignore[arg-type]
        return int(session.scalar(statement) or 0)


@pytest.mark.pg
def test_a_dropped_line_keeps_every_kind_of_work_and_sends_it_once(
    qtbot: QtBot, line_and_database: tuple[Line, Database, Database], styled: None
) -> None:
    line, through, direct = line_and_database
    prompter = RecordingPrompter()
    desk = DeskApp(
        through, lang="en", agent_login="sanne", prompter=prompter, settings=DeskSettings()
    )
    desk.start()
    try:
        qtbot.waitUntil(lambda: desk.window is not None, timeout=WAIT)
        window = desk.window
        assert window is not None
        qtbot.waitUntil(lambda: window.live_sync.online is True, timeout=WAIT)
        with qtbot.waitSignal(window.file_shown, timeout=WAIT) as shown:
            window.actions_.next_customer.trigger()
        _idle(qtbot, window)
        customer_id = shown.args[0]
        assert "Connected" in window.connection_label.text()

        line.cut()
        # The listener notices the dead connection on its own: the banner says so.
        qtbot.waitUntil(lambda: "Offline" in window.connection_label.text(), timeout=8_000)

        # A note, a next step, a pause, a call and a promise, all while offline.
        def save(dialog: object) -> None:
            assert dialog is not None
            dialog.save.click()  # type: ignore[attr-defined]
            qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT)  # type: ignore[attr-defined]
            _idle(qtbot, window)

        note = window.recorder.note()
        assert isinstance(note, NoteDialog)
        note.text.setPlainText("Customer starts a new job on 1 December.")
        save(note)
        step = window.recorder.next_step()
        assert isinstance(step, NextStepDialog)
        step.kind.setCurrentIndex(step.kind.findData("letter"))
        step.note.setText("send the 14-day letter first")
        save(step)
        pause = window.recorder.pause()
        assert isinstance(pause, PauseDialog)
        pause.reason.setCurrentText("waiting for income support")
        save(pause)
        call = window.recorder.log_contact()
        assert isinstance(call, LogContactDialog)
        call.outcome.setCurrentIndex(call.outcome.findData("reached"))
        call.note.setPlainText("Explained the pause.")
        call.step_kind.setCurrentIndex(call.step_kind.findData("callback"))
        save(call)
        promise = window.recorder.promise()
        assert isinstance(promise, PromiseDialog)
        promise.amount.setText("25.00")
        save(promise)

        kinds = [op.kind for op in window.offline.pending()]
        assert kinds == [
            OperationKind.NOTE,
            OperationKind.NEXT_STEP,
            OperationKind.PAUSE,
            OperationKind.CONTACT_ATTEMPT,
            OperationKind.PROMISE,
        ]
        waiting = window.customer_panel.waiting
        assert not waiting.isHidden()
        assert "not yet sent" in waiting.text() and "pause" in waiting.text()
        assert "Saved on this computer" in window.statusBar().currentMessage()
        assert _count(direct, Note, Note.customer_id == customer_id) == 0

        # Claiming a new customer needs the line, and the desk says so plainly.
        window.actions_.next_customer.trigger()
        _idle(qtbot, window)
        assert prompter.messages[-1][1] == "Next customer needs the connection"
        assert window.current_file() is not None and window.current_file().id == customer_id  # type: ignore[union-attr]

        line.restore()
        qtbot.waitUntil(lambda: "Connected" in window.connection_label.text(), timeout=WAIT)
        qtbot.waitUntil(lambda: not window.offline.pending(), timeout=WAIT)
        _idle(qtbot, window)
        assert window.customer_panel.waiting.isHidden()

        assert _count(direct, Note, Note.customer_id == customer_id) == 1
        assert (
            _count(
                direct,
                ContactAttempt,
                ContactAttempt.customer_id == customer_id,
                ContactAttempt.note == "Explained the pause.",
            )
            == 1
        )
        assert (
            _count(
                direct,
                PromiseToPay,
                PromiseToPay.customer_id == customer_id,
                PromiseToPay.amount_cents == 2500,
            )
            == 1
        )
        assert (
            _count(
                direct,
                NextStep,
                NextStep.customer_id == customer_id,
                NextStep.note == "send the 14-day letter first",
            )
            == 1
        )
        assert (
            _count(
                direct,
                AuditEvent,
                AuditEvent.customer_id == customer_id,
                AuditEvent.action == "pause",
            )
            == 1
        )
        with direct.transaction() as session:
            customer = session.get(Customer, customer_id)
            assert customer is not None
            assert customer.pause_reason == "waiting for income support"
            assert customer.paused_until is not None and customer.paused_until > date.today()
            # The last thing the agent did decides the next step: checking the promise.
            assert customer.next_step_kind == "promise_check"
        window.close()
    finally:
        desk.shutdown()
