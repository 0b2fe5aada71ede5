"""What happens when the agent records something: dialog → one action path → answer.

Each dialog's values become one ``DeskAction`` (``ui.action_path``): the service call
for the worker and, where the action can wait for the connection, how to keep it in
the outbox. The path routes every answer the same way (field error beside the field,
conflict → ``ConflictDialog``, other refusals → a notice, anything else → the crash
path) and publishes what changed, from which the desk refreshes once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QWidget

from agent_desk.domain.scripts import ScriptOutcome
from agent_desk.domain.verification import VerificationFlow, VerificationResult
from agent_desk.ui.action_path import DeskAction, DeskContext, Keeper
from agent_desk.ui.dialogs.conflict import ConflictDialog
from agent_desk.ui.dialogs.form import FormDialog
from agent_desk.ui.dialogs.log_contact import ContactInput, LogContactDialog
from agent_desk.ui.dialogs.next_step import NextStepDialog, StepInput
from agent_desk.ui.dialogs.note import NoteDialog, NoteInput
from agent_desk.ui.dialogs.pause import PauseDialog, PauseInput
from agent_desk.ui.dialogs.promise import PromiseDialog, PromiseInput
from agent_desk.ui.dialogs.verification import VerificationDialog

# The services are imported where they are used, on the worker (the desk's window is
# built before SQLAlchemy loads: see ui.deferred_database).
if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from agent_desk.services.activity import Keep, NextStepInput
    from agent_desk.services.customer_file import CustomerFile
    from agent_desk.services.outbox import OutboxOperation
    from agent_desk.services.verification import VerificationData
    from agent_desk.ui.live_sync import OfflineWork

Task = Callable[["Session"], object]


class Recorder:
    def __init__(self, desk: DeskContext) -> None:
        self.desk = desk
        self.parent: QWidget = desk.parent
        self.worker = desk.worker
        self.actor = desk.actor
        self.words = desk.words
        self.clock = desk.clock
        self.current_file = desk.current_file
        self.actions = desk.actions
        self.dialog: FormDialog | None = None
        self.verification_dialog: VerificationDialog | None = None
        #: What the call script recorded for a customer id (prefills the F2 dialog).
        self.script_outcome: Callable[[int], ScriptOutcome | None] | None = None
        #: Called with the customer and the promise once F3 saved it (the script shows it).
        self.promise_saved: Callable[[int, PromiseInput], None] | None = None
        shown = getattr(self.parent, "file_shown", None)
        if shown is not None:
            shown.connect(lambda _customer_id: self.actions.note_seen(self.current_file()))

    @property
    def conflict_dialog(self) -> ConflictDialog | None:
        """The open conflict dialog (tests look at it), if any."""
        return self.actions.conflict_dialog

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
                dialog,
                file.id,
                self._contact(value),
                self._keep_contact(file.id, value),
                typed=value,
            )
        )
        return self._open(dialog)

    def verify(self) -> None:
        """F7: load the contact points, then open the verification dialog on them."""
        file = self.current_file()
        if file is None:
            return
        customer_id, actor = file.id, self.actor

        def load(session: Session) -> VerificationData:
            from agent_desk.services.verification import load_verification

            return load_verification(session, actor, customer_id)

        self.worker.submit(
            load,
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
                dialog,
                file.id,
                self._promise(value),
                self._keep_promise(file.id, value),
                typed=value,
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
                dialog, file.id, self._pause(value), self._keep_pause(file.id, value), typed=value
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
                dialog, file.id, self._note(value), self._keep_note(file.id, value), typed=value
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
                dialog,
                file.id,
                self._next_step(value),
                self._keep_next_step(file.id, value),
                typed=value,
            )
        )
        return self._open(dialog)

    def _open(self, dialog: FormDialog) -> FormDialog:
        self.actions.note_seen(self.current_file())
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
            actor, now, version = self.actor, self.clock(), self._version(customer_id)
            step = _contact_step(value)

            def task(session: Session) -> object:
                from agent_desk.services.activity import log_contact_attempt

                return log_contact_attempt(
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

            return task

        return task_for

    def _promise(self, value: PromiseInput) -> Callable[[int], Task]:
        def task_for(customer_id: int) -> Task:
            actor, now, version = self.actor, self.clock(), self._version(customer_id)

            def task(session: Session) -> object:
                from agent_desk.services.activity import record_promise

                return record_promise(
                    session,
                    actor,
                    customer_id,
                    amount_cents=value.amount_cents,
                    due_date=value.due_date,
                    now=now,
                    expected_version=version,
                )

            return task

        return task_for

    def _pause(self, value: PauseInput) -> Callable[[int], Task]:
        def task_for(customer_id: int) -> Task:
            actor, now, version = self.actor, self.clock(), self._version(customer_id)

            def task(session: Session) -> None:
                from agent_desk.services.activity import set_pause

                set_pause(
                    session,
                    actor,
                    customer_id,
                    until=value.until,
                    reason=value.reason,
                    now=now,
                    expected_version=version,
                )

            return task

        return task_for

    def _note(self, value: NoteInput) -> Callable[[int], Task]:
        def task_for(customer_id: int) -> Task:
            actor, now = self.actor, self.clock()

            def task(session: Session) -> object:
                from agent_desk.services.activity import add_note

                return add_note(session, actor, customer_id, value.text, now)

            return task

        return task_for

    def _next_step(self, value: StepInput) -> Callable[[int], Task]:
        def task_for(customer_id: int) -> Task:
            actor, now, version = self.actor, self.clock(), self._version(customer_id)

            def task(session: Session) -> object:
                from agent_desk.services.activity import NextStepInput, plan_next_step

                step = NextStepInput(value.kind, value.due_at, value.note)
                return plan_next_step(
                    session, actor, customer_id, step, now, expected_version=version
                )

            return task

        return task_for

    # Each keeper runs on the outbox's writer thread, with the version the agent saw.

    def _keep_pause(self, customer_id: int, value: PauseInput) -> Keeper:
        return lambda offline, version: offline.keep_pause(customer_id, version, value)

    def _keep_note(self, customer_id: int, value: NoteInput) -> Keeper:
        return lambda offline, _version: offline.keep_note(customer_id, value.text)

    def _keep_next_step(self, customer_id: int, value: StepInput) -> Keeper:
        def keep(offline: OfflineWork, version: int | None) -> OutboxOperation:
            from agent_desk.services.activity import NextStepInput

            step = NextStepInput(value.kind, value.due_at, value.note)
            return offline.keep_next_step(customer_id, version, step)

        return keep

    def _keep_contact(self, customer_id: int, value: ContactInput) -> Keeper:
        def keep(offline: OfflineWork, version: int | None) -> OutboxOperation:
            from agent_desk.services.activity import KEEP

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

    def _keep_promise(self, customer_id: int, value: PromiseInput) -> Keeper:
        return lambda offline, version: offline.keep_promise(customer_id, version, value)

    def _save(
        self,
        dialog: FormDialog,
        customer_id: int,
        task_for: Callable[[int], Task],
        keep: Keeper | None = None,
        *,
        typed: object = None,
    ) -> DeskAction[object]:
        """The one action path: run on the worker (or keep offline), route the answer."""
        action = self.actions.op(customer_id, task_for(customer_id)).form(dialog, typed=typed)
        if keep is not None:
            action.offline(keep)
        action.run()
        return action


def _contact_step(value: ContactInput) -> NextStepInput | Keep | None:
    """The next step the agent chose in F2: new, kept, or none (the service asks)."""
    from agent_desk.services.activity import KEEP, NextStepInput

    if value.keep_next_step:
        return KEEP
    if value.next_step_kind is None:
        return None
    return NextStepInput(value.next_step_kind, value.next_step_due)
