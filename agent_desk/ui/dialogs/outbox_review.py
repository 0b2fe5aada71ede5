"""The agent's review list: work kept offline that could not be applied as it was.

It reads and decides through the desk's ``OfflineWork``, whose writer thread does the
file I/O (never the GUI thread); the list shows a decision at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from agent_desk.i18n import Translator
from agent_desk.ui.plain import PlainLabel

if TYPE_CHECKING:  # loaded by the time there is anything to review
    from agent_desk.services.outbox import OperationKind, OutboxOperation, Resolution
    from agent_desk.ui.live_sync import OfflineWork


def kind_label(tr: Translator, kind: OperationKind) -> str:
    from agent_desk.services.outbox import OperationKind

    labels = {
        OperationKind.CONTACT_ATTEMPT: tr("Contact attempt"),
        OperationKind.NOTE: tr("Note"),
        OperationKind.PROMISE: tr("Promise to pay"),
        OperationKind.NEXT_STEP: tr("Next step"),
    }
    return labels[kind]


class OutboxReviewDialog(QDialog):
    """Lists conflicts and failures; each is retried on the latest data or discarded."""

    resolved = Signal(str, str)  # operation id, resolution

    def __init__(self, tr: Translator, offline: OfflineWork, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("outboxReviewDialog")
        self.tr_, self.offline = tr, offline
        self.setWindowTitle(tr("Work to review"))
        intro = PlainLabel(
            tr(
                "This work was saved on this computer while the connection was down, but a "
                "colleague changed the customer meanwhile or the rules refused it. Nothing is "
                "dropped until you decide."
            )
        )
        intro.setWordWrap(True)
        self.table = QTableWidget(0, 4)
        self.table.setObjectName("outboxTable")
        self.table.setAccessibleName(tr("Work to review"))
        self.table.setHorizontalHeaderLabels(
            [tr("Saved at"), tr("What"), tr("Customer"), tr("Why it was not applied")]
        )
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.retry_button = QPushButton(tr("Apply on the latest"))
        self.retry_button.setObjectName("retryButton")
        self.discard_button = QPushButton(tr("Discard"))
        self.discard_button.setObjectName("discardButton")
        close = QPushButton(tr("Close"))
        from agent_desk.services.outbox import Resolution

        self.retry_button.clicked.connect(lambda: self.resolve_selected(Resolution.RETRY_ON_LATEST))
        self.discard_button.clicked.connect(lambda: self.resolve_selected(Resolution.DISCARD))
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addWidget(self.retry_button)
        buttons.addWidget(self.discard_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.operations: list[OutboxOperation] = []
        self.resize(760, 360)
        self.reload()

    def reload(self) -> None:
        self.operations = self.offline.conflicts()
        self.table.setRowCount(len(self.operations))
        for row, op in enumerate(self.operations):
            values = (
                op.created_at.astimezone().strftime("%d-%m-%Y %H:%M"),
                kind_label(self.tr_, op.kind),
                str(op.customer_id),
                op.error or "",
            )
            for column, text in enumerate(values):
                self.table.setItem(row, column, QTableWidgetItem(text))
        if self.operations:
            self.table.selectRow(0)
        self._selection_changed()

    def _selection_changed(self) -> None:
        chosen = self.selected() is not None
        self.retry_button.setEnabled(chosen)
        self.discard_button.setEnabled(chosen)

    def selected(self) -> OutboxOperation | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.operations):
            return None
        return self.operations[rows[0].row()]

    def resolve_selected(self, action: Resolution) -> None:
        op = self.selected()
        if op is None:
            return
        operation_id = op.operation_id
        self.offline.resolve(
            op, action, lambda _done: self.resolved.emit(operation_id, action.value)
        )
        self.reload()
