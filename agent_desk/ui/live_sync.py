"""Live sync and offline work for the desk.

``LiveSync`` runs the change listener of the database (``LISTEN/NOTIFY`` on
PostgreSQL, polling on SQLite), hands its callbacks to the GUI thread through queued
signals and reads the change log with a ``ChangeCursor`` on the database worker (the
one thread that owns sessions). What changed comes out as ``changed(ChangeSummary)``;
the desk decides what to refresh. The desk's own changes (the worker's ``origin``)
neither wake it nor show in those summaries: the action that made them already said
what changed (``ui.action_path``), so the desk does not refresh twice.

``OfflineWork`` keeps what the agent saved while the database was out of reach in a
local ``Outbox`` and replays it on the worker when the connection is back.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal

from agent_desk import config
from agent_desk.errors import ValidationError
from agent_desk.ui.deferred_database import DeferredDatabase
from agent_desk.ui.worker import DatabaseWorker

# The desk's window (and these two with it) is built before SQLAlchemy, the models and
# the services are imported (ui.deferred_database): they are imported where they are
# used, on the database worker or the outbox's writer, once the window is painted.
if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from agent_desk.services.activity import NextStepInput
    from agent_desk.services.actor import Actor
    from agent_desk.services.database import Database
    from agent_desk.services.outbox import (
        Outbox,
        OutboxOperation,
        ReplayResult,
        Resolution,
    )
    from agent_desk.services.sync import (
        ChangeCursor,
        ChangeListener,
        ChangeSummary,
        PollingListener,
    )
    from agent_desk.ui.dialogs.log_contact import ContactInput
    from agent_desk.ui.dialogs.pause import PauseInput
    from agent_desk.ui.dialogs.promise import PromiseInput

ListenerFactory = Callable[..., "ChangeListener | PollingListener"]


class LiveSync(QObject):
    """Keeps a desk in step with the change log; Qt-side owner of one listener."""

    changed = Signal(object)  # ChangeSummary with at least one change
    connection_changed = Signal(bool)  # True online, False offline
    synced = Signal(object)  # datetime of the last successful read
    reconnected = Signal()  # after every (re)connect, once the catch-up read is queued

    _woken = Signal(int)
    _reconnect = Signal()
    _state = Signal(str, str)

    def __init__(
        self,
        worker: DatabaseWorker,
        clock: Callable[[], datetime],
        parent: QObject | None = None,
        *,
        listener_factory: ListenerFactory | None = None,  # None: services.sync.listener_for
    ) -> None:
        super().__init__(parent)
        self.worker = worker
        self.clock = clock
        self._cursor: ChangeCursor | None = None  # made on first use (imports services.sync)
        self.listener: ChangeListener | PollingListener | None = None
        self.online: bool | None = None
        self.last_synced: datetime | None = None
        self._factory = listener_factory
        self._reading = False
        self._again = False
        self._stopped = False
        queued = Qt.ConnectionType.QueuedConnection
        self._woken.connect(self._on_wake, queued)
        self._reconnect.connect(self._on_reconnect, queued)
        self._state.connect(self._on_state, queued)

    @property
    def cursor(self) -> ChangeCursor:
        """The desk's position in the change log (read and moved on the worker)."""
        if self._cursor is None:
            from agent_desk.services.sync import ChangeCursor

            self._cursor = ChangeCursor(own_origin=self.worker.origin)
        return self._cursor

    # -- life cycle --------------------------------------------------------------

    def start(self) -> None:
        """Start from the newest change (the desk has just loaded everything)."""
        self.worker.submit(_latest_change_id, self._positioned, self._start_failed)

    def _positioned(self, last_id: int) -> None:
        if self._stopped:
            return
        self.cursor.last_id = last_id
        self._start_listener()

    def _start_failed(self, _error: BaseException) -> None:
        # Offline from the start: the listener reports it and catches up on reconnect.
        if not self._stopped:
            self._start_listener()

    def _start_listener(self) -> None:
        self.cursor.own_origin = self.worker.origin
        factory = self._factory
        if factory is None:
            from agent_desk.services.sync import listener_for

            factory = listener_for
        listener = factory(
            self.worker.database,
            on_wake=self._woken.emit,
            on_reconnect=self._reconnect.emit,
            on_state=lambda state, reason: self._state.emit(state.value, reason),
            own_origin=self.worker.origin,
        )
        self.listener = listener
        listener.start()

    def stop(self) -> None:
        self._stopped = True
        listener, self.listener = self.listener, None
        if listener is not None:
            listener.stop()

    # -- listener callbacks, now on the GUI thread ---------------------------------

    def _on_wake(self, _max_id: int) -> None:
        self.read()

    def _on_reconnect(self) -> None:
        self.read()
        self.reconnected.emit()

    def _on_state(self, state: str, _reason: str) -> None:
        from agent_desk.services.sync import ConnectionState

        self.set_online(ConnectionState(state) is ConnectionState.ONLINE)

    def set_online(self, online: bool) -> None:
        if self._stopped:
            return
        if online is not self.online:
            self.online = online
            self.connection_changed.emit(online)

    # -- reading -------------------------------------------------------------------

    def read(self) -> None:
        """Read what is new on the worker (one read at a time; a wake meanwhile reads again)."""
        if self._stopped:
            return
        if self._reading:
            self._again = True
            return
        self._reading = True
        cursor = self.cursor

        def task(session: Session) -> ChangeSummary:
            return cursor.read(session)

        self.worker.submit(task, self._read_done, self._read_failed)

    def _read_done(self, summary: ChangeSummary) -> None:
        self._reading = False
        self.last_synced = self.clock()
        self.set_online(True)
        self.synced.emit(self.last_synced)
        if not summary.empty and not self._stopped:
            self.changed.emit(summary)
        if self._again or not summary.complete:
            self._again = False
            self.read()

    def _read_failed(self, _error: BaseException) -> None:
        self._reading = False
        self._again = False
        self.set_online(False)


def _latest_change_id(session: Session) -> int:
    from agent_desk.services.sync import latest_change_id

    return latest_change_id(session)


def outbox_path() -> Path:
    return config.data_dir() / "outbox.sqlite3"


class OfflineWork(QObject):
    """The desk's outbox: keep saves made offline, replay them when back online.

    No outbox I/O runs on the GUI thread: the file is opened, written (and fsynced),
    read and closed on one writer thread of its own (``desk-outbox``), in the order
    the agent saved, and the answer comes back through a queued signal once it is on
    disk; only then does the desk say "saved". The GUI asks ``pending()`` and
    ``waiting_for()`` of an in-memory copy the writer refreshes after every change.
    The writer is not the database worker: a database task hanging on a dead
    connection never holds up keeping work on this computer. The replay itself runs
    on the database worker (it talks to the database).

    The file is opened first on the writer; while the desk's database waits for the
    window's first paint (``DeferredDatabase``), so does the outbox (it imports the
    services), and everything handed to the writer meanwhile waits behind it. ``ready``
    says the file is open (after its first copy); ``close()`` opens it first if it
    was not yet, so nothing handed over is lost.
    """

    replayed = Signal(object)  # ReplayResult
    ready = Signal()  # the outbox file is open and its first copy read
    _delivered = Signal(object)  # (callback, value), from the writer thread

    def __init__(
        self,
        worker: DatabaseWorker,
        actor: Actor,
        clock: Callable[[], datetime],
        path: Path | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.worker = worker
        self.actor = actor
        self.clock = clock
        self.replaying = False
        self.closed = False
        self._pending: list[OutboxOperation] = []
        self._review: list[OutboxOperation] = []  # conflicts and failures to review
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="desk-outbox")
        self._delivered.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        where = path or outbox_path()
        database = worker.database

        def open_outbox() -> Outbox:
            if isinstance(database, DeferredDatabase):
                database.wait_released()  # nothing of the services before the first paint
            from agent_desk.services.outbox import Outbox

            return Outbox(where)

        self._opened: Future[Outbox] = self._writer.submit(open_outbox)
        self._write(lambda: None, self._first_copy)  # the first copy of what is waiting

    def _first_copy(self, _none: object) -> None:
        if self._opened.done() and self._opened.exception() is None:
            self.ready.emit()

    @property
    def outbox(self) -> Outbox:
        """The outbox file (opened on the writer thread; waits for it the first time)."""
        return self._opened.result(timeout=30)

    def close(self) -> None:
        """The desk closed: nothing more is kept or replayed through this object; what
        was handed to the writer is written, then the file is closed."""
        if self.closed:
            return
        self.closed = True
        opened = self._opened

        def close_file() -> None:
            if opened.exception() is None:
                opened.result().close()

        self._writer.submit(close_file)
        self._writer.shutdown(wait=True)

    # -- the writer thread -------------------------------------------------------------

    def _write(
        self,
        job: Callable[[], object],
        done: Callable[[Any], None] | None = None,
        failed: Callable[[BaseException], None] | None = None,
    ) -> None:
        """Run ``job`` on the writer thread, refresh the copy of what is waiting, then
        ``done(result)`` / ``failed(error)`` on the GUI thread."""
        if self.closed:
            return
        login = self.actor.login

        def run() -> None:
            try:
                result: object = job()
            except BaseException as error:
                self._delivered.emit((failed, error, None))
                return
            try:
                copies = (self.outbox.pending(login), self.outbox.conflicts(login))
            except Exception:
                copies = None
            self._delivered.emit((done, result, copies))

        self._writer.submit(run)

    def _deliver(self, outcome: tuple[Any, Any, Any]) -> None:
        callback, value, copies = outcome
        if copies is not None:
            self._pending, self._review = copies
        if callback is not None and not self.closed:
            callback(value)

    def keep(
        self,
        make: Callable[[], OutboxOperation],
        done: Callable[[OutboxOperation], None],
        failed: Callable[[BaseException], None],
    ) -> None:
        """Keep what ``make`` enqueues (on the writer); ``done`` once it is on disk."""
        self._write(make, done, failed)

    def conflicts(self) -> list[OutboxOperation]:
        """The review list: kept work that could not be applied (the last copy, no I/O)."""
        return [] if self.closed else list(self._review)

    def resolve(
        self, operation: OutboxOperation, action: Resolution, done: Callable[[object], None]
    ) -> None:
        """The agent's decision on a conflict, written on the writer thread; the copies
        show it at once (a retried operation waits to be sent again)."""
        from agent_desk.services.outbox import OperationStatus, Resolution

        self._review = [op for op in self._review if op.operation_id != operation.operation_id]
        if action is Resolution.RETRY_ON_LATEST:
            self._pending = [*self._pending, replace(operation, status=OperationStatus.PENDING)]
        operation_id = operation.operation_id
        self._write(lambda: self.outbox.resolve(operation_id, action), done)

    def refresh(self, done: Callable[[object], None] | None = None) -> None:
        """Read what is waiting again (after the file was written elsewhere)."""
        self._write(lambda: None, done)

    # -- keeping -------------------------------------------------------------------

    # Each keep_* checks what it keeps with the services' own rules (a
    # ``ValidationError`` naming the field) and returns once it is on disk.

    def keep_contact(
        self, customer_id: int, base_version: int | None, value: ContactInput
    ) -> OutboxOperation:
        if value.next_step_kind is None:
            raise ValidationError(
                "Choose a next step before you move on: every open customer needs one.",
                "next_step",
            )
        from agent_desk.services.activity import NextStepInput

        return self.outbox.enqueue_contact_attempt(
            customer_id=customer_id,
            base_version=base_version,
            agent_login=self.actor.login,
            now=self.clock(),
            channel=value.channel,
            direction=value.direction,
            outcome=value.outcome,
            note=value.note,
            next_step=NextStepInput(value.next_step_kind, value.next_step_due),
        )

    def keep_promise(
        self, customer_id: int, base_version: int | None, value: PromiseInput
    ) -> OutboxOperation:
        return self.outbox.enqueue_promise(
            customer_id=customer_id,
            base_version=base_version,
            agent_login=self.actor.login,
            now=self.clock(),
            amount_cents=value.amount_cents,
            due_date=value.due_date,
        )

    def keep_note(self, customer_id: int, text: str) -> OutboxOperation:
        return self.outbox.enqueue_note(
            customer_id=customer_id, agent_login=self.actor.login, now=self.clock(), text=text
        )

    def keep_pause(
        self, customer_id: int, base_version: int | None, value: PauseInput
    ) -> OutboxOperation:
        return self.outbox.enqueue_pause(
            customer_id=customer_id,
            base_version=base_version,
            agent_login=self.actor.login,
            now=self.clock(),
            until=value.until,
            reason=value.reason,
        )

    def keep_next_step(
        self, customer_id: int, base_version: int | None, step: NextStepInput
    ) -> OutboxOperation:
        return self.outbox.enqueue_next_step(
            customer_id=customer_id,
            base_version=base_version,
            agent_login=self.actor.login,
            now=self.clock(),
            step=step,
        )

    def waiting_for(self, customer_id: int) -> list[OutboxOperation]:
        """What this agent saved offline for one customer and is not yet sent."""
        return [op for op in self.pending() if op.customer_id == customer_id]

    # -- replaying -----------------------------------------------------------------

    def pending(self) -> list[OutboxOperation]:
        """What this agent kept and is not yet sent (the writer's last copy, no I/O)."""
        return [] if self.closed else list(self._pending)

    def replay(self) -> None:
        """Apply the pending operations on the worker (nothing to do: nothing happens).

        Whether anything waits is read on the writer thread, not from the copy: work
        kept by another path (a review decision, an earlier desk) is sent too."""
        if self.closed or self.replaying:
            return
        self.replaying = True
        self.refresh(lambda _none: self._start_replay())

    def _start_replay(self) -> None:
        if self.closed or not self._pending:
            self.replaying = False
            return
        outbox, actor, clock, origin = self.outbox, self.actor, self.clock, self.worker.origin

        def task(database: Database) -> ReplayResult:
            return outbox.replay(database, actor, clock, origin=origin)

        self.worker.submit_raw(task, self._replayed, self._replay_failed)

    def _replayed(self, result: ReplayResult) -> None:
        # The copy of what waits first (on the writer), then the desk hears of it.
        self.refresh(lambda _none: self._replay_finished(result))

    def _replay_finished(self, result: ReplayResult) -> None:
        self.replaying = False
        if not self.closed:
            self.replayed.emit(result)

    def _replay_failed(self, error: BaseException) -> None:
        from agent_desk.services.outbox import ReplayResult

        self.refresh(
            lambda _none: self._replay_finished(
                ReplayResult(0, 0, 0, len(self._pending), offline=True, error=str(error))
            )
        )
