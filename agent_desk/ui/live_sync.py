"""Live sync and offline work for the desk.

``LiveSync`` runs the change listener of the database (``LISTEN/NOTIFY`` on
PostgreSQL, polling on SQLite), hands its callbacks to the GUI thread through queued
signals and reads the change log with a ``ChangeCursor`` on the database worker (the
one thread that owns sessions). What changed comes out as ``changed(ChangeSummary)``;
the desk decides what to refresh.

``OfflineWork`` keeps what the agent saved while the database was out of reach in a
local ``Outbox`` and replays it on the worker when the connection is back.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal

from agent_desk import config
from agent_desk.domain.actor import Actor
from agent_desk.errors import ValidationError
from agent_desk.services.sync import ChangeListener, PollingListener, listener_for
from agent_desk.ui.dialogs.log_contact import ContactInput
from agent_desk.ui.dialogs.pause import PauseInput
from agent_desk.ui.dialogs.promise import PromiseInput
from agent_desk.ui.worker import DatabaseWorker

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from agent_desk.services.activity import NextStepInput
    from agent_desk.services.database import Database
    from agent_desk.services.outbox import OutboxOperation, ReplayResult
    from agent_desk.services.sync import ChangeSummary

ListenerFactory = Callable[..., ChangeListener | PollingListener]


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
        listener_factory: ListenerFactory = listener_for,
    ) -> None:
        from agent_desk.services.sync import ChangeCursor

        super().__init__(parent)
        self.worker = worker
        self.clock = clock
        self.cursor = ChangeCursor()
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

    # -- life cycle --------------------------------------------------------------

    def start(self) -> None:
        """Start from the newest change (the desk has just loaded everything)."""
        from agent_desk.services.sync import latest_change_id

        self.worker.submit(latest_change_id, self._positioned, self._start_failed)

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
        listener = self._factory(
            self.worker.database,
            on_wake=self._woken.emit,
            on_reconnect=self._reconnect.emit,
            on_state=lambda state, reason: self._state.emit(state.value, reason),
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


def outbox_path() -> Path:
    return config.data_dir() / "outbox.sqlite3"


class OfflineWork(QObject):
    """The desk's outbox: keep saves made offline, replay them when back online."""

    replayed = Signal(object)  # ReplayResult

    def __init__(
        self,
        worker: DatabaseWorker,
        actor: Actor,
        clock: Callable[[], datetime],
        path: Path | None = None,
        parent: QObject | None = None,
    ) -> None:
        from agent_desk.services.outbox import Outbox

        super().__init__(parent)
        self.worker = worker
        self.actor = actor
        self.clock = clock
        self.outbox = Outbox(path or outbox_path())
        self.replaying = False
        self.closed = False

    def close(self) -> None:
        """The desk closed: nothing more is kept or replayed through this object."""
        self.closed = True
        self.outbox.close()

    # -- keeping -------------------------------------------------------------------

    # Each keep_* checks what it keeps with the services' own rules (a
    # ``ValidationError`` naming the field) and returns once it is on disk.

    def keep_contact(
        self, customer_id: int, base_version: int | None, value: ContactInput
    ) -> OutboxOperation:
        from agent_desk.services.activity import NextStepInput

        if value.next_step_kind is None:
            raise ValidationError(
                "Choose a next step before you move on: every open customer needs one.",
                "next_step",
            )
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
        return [] if self.closed else self.outbox.pending(self.actor.login)

    def conflicts(self) -> list[OutboxOperation]:
        return self.outbox.conflicts(self.actor.login)

    def replay(self) -> None:
        """Apply the pending operations on the worker (nothing to do: nothing happens)."""
        if self.closed or self.replaying or not self.pending():
            return
        self.replaying = True
        outbox, actor, clock = self.outbox, self.actor, self.clock

        def task(database: Database) -> ReplayResult:
            return outbox.replay(database, actor, clock)

        self.worker.submit_raw(task, self._replayed, self._replay_failed)

    def _replayed(self, result: ReplayResult) -> None:
        self.replaying = False
        if not self.closed:
            self.replayed.emit(result)

    def _replay_failed(self, error: BaseException) -> None:
        from agent_desk.services.outbox import ReplayResult

        self.replaying = False
        if not self.closed:
            self.replayed.emit(
                ReplayResult(0, 0, 0, len(self.pending()), offline=True, error=str(error))
            )
