"""What happens when the agent records something: dialog → service on worker → answer.

A ``ValidationError`` goes next to its field; a ``ConflictError`` loads the latest file
and opens a ``ConflictDialog``: the colleague's changes since the agent saw the file
beside the agent's typed values; "Save mine on the latest" saves them on the fresh
version, "Keep editing" returns to the form (which stays open with everything typed).
On success the dialog closes and the file and queue refresh.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QWidget

from agent_desk.domain.actor import Actor
from agent_desk.domain.scripts import ScriptOutcome
from agent_desk.domain.verification import VerificationFlow, VerificationResult
from agent_desk.errors import (
    AgentDeskError,
    ConflictError,
    DatabaseUnavailableError,
    ValidationError,
)
from agent_desk.ui.dialogs.conflict import ConflictDialog
from agent_desk.ui.dialogs.form import FormDialog
from agent_desk.ui.dialogs.log_contact import ContactInput, LogContactDialog
from agent_desk.ui.dialogs.next_step import NextStepDialog, StepInput
from agent_desk.ui.dialogs.note import NoteDialog, NoteInput
from agent_desk.ui.dialogs.pause import PauseDialog, PauseInput
from agent_desk.ui.dialogs.promise import PromiseDialog, PromiseInput
from agent_desk.ui.dialogs.verification import VerificationDialog
from agent_desk.ui.labels import Words
from agent_desk.ui.worker import DatabaseWorker

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from agent_desk.services.activity import Keep, NextStepInput
    from agent_desk.services.conflicts import ChangeLine
    from agent_desk.services.customer_file import CustomerFile
    from agent_desk.services.verification import VerificationData
    from agent_desk.ui.live_sync import OfflineWork

Task = Callable[["Session"], object]
#: Keeps a save that could not reach the database: ``keep(customer_id, base_version)``
#: returns something when it was kept in the offline outbox, None when it cannot be.
Keeper = Callable[[int, int | None], object | None]


class Recorder:
    def __init__(
        self,
        parent: QWidget,
        worker: DatabaseWorker,
        actor: Actor,
        words: Words,
        clock: Callable[[], datetime],
        current_file: Callable[[], CustomerFile | None],
        saved: Callable[[int], None],
        conflicted: Callable[[int], None],
        unexpected: Callable[[BaseException], None],
    ) -> None:
        self.parent = parent
        self.worker = worker
        self.actor = actor
        self.words = words
        self.clock = clock
        self.current_file = current_file
        self.saved = saved
        self.conflicted = conflicted
        self.unexpected = unexpected
        self.dialog: FormDialog | None = None
        self.verification_dialog: VerificationDialog | None = None
        #: What the call script recorded for a customer id (prefills the F2 dialog).
        self.script_outcome: Callable[[int], ScriptOutcome | None] | None = None
        #: Called with the customer and the promise once F3 saved it (the script shows it).
        self.promise_saved: Callable[[int, PromiseInput], None] | None = None
        #: The offline outbox (set by the desk); None: saves need the connection.
        self.offline: OfflineWork | None = None
        #: Told the customer id after a save was kept on this computer, and whether
        #: it was queued behind earlier offline work while the connection was up.
        self.kept: Callable[[int, bool], None] | None = None
        #: The open conflict dialog (tests look at it), if any.
        self.conflict_dialog: ConflictDialog | None = None
        #: customer id -> (version, when this desk first showed that version): what
        #: the agent saw, so a conflict lists only colleagues' changes after it.
        self.seen: dict[int, tuple[int, datetime]] = {}
        shown = getattr(parent, "file_shown", None)
        if shown is not None:
            shown.connect(lambda _customer_id: self._note_seen(self.current_file()))

    def _note_seen(self, file: CustomerFile | None) -> None:
        if file is None:
            return
        known = self.seen.get(file.id)
        if known is None or known[0] != file.version:
            self.seen[file.id] = (file.version, self.clock())

    def _seen_since(self, customer_id: int) -> datetime:
        """When the desk showed the version of the file the agent was working on."""
        known = self.seen.get(customer_id)
        return known[1] if known is not None else self.clock()

    def log_contact(self) -> FormDialog | None:
        file = self.current_file()
        if file is None:
            return None
        dialog = LogContactDialog(self.words, file, self.clock(), self.parent)
        outcome = self.script_outcome(file.id) if self.script_outcome is not None else None
        if outcome is not None:
            dialog.prefill(outcome)
        dialog.submitted.connect(
            lambda value: self._save(
                dialog, file.id, self._contact(value), self._keep_contact(value), typed=value
            )
        )
        return self._open(dialog)

    def verify(self) -> None:
        """F7: load the contact points, then open the verification dialog on them."""
        from agent_desk.services.verification import load_verification

        file = self.current_file()
        if file is None:
            return
        customer_id = file.id
        self.worker.submit(
            lambda session: load_verification(session, self.actor, customer_id),
            lambda data: self._open_verification(file, data),
            busy=self.words.tr("Loading the contact details…"),
        )

    def _open_verification(self, file: CustomerFile, data: VerificationData) -> None:
        current = self.current_file()
        if current is None or current.id != data.customer_id:
            return  # the agent moved on meanwhile
        flow = VerificationFlow(
            list(data.points),
            self.actor.display_name,
            self.clock(),
            preferences=data.preferences,
            date_of_birth=data.date_of_birth,
        )
        dialog = VerificationDialog(self.words, current, data, flow, self.parent)
        dialog.submitted.connect(
            lambda value: self._save(
                dialog,
                current.id,
                self._verification(value, dialog.opt_outs.values()),
                typed=value,
            )
        )
        self.verification_dialog = dialog
        self._open(dialog)

    def _verification(
        self, value: VerificationResult, opt_outs: tuple[bool, bool] | None = None
    ) -> Callable[[int], Task]:
        def task_for(customer_id: int) -> Task:
            actor, now, version = self.actor, self.clock(), self._version(customer_id)
            file = self.current_file()
            points = (
                {p.id: p.version for p in file.contact_points}
                if file is not None and file.id == customer_id
                else None
            )
            language = self.words.lang

            def task(session: Session) -> Any:
                from agent_desk.services.messages import set_opt_outs
                from agent_desk.services.verification import apply_verification

                result = apply_verification(
                    session,
                    actor,
                    customer_id,
                    value,
                    now=now,
                    expected_version=version,
                    point_versions=points,
                    language=language,
                )
                if opt_outs is not None:  # issue 14: saved with the check
                    set_opt_outs(
                        session,
                        actor,
                        customer_id,
                        email_opt_out=opt_outs[0],
                        sms_opt_out=opt_outs[1],
                        now=now,
                    )
                return result

            return task

        return task_for

    def promise(self) -> FormDialog | None:
        file = self.current_file()
        if file is None:
            return None
        dialog = PromiseDialog(self.words, file, self.clock(), self.parent)
        # One promise: what the script noted (amount, date) is where F3 starts, and
        # what F3 saves shows in the script.
        outcome = self.script_outcome(file.id) if self.script_outcome is not None else None
        if outcome is not None:
            dialog.prefill(outcome.promise_amount_cents, outcome.promise_date)
        dialog.submitted.connect(lambda value: setattr(dialog, "sent", value))
        dialog.accepted.connect(lambda: self._promise_saved(file.id, dialog))
        dialog.submitted.connect(
            lambda value: self._save(
                dialog, file.id, self._promise(value), self._keep_promise(value), typed=value
            )
        )
        return self._open(dialog)

    def _promise_saved(self, customer_id: int, dialog: PromiseDialog) -> None:
        value = getattr(dialog, "sent", None)
        if self.promise_saved is not None and isinstance(value, PromiseInput):
            self.promise_saved(customer_id, value)

    def pause(self) -> FormDialog | None:
        file = self.current_file()
        if file is None:
            return None
        dialog = PauseDialog(self.words, file, self.clock(), self.parent)
        dialog.submitted.connect(
            lambda value: self._save(
                dialog, file.id, self._pause(value), self._keep_pause(value), typed=value
            )
        )
        return self._open(dialog)

    def note(self) -> FormDialog | None:
        """Ctrl+N: a note on the file; kept on this computer when offline."""
        file = self.current_file()
        if file is None:
            return None
        dialog = NoteDialog(self.words, file, self.parent)
        dialog.submitted.connect(
            lambda value: self._save(
                dialog, file.id, self._note(value), self._keep_note(value), typed=value
            )
        )
        return self._open(dialog)

    def next_step(self) -> FormDialog | None:
        """F12: plan the next step without logging a contact; kept when offline."""
        file = self.current_file()
        if file is None:
            return None
        dialog = NextStepDialog(self.words, file, self.clock(), self.parent)
        dialog.submitted.connect(
            lambda value: self._save(
                dialog, file.id, self._next_step(value), self._keep_next_step(value), typed=value
            )
        )
        return self._open(dialog)

    def _open(self, dialog: FormDialog) -> FormDialog:
        self._note_seen(self.current_file())
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.reject()
        self.dialog = dialog
        dialog.open()
        return dialog

    def _version(self, customer_id: int) -> int | None:
        file = self.current_file()
        return file.version if file is not None and file.id == customer_id else None

    def _contact(self, value: ContactInput) -> Callable[[int], Task]:
        def task_for(customer_id: int) -> Task:
            from agent_desk.services.activity import log_contact_attempt

            actor, now, version = self.actor, self.clock(), self._version(customer_id)
            step = _contact_step(value)
            return lambda session: log_contact_attempt(
                session,
                actor,
                customer_id,
                channel=value.channel,
                direction=value.direction,
                outcome=value.outcome,
                note=value.note,
                next_step=step,
                now=value.started_at or now,
                expected_version=version,
            )

        return task_for

    def _promise(self, value: PromiseInput) -> Callable[[int], Task]:
        def task_for(customer_id: int) -> Task:
            from agent_desk.services.activity import record_promise

            actor, now, version = self.actor, self.clock(), self._version(customer_id)
            return lambda session: record_promise(
                session,
                actor,
                customer_id,
                amount_cents=value.amount_cents,
                due_date=value.due_date,
                now=now,
                expected_version=version,
            )

        return task_for

    def _pause(self, value: PauseInput) -> Callable[[int], Task]:
        def task_for(customer_id: int) -> Task:
            from agent_desk.services.activity import set_pause

            actor, now, version = self.actor, self.clock(), self._version(customer_id)
            return lambda session: set_pause(
                session,
                actor,
                customer_id,
                until=value.until,
                reason=value.reason,
                now=now,
                expected_version=version,
            )

        return task_for

    def _note(self, value: NoteInput) -> Callable[[int], Task]:
        def task_for(customer_id: int) -> Task:
            from agent_desk.services.activity import add_note

            actor, now = self.actor, self.clock()
            return lambda session: add_note(session, actor, customer_id, value.text, now)

        return task_for

    def _next_step(self, value: StepInput) -> Callable[[int], Task]:
        def task_for(customer_id: int) -> Task:
            from agent_desk.services.activity import NextStepInput, plan_next_step

            actor, now, version = self.actor, self.clock(), self._version(customer_id)
            step = NextStepInput(value.kind, value.due_at, value.note)
            return lambda session: plan_next_step(
                session, actor, customer_id, step, now, expected_version=version
            )

        return task_for

    def _keep_pause(self, value: PauseInput) -> Keeper:
        def keep(customer_id: int, version: int | None) -> object | None:
            offline = self.offline
            return offline.keep_pause(customer_id, version, value) if offline else None

        return keep

    def _keep_note(self, value: NoteInput) -> Keeper:
        def keep(customer_id: int, _version: int | None) -> object | None:
            offline = self.offline
            return offline.keep_note(customer_id, value.text) if offline else None

        return keep

    def _keep_next_step(self, value: StepInput) -> Keeper:
        def keep(customer_id: int, version: int | None) -> object | None:
            from agent_desk.services.activity import NextStepInput

            offline = self.offline
            step = NextStepInput(value.kind, value.due_at, value.note)
            return offline.keep_next_step(customer_id, version, step) if offline else None

        return keep

    def _keep_contact(self, value: ContactInput) -> Keeper:
        def keep(customer_id: int, version: int | None) -> object | None:
            from agent_desk.services.activity import KEEP

            offline = self.offline
            if offline is None:
                return None
            if value.keep_next_step:
                # The outbox carries "keep" itself, so the replay keeps the step the
                # database has then (``OfflineWork.keep_contact`` only knows new steps).
                return offline.outbox.enqueue_contact_attempt(
                    customer_id=customer_id,
                    base_version=version,
                    agent_login=offline.actor.login,
                    now=offline.clock(),
                    channel=value.channel,
                    direction=value.direction,
                    outcome=value.outcome,
                    note=value.note,
                    next_step=KEEP,
                )
            return offline.keep_contact(customer_id, version, value)

        return keep

    def _keep_promise(self, value: PromiseInput) -> Keeper:
        def keep(customer_id: int, version: int | None) -> object | None:
            offline = self.offline
            return offline.keep_promise(customer_id, version, value) if offline else None

        return keep

    def _save(
        self,
        dialog: FormDialog,
        customer_id: int,
        task_for: Callable[[int], Task],
        keep: Keeper | None = None,
        *,
        typed: object = None,
    ) -> None:
        version = self._version(customer_id)
        since = self._seen_since(customer_id)
        offline = self.offline
        if keep is not None and offline is not None and offline.waiting_for(customer_id):
            # Earlier offline work for this customer is not sent yet: this save goes
            # behind it in the outbox, so the database sees them in the agent's order.
            try:
                kept = keep(customer_id, version)
            except AgentDeskError as refused:
                if isinstance(refused, ValidationError):
                    dialog.show_error(refused.field, self.words.tr.error(refused))
                else:
                    dialog.show_notice(self.words.tr.error(refused))
                return
            if kept is not None:
                dialog.accept()
                if self.kept is not None:
                    self.kept(customer_id, True)
                return

        def done(_result: object) -> None:
            dialog.accept()
            self.saved(customer_id)

        def failed(error: BaseException) -> None:
            tr = self.words.tr
            if isinstance(error, DatabaseUnavailableError) and keep is not None:
                try:
                    kept = keep(customer_id, version)
                except AgentDeskError as refused:
                    error, kept = refused, None
                if kept is not None:
                    dialog.accept()
                    if self.kept is not None:
                        self.kept(customer_id, False)
                    return
            if isinstance(error, ValidationError):
                dialog.show_error(error.field, tr.error(error))
            elif isinstance(error, ConflictError):
                self.conflicted(customer_id)  # loads the latest file first (one worker)
                self._explain_conflict(dialog, customer_id, since, typed)
            elif isinstance(error, AgentDeskError):
                dialog.show_notice(tr.error(error))
            else:
                dialog.set_busy(False)
                self.unexpected(error)

        self.worker.submit(task_for(customer_id), done, failed, busy=self.words.tr("Saving…"))

    def _explain_conflict(
        self, dialog: FormDialog, customer_id: int, since: datetime, typed: object
    ) -> None:
        """Colleague's changes beside the agent's typed values; the form stays as typed."""
        from agent_desk.services.conflicts import colleague_changes

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

        self.worker.submit(
            lambda session: colleague_changes(session, customer_id, since, exclude),
            show,
            lookup_failed,
            busy=tr("Loading what your colleague changed…"),
        )


def _contact_step(value: ContactInput) -> NextStepInput | Keep | None:
    """The next step the agent chose in F2: new, kept, or none (the service asks)."""
    from agent_desk.services.activity import KEEP, NextStepInput

    if value.keep_next_step:
        return KEEP
    if value.next_step_kind is None:
        return None
    return NextStepInput(value.next_step_kind, value.next_step_due)
