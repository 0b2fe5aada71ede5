"""The one background worker that owns every database session of the desk.

Anki's ``taskman`` pattern: widgets submit a function of a ``Session``; it runs on a
single background thread inside ``Database.transaction()`` and its result (or error)
comes back to the GUI thread through a queued Qt signal. No SQL ever runs on the GUI
thread, and because there is only one thread, tasks run in the order submitted.

Every session the worker opens carries the desk session's ``origin`` (set by the
desk), so the change-log rows its tasks write say which desk made them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from PySide6.QtCore import QObject, Qt, Signal

if TYPE_CHECKING:  # the desk's first window is shown before SQLAlchemy is imported
    from sqlalchemy.orm import Session

    from agent_desk.services.database import Database

log = logging.getLogger(__name__)

T = TypeVar("T")
Done = Callable[[Any], None]
Failed = Callable[[BaseException], None]


@dataclass
class _Outcome:
    on_done: Done | None
    on_error: Failed | None
    result: Any = None
    error: BaseException | None = None


class DatabaseWorker(QObject):
    """Runs ``task(session)`` on one background thread; reports back on the GUI thread."""

    busy_changed = Signal(str)  # "" when idle, else what is running (already translated)
    failed = Signal(object)  # an error no one handled: the window shows it
    _finished = Signal(object)

    def __init__(self, database: Database, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.database = database
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="desk-db")
        self._pending: list[str] = []
        self._closed = False
        #: The desk session whose changes this worker writes ("<agent id>:<token>").
        self.origin: str | None = None
        #: Every task queued, in order (tests and ``bench/bench_tasks.py`` count them).
        self.submitted = 0
        self._finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    @property
    def pending(self) -> int:
        return len(self._pending)

    def submit(
        self,
        task: Callable[[Session], T],
        on_done: Callable[[T], None] | None = None,
        on_error: Failed | None = None,
        *,
        busy: str = "",
    ) -> None:
        """Queue ``task``; ``on_done(result)`` / ``on_error(error)`` run on the GUI thread."""
        self._queue(task, on_done, on_error, busy, transaction=True)

    def submit_raw(
        self,
        task: Callable[[Database], T],
        on_done: Callable[[T], None] | None = None,
        on_error: Failed | None = None,
        *,
        busy: str = "",
    ) -> None:
        """Like ``submit`` but without a session: ``task(database)`` (migrations, start-up)."""
        self._queue(task, on_done, on_error, busy, transaction=False)

    def _queue(
        self,
        task: Callable[[Any], Any],
        on_done: Callable[[Any], None] | None,
        on_error: Failed | None,
        busy: str,
        *,
        transaction: bool,
    ) -> None:
        if self._closed:
            return
        self.submitted += 1
        self._pending.append(busy)
        self.busy_changed.emit(self._busy_text())
        self._executor.submit(self._run, task, on_done, on_error, transaction)

    def _run(
        self,
        task: Callable[[Any], Any],
        on_done: Done | None,
        on_error: Failed | None,
        transaction: bool,
    ) -> None:
        outcome = _Outcome(on_done, on_error)
        try:
            if transaction:
                with self.database.transaction() as session:
                    self._mark(session)
                    outcome.result = task(session)
            else:
                outcome.result = self._run_raw(task)
        except BaseException as error:
            outcome.error = error
        self._finished.emit(outcome)

    def _run_raw(self, task: Callable[[Any], Any]) -> Any:
        """``task(database)``; the units of work it opens write as this desk."""
        wait = getattr(self.database, "wait_released", None)
        if wait is not None:  # a DeferredDatabase: the services load after the first paint
            wait()
        from agent_desk.services.changelog import working_as

        with working_as(self.origin):
            return task(self.database)

    def _deliver(self, outcome: _Outcome) -> None:
        if self._pending:
            self._pending.pop(0)
        self.busy_changed.emit(self._busy_text())
        if self._closed:
            return
        if outcome.error is not None:
            if outcome.on_error is not None:
                outcome.on_error(outcome.error)
            else:
                self.failed.emit(outcome.error)
            return
        if outcome.on_done is not None:
            outcome.on_done(outcome.result)

    def _busy_text(self) -> str:
        return next((text for text in reversed(self._pending) if text), "")

    def run_and_wait(self, task: Callable[[Session], T]) -> T:
        """Run a last task and block until it is done (only for shutdown: release holds)."""
        future = self._executor.submit(self._blocking, task)
        return future.result(timeout=30)

    def _blocking(self, task: Callable[[Session], T]) -> T:
        with self.database.transaction() as session:
            self._mark(session)
            return task(session)

    def _mark(self, session: Session) -> None:
        from agent_desk.services.changelog import ORIGIN_KEY  # loaded by now (worker thread)

        session.info[ORIGIN_KEY] = self.origin

    def shutdown(self) -> None:
        """Finish queued work, then stop the thread (pending results are dropped)."""
        if self._closed:
            return
        self._closed = True
        self._executor.shutdown(wait=True)
