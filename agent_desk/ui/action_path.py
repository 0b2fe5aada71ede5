"""The one path every desk action takes: build it, run it, route its answer, say what changed.

Modelled on Anki's ``CollectionOp(parent, op).success(...).failure(...).run_in_background()``::

    desk.actions.op(customer_id, task, busy=tr("Saving…")) \\
        .form(dialog, typed=value) \\
        .offline(lambda offline, version: offline.keep_note(customer_id, value.text)) \\
        .success(after) \\
        .run()

``run()`` chooses the way: when earlier offline work for the customer is still
waiting, the save goes behind it in the outbox (the database sees the agent's order);
otherwise the task runs on the database worker, and a ``DatabaseUnavailableError``
keeps the save in the outbox when the action can be kept. Every answer is routed the
same way, for every action:

- a ``ValidationError`` goes beside its field of the form (``show_error``);
- a ``ConflictError`` loads the latest file and opens the ``ConflictDialog``
  (the colleague's changes beside the agent's typed values; "Save mine on the latest"
  presses Save again on the fresh version);
- any other ``AgentDeskError`` becomes a notice in the form (or a message);
- anything else goes to the crash path (``unexpected``).

On success the form closes and the runner publishes **what changed**:
``changed(ChangeSummary, initiator)``, gathered from the change-log rows the task's
own transaction wrote (no read back). The desk refreshes once from it; live sync
skips the same rows when they come back (their ``origin`` is this desk's).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QDialog, QWidget

from agent_desk.errors import (
    AgentDeskError,
    ConflictError,
    DatabaseUnavailableError,
    ValidationError,
)
from agent_desk.ui.dialogs.conflict import ConflictDialog
from agent_desk.ui.dialogs.form import FormDialog
from agent_desk.ui.labels import Words
from agent_desk.ui.worker import DatabaseWorker

# The services are imported where they are used (on the worker, or once an action
# ran): the desk's window is built before SQLAlchemy loads (ui.deferred_database).
if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from agent_desk.services.actor import Actor
    from agent_desk.services.conflicts import ChangeLine
    from agent_desk.services.customer_file import CustomerFile
    from agent_desk.services.outbox import OutboxOperation
    from agent_desk.services.sync import ChangeSummary
    from agent_desk.ui.live_sync import OfflineWork
    from agent_desk.ui.prompter import Prompter
    from agent_desk.ui.settings import DeskSettings

T = TypeVar("T")

#: Keeps an action in the outbox: ``keep(offline, base_version)``; runs on the
#: outbox's own writer thread, never on the GUI thread.
Keeper = Callable[["OfflineWork", int | None], "OutboxOperation"]
#: A failure an action handles itself first; True: handled, nothing more to do.
FailureHook = Callable[[BaseException], bool]


class Answers(Protocol):
    """Where an action's answer shows: a ``FormDialog``, or any screen that can."""

    def show_error(self, field: str | None, message: str) -> None: ...

    def show_notice(self, message: str) -> None: ...

    def set_busy(self, busy: bool) -> None: ...


@dataclass(frozen=True)
class Done(Generic[T]):
    """What a task gave back, and the change-log rows its transaction wrote."""

    result: T
    changes: ChangeSummary


class ActionRunner(QObject):
    """The desk's one action path (see the module doc); one per desk window."""

    #: ChangeSummary of an action's own changes, and who started it (a dialog, a panel).
    changed = Signal(object, object)
    #: An action was kept on this computer: customer id, and whether it went behind
    #: earlier offline work while the connection was up.
    kept = Signal(int, bool)

    def __init__(
        self,
        parent: QWidget,
        worker: DatabaseWorker,
        actor: Actor,
        words: Words,
        clock: Callable[[], datetime],
        current_file: Callable[[], CustomerFile | None],
        *,
        conflicted: Callable[[int], None],
        unexpected: Callable[[BaseException], None],
    ) -> None:
        super().__init__(parent)
        self.parent_widget = parent
        self.worker = worker
        self.actor = actor
        self.words = words
        self.clock = clock
        self.current_file = current_file
        self.conflicted = conflicted
        self.unexpected = unexpected
        #: The offline outbox (set by the desk); None: actions need the connection.
        self.offline: OfflineWork | None = None
        #: The open conflict dialog (tests look at it), if any.
        self.conflict_dialog: ConflictDialog | None = None
        #: customer id -> (version, when this desk first showed that version): what
        #: the agent saw, so a conflict lists only colleagues' changes after it.
        self.seen: dict[int, tuple[int, datetime]] = {}
        #: Actions run through this path (tests count them).
        self.runs = 0

    # -- what the agent saw ----------------------------------------------------------

    def note_seen(self, file: CustomerFile | None) -> None:
        if file is None:
            return
        known = self.seen.get(file.id)
        if known is None or known[0] != file.version:
            self.seen[file.id] = (file.version, self.clock())

    def seen_since(self, customer_id: int) -> datetime:
        """When the desk showed the version of the file the agent was working on."""
        known = self.seen.get(customer_id)
        return known[1] if known is not None else self.clock()

    def version(self, customer_id: int | None) -> int | None:
        file = self.current_file()
        return file.version if file is not None and file.id == customer_id else None

    # -- building ----------------------------------------------------------------------

    def op(
        self, customer_id: int | None, task: Callable[[Session], T], *, busy: str = ""
    ) -> DeskAction[T]:
        return DeskAction(self, customer_id, task, busy or self.words.tr("Saving…"))

    # -- the conflict dialog -------------------------------------------------------------

    def explain_conflict(
        self, dialog: FormDialog, customer_id: int, since: datetime, typed: object
    ) -> None:
        """Colleague's changes beside the agent's typed values; the form stays as typed."""
        tr = self.words.tr
        notice = tr(
            "A colleague changed this customer while you were working. Nothing was "
            "overwritten and your text is kept: check the latest file, then save again."
        )
        exclude = self.actor.agent_id

        def show(changes: list[ChangeLine]) -> None:
            dialog.show_notice(notice)
            if not dialog.isVisible():
                return
            file = self.current_file()
            name = file.name if file is not None and file.id == customer_id else ""
            conflict = ConflictDialog(self.words, name, changes, typed, dialog)
            self.conflict_dialog = conflict

            def decided(result: int) -> None:
                self.conflict_dialog = None
                if result == ConflictDialog.DialogCode.Accepted and dialog.isVisible():
                    dialog.save.click()  # the same values, on the version now loaded

            conflict.finished.connect(decided)
            dialog.finished.connect(conflict.reject)  # the form closed: nothing to decide
            conflict.open()

        def lookup_failed(_error: BaseException) -> None:
            dialog.show_notice(notice)

        def lookup(session: Session) -> list[ChangeLine]:
            from agent_desk.services.conflicts import colleague_changes

            return colleague_changes(session, customer_id, since, exclude)

        self.worker.submit(
            lookup,
            show,
            lookup_failed,
            busy=tr("Loading what your colleague changed…"),
        )


class DeskAction(Generic[T]):
    """One action, built step by step and started with ``run()`` (see the module doc)."""

    def __init__(
        self,
        runner: ActionRunner,
        customer_id: int | None,
        task: Callable[[Session], T],
        busy: str,
    ) -> None:
        self.runner = runner
        self.customer_id = customer_id
        self.task = task
        self.busy = busy
        self.dialog: Answers | None = None
        self.close_on_success = True
        self.typed: object = None
        self.keeper: Keeper | None = None
        self.initiator: object = None
        self._success: list[Callable[[T], None]] = []
        self._failure: FailureHook | None = None
        self._conflict_dialog = True

    def form(self, dialog: Answers, *, typed: object = None, close: bool = True) -> DeskAction[T]:
        """Answer in this form: errors beside their fields; on success it is accepted
        (``close=False``: a list that stays open, such as the approvals)."""
        self.dialog, self.typed, self.close_on_success = dialog, typed, close
        self.initiator = self.initiator or dialog
        return self

    def offline(self, keeper: Keeper) -> DeskAction[T]:
        """Without the connection, keep the action in the outbox this way."""
        self.keeper = keeper
        return self

    def success(self, done: Callable[[T], None]) -> DeskAction[T]:
        self._success.append(done)
        return self

    def failure(self, hook: FailureHook) -> DeskAction[T]:
        """Look at an error first (True: handled); the usual routing does the rest."""
        self._failure = hook
        return self

    def by(self, initiator: object) -> DeskAction[T]:
        """Who started the action (published with the changes, so it can skip itself)."""
        self.initiator = initiator
        return self

    # -- running ---------------------------------------------------------------------------

    def run(self) -> None:
        runner = self.runner
        runner.runs += 1
        self.version = runner.version(self.customer_id)
        self.since = runner.seen_since(self.customer_id) if self.customer_id else runner.clock()
        offline = runner.offline
        if (
            self.keeper is not None
            and offline is not None
            and self.customer_id is not None
            and offline.waiting_for(self.customer_id)
        ):
            # Earlier offline work for this customer is not sent yet: this save goes
            # behind it in the outbox, so the database sees them in the agent's order.
            self._keep(offline, behind=True, refused=self._refused)
            return
        task = self.task

        def work(session: Session) -> Done[T]:
            from agent_desk.services import changelog

            made = changelog.made_changes(session)
            result = task(session)
            session.flush()  # the rows the commit would write, written now: counted
            return Done(result, _summary(made))

        runner.worker.submit(work, self._done, self._failed, busy=self.busy)

    def _keep(
        self, offline: OfflineWork, *, behind: bool, refused: Callable[[BaseException], None]
    ) -> None:
        keeper, version, customer_id = self.keeper, self.version, self.customer_id
        assert keeper is not None and customer_id is not None

        def kept(_operation: object) -> None:
            self._close()
            self.runner.kept.emit(customer_id, behind)

        offline.keep(lambda: keeper(offline, version), kept, refused)

    def _refused(self, error: BaseException) -> None:
        """The outbox's own checks refused what the agent typed."""
        self._route(error)

    def _close(self) -> None:
        if isinstance(self.dialog, QDialog) and self.close_on_success:
            self.dialog.accept()
        elif self.dialog is not None:
            self.dialog.set_busy(False)

    def _done(self, done: Done[T]) -> None:
        self._close()
        # The action's own follow-up first (it may move the desk on), then what changed.
        for callback in self._success:
            callback(done.result)
        changes = done.changes
        if changes.empty and self.customer_id is not None:
            from agent_desk.services.sync import ChangeSummary

            # Written by a database function the session does not see (PostgreSQL):
            # at least the customer's file is fresh again.
            changes = ChangeSummary(0, 1, customer_ids=frozenset({self.customer_id}))
        self.runner.changed.emit(changes, self.initiator)

    def _failed(self, error: BaseException) -> None:
        offline = self.runner.offline
        if (
            isinstance(error, DatabaseUnavailableError)
            and self.keeper is not None
            and offline is not None
            and self.customer_id is not None
        ):
            self._keep(offline, behind=False, refused=self._refused)
            return
        self._route(error)

    def _route(self, error: BaseException) -> None:
        if self._failure is not None and self._failure(error):
            return
        runner, dialog, tr = self.runner, self.dialog, self.runner.words.tr
        if isinstance(error, ValidationError) and dialog is not None:
            dialog.show_error(error.field, tr.error(error))
        elif isinstance(error, ConflictError) and self.customer_id is not None:
            runner.conflicted(self.customer_id)  # loads the latest file first (one worker)
            if isinstance(dialog, FormDialog):
                runner.explain_conflict(dialog, self.customer_id, self.since, self.typed)
            elif dialog is not None:
                dialog.show_notice(tr.error(error))
        elif isinstance(error, AgentDeskError) and dialog is not None:
            dialog.show_notice(tr.error(error))
        elif isinstance(error, AgentDeskError):
            runner.worker.failed.emit(error)  # the window's message for errors no one shows
        else:
            if dialog is not None:
                dialog.set_busy(False)
            runner.unexpected(error)


def _summary(rows: list[dict[str, Any]]) -> ChangeSummary:
    from agent_desk.services.sync import Change, ChangeSummary

    changes = [
        Change(0, row["table_name"], int(row["row_id"]), row["kind"], row["customer_id"])
        for row in rows
    ]
    return ChangeSummary.of(changes, 0)


@dataclass(frozen=True)
class DeskContext:
    """What a dialog of the desk needs, in one object instead of a dozen arguments."""

    parent: QWidget
    worker: DatabaseWorker
    actor: Actor
    words: Words
    clock: Callable[[], datetime]
    prompter: Prompter
    current_file: Callable[[], CustomerFile | None]
    actions: ActionRunner
    settings: DeskSettings | None = None
    status: Callable[[str], None] = lambda _text: None
    unexpected: Callable[[BaseException], None] = lambda _error: None
