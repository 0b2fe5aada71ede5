"""Ctrl+Shift+A (supervisors): arrangements outside policy waiting for a decision.

Oldest first. For the chosen one the dialog shows why it is outside policy and the
agent's reason; the supervisor approves or declines with a note the agent will see
(required). Each decision runs on the worker, then the list reloads; a colleague who
decided first is explained, never overwritten.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from agent_desk.errors import AgentDeskError, ConflictError
from agent_desk.ui.action_path import DeskContext
from agent_desk.ui.buttons import button_row, plain_button
from agent_desk.ui.dialogs.arrangement import FREQUENCIES
from agent_desk.ui.plain import PlainLabel

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from agent_desk.services.arrangements import (
        PendingApproval,
    )

RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
REASON_MARK = "\nReason given: "  # how agree_arrangement joins the breaches and the reason


def split_reason(text: str) -> tuple[str, str]:
    """(why outside policy, the agent's reason) from the stored text."""
    breaches, _, reason = text.partition(REASON_MARK)
    return breaches.strip(), reason.strip()


class ApprovalsDialog(QDialog):
    loaded = Signal()
    decided = Signal(int)  # customer id, after an approval or a decline is saved

    def __init__(self, desk: DeskContext) -> None:
        super().__init__(desk.parent)
        words = desk.words
        tr = words.tr
        self.desk = desk
        self.tr_, self.words = tr, words
        self.worker, self.actor, self.clock = desk.worker, desk.actor, desk.clock
        self.items: list[PendingApproval] = []
        self.loading = False
        self.setObjectName("approvalsDialog")
        self.setWindowTitle(tr("Arrangements waiting for approval"))
        heading = PlainLabel(tr("Arrangements waiting for approval"))
        heading.setObjectName("dialogTitle")
        intro = PlainLabel(
            tr(
                "These plans are outside policy. Read why the agent needs each one, then "
                "approve or decline it with a note the agent will see."
            )
        )
        intro.setObjectName("hint")
        intro.setWordWrap(True)
        self.notice = PlainLabel()
        self.notice.setObjectName("notice")
        self.notice.setWordWrap(True)
        self.notice.hide()
        self.table = QTableWidget(0, 5)
        self.table.setObjectName("approvalsTable")
        self.table.setHorizontalHeaderLabels(
            [tr("Customer"), tr("Agent"), tr("Plan"), tr("Total"), tr("Asked")]
        )
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(28)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setMinimumHeight(150)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column, width in ((1, 150), (2, 250), (3, 110), (4, 110)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            self.table.setColumnWidth(column, width)
        for column in range(5):
            item = self.table.horizontalHeaderItem(column)
            if item is not None:
                item.setTextAlignment(RIGHT if column == 3 else LEFT)
        self.empty = PlainLabel(tr("Nothing is waiting for approval."))
        self.empty.setObjectName("hint")
        self.empty.hide()

        why_title = PlainLabel(tr("Outside policy because"))
        why_title.setObjectName("sectionTitle")
        self.why = PlainLabel()
        self.why.setObjectName("approvalWhy")
        self.why.setWordWrap(True)
        self.why.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        reason_title = PlainLabel(tr("The agent's reason"))
        reason_title.setObjectName("sectionTitle")
        self.reason = PlainLabel()
        self.reason.setObjectName("approvalReason")
        self.reason.setWordWrap(True)
        self.reason.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        note_title = PlainLabel(tr("Your note to the agent (required)"))
        note_title.setObjectName("sectionTitle")
        self.note = QPlainTextEdit()
        self.note.setObjectName("decisionNote")
        self.note.setTabChangesFocus(True)
        self.note.setFixedHeight(70)
        self.note.setPlaceholderText(tr("e.g. Approved: income confirmed by the payslip."))
        self.note_error = PlainLabel()
        self.note_error.setObjectName("fieldError")
        self.note_error.setWordWrap(True)
        self.note_error.hide()
        self.details = QWidget()
        details = QVBoxLayout(self.details)
        details.setContentsMargins(0, 0, 0, 0)
        details.setSpacing(4)
        for widget in (
            why_title,
            self.why,
            reason_title,
            self.reason,
            note_title,
            self.note,
            self.note_error,
        ):
            details.addWidget(widget)

        self.approve = plain_button(tr("Approve"), "saveButton")
        self.decline = plain_button(tr("Decline"), "declineButton")
        close = plain_button(tr("Close"), "cancelButton")
        buttons = button_row([self.approve, self.decline], close)
        self.approve.clicked.connect(lambda: self.decide(approve=True))
        self.decline.clicked.connect(lambda: self.decide(approve=False))
        close.clicked.connect(self.reject)
        self.table.itemSelectionChanged.connect(self._selected)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 14)
        layout.setSpacing(10)
        layout.addWidget(heading)
        layout.addWidget(intro)
        layout.addWidget(self.notice)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        layout.addWidget(self.details)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(buttons)
        layout.addLayout(row)
        self.resize(900, 620)
        self._show_selected(None)

    # -- loading -------------------------------------------------------------------

    def reload(self) -> None:
        self.loading = True
        self.worker.submit(
            _pending_approvals,
            self._loaded,
            self._failed,
            busy=self.tr_("Loading arrangements waiting for approval…"),
        )

    def _loaded(self, items: list[PendingApproval]) -> None:
        tr, words = self.tr_, self.words
        chosen = self.current()
        keep = chosen.arrangement_id if chosen is not None else None
        self.items = items
        self.table.setRowCount(len(items))
        for row, item in enumerate(items):
            plan = tr(
                "{count} × {frequency}, until {end}",
                count=item.instalment_count,
                frequency=self._frequency(item.frequency),
                end=words.day(item.last_due),
            )
            cells = [
                f"{item.customer_name} · {item.customer_number}",
                item.agent_name or item.agent_login or "",
                plan,
                words.money(item.total_cents),
                words.moment(item.created_at),
            ]
            for column, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                if column == 3:
                    cell.setTextAlignment(RIGHT)
                self.table.setItem(row, column, cell)
        self.table.setVisible(bool(items))
        self.empty.setVisible(not items)
        row = next((r for r, i in enumerate(items) if i.arrangement_id == keep), 0)
        if items:
            self.table.selectRow(row)
        self._show_selected(self.current())
        self.loading = False
        self.loaded.emit()

    def _frequency(self, code: str) -> str:
        known = {f.value: label for f, label in FREQUENCIES.items()}
        return self.tr_(known[code]) if code in known else code

    def _failed(self, error: BaseException) -> None:
        self.loading = False
        self._notice(self.tr_.error(error) if isinstance(error, AgentDeskError) else repr(error))
        self.loaded.emit()

    # -- choosing and deciding -------------------------------------------------------

    def current(self) -> PendingApproval | None:
        rows = self.table.selectionModel().selectedRows() if self.items else []
        if not rows or rows[0].row() >= len(self.items):
            return None
        return self.items[rows[0].row()]

    def select(self, arrangement_id: int) -> None:
        for row, item in enumerate(self.items):
            if item.arrangement_id == arrangement_id:
                self.table.selectRow(row)

    def _selected(self) -> None:
        self._show_selected(self.current())

    def _show_selected(self, item: PendingApproval | None) -> None:
        self.details.setEnabled(item is not None)
        self.approve.setEnabled(item is not None)
        self.decline.setEnabled(item is not None)
        self.note_error.hide()
        if item is None:
            self.why.setText("")
            self.reason.setText("")
            return
        why, reason = split_reason(item.reason)
        self.why.setText(why or "—")
        self.reason.setText(reason or "—")

    def decide(self, *, approve: bool) -> None:
        tr = self.tr_
        item = self.current()
        if item is None:
            return
        self.notice.hide()
        note = self.note.toPlainText().strip()
        if not note:
            self._note_error(tr("Give a reason for your decision; the agent will see it."))
            self.note.setFocus()
            return
        actor, now = self.actor, self.clock()

        def task(session: Session) -> None:
            from agent_desk.services.arrangements import (
                approve_arrangement,
                decline_arrangement,
            )

            service = approve_arrangement if approve else decline_arrangement
            service(
                session,
                actor,
                item.arrangement_id,
                note,
                now,
                expected_version=item.version,
            )

        def done(_result: object) -> None:
            self.note.clear()
            self.decided.emit(item.customer_id)
            self.reload()

        def decided_first(error: BaseException) -> bool:
            # A colleague decided first: there is nothing of ours to save on top of
            # it, so the list says so and shows what is still waiting.
            if isinstance(error, ConflictError):
                self._notice(tr.error(error))
                self.reload()
                return True
            return False

        busy = tr("Approving…") if approve else tr("Declining…")
        self._set_busy(True)
        self.desk.actions.op(item.customer_id, task, busy=busy).form(self, close=False).failure(
            decided_first
        ).success(done).run()

    # -- how the one action path answers in this list --------------------------------

    def show_error(self, field: str | None, message: str) -> None:
        self._set_busy(False)
        if field == "note":
            self._note_error(message)
        else:
            self._notice(message)

    def show_notice(self, message: str) -> None:
        self._set_busy(False)
        self._notice(message)

    def set_busy(self, busy: bool) -> None:
        self._set_busy(busy)

    def _set_busy(self, busy: bool) -> None:
        enabled = not busy and self.current() is not None
        self.approve.setEnabled(enabled)
        self.decline.setEnabled(enabled)

    def _note_error(self, message: str) -> None:
        self.note_error.setText("⚠ " + message)
        self.note_error.show()

    def _notice(self, message: str) -> None:
        self.notice.setText("⚠ " + message)
        self.notice.show()


def _pending_approvals(session: Session) -> list[PendingApproval]:
    from agent_desk.services.arrangements import pending_approvals

    return pending_approvals(session)
