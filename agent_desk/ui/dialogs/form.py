"""A small form dialog that shows each validation error next to its field.

Dialogs never talk to the database: they emit ``submitted`` with plain values; the
window runs the service on the worker and answers with ``show_error`` (a
``ValidationError`` names its field), ``show_notice`` (a conflict: the typed text
stays) or ``accept``. They are opened with ``open()``, so nothing blocks the loop.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from agent_desk.i18n import Translator
from agent_desk.ui.plain import PlainLabel


class FormDialog(QDialog):
    submitted = Signal(object)

    def __init__(self, tr: Translator, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tr_ = tr
        self.setWindowTitle(title)
        heading = PlainLabel(title)
        heading.setObjectName("dialogTitle")
        heading.setWordWrap(True)
        self.setMinimumWidth(520)
        self.notice = PlainLabel()
        self.notice.setObjectName("notice")
        self.notice.setWordWrap(True)
        self.notice.hide()
        self.form = QFormLayout()
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        self.form.setVerticalSpacing(6)
        self.errors: dict[str, QLabel] = {}
        self.buttons = QDialogButtonBox()
        self.save = QPushButton(tr("Save"))
        self.save.setObjectName("saveButton")
        self.save.setDefault(True)
        cancel = QPushButton(tr("Cancel"))
        cancel.setObjectName("cancelButton")
        cancel.setAutoDefault(False)
        self.buttons.addButton(self.save, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(cancel, QDialogButtonBox.ButtonRole.RejectRole)
        self.save.clicked.connect(self._submit)
        cancel.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        layout.setContentsMargins(20, 16, 20, 14)
        layout.addWidget(heading)
        layout.addWidget(self.notice)
        layout.addLayout(self.form)
        layout.addStretch(1)
        layout.addWidget(self.buttons)

    def add_field(self, label: str, widget: QWidget, *fields: str) -> None:
        """A labelled input with an (initially hidden) error line under it."""
        box = QWidget()
        inner = QVBoxLayout(box)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.setSpacing(2)
        inner.addWidget(widget)
        error = PlainLabel()
        error.setObjectName("fieldError")
        error.setWordWrap(True)
        error.hide()
        inner.addWidget(error)
        for field in fields:
            self.errors[field] = error
        self.form.addRow(PlainLabel(label), box)

    def _submit(self) -> None:
        self.clear_errors()
        payload = self.payload()
        if payload is not None:
            self.set_busy(True)
            self.submitted.emit(payload)

    def payload(self) -> object | None:
        """The values to save, or None after showing an error (override)."""
        raise NotImplementedError

    def set_busy(self, busy: bool) -> None:
        self.save.setEnabled(not busy)

    def clear_errors(self) -> None:
        for label in self.errors.values():
            label.hide()
        self.notice.hide()

    def show_error(self, field: str | None, message: str) -> None:
        """Put the message beside its field; unknown fields go to the top notice."""
        self.set_busy(False)
        label = self.errors.get(field or "")
        if label is None:
            self.show_notice(message)
            return
        label.setText("⚠ " + message)
        label.show()

    def show_notice(self, message: str) -> None:
        self.set_busy(False)
        self.notice.setText("⚠ " + message)
        self.notice.show()

    def error_text(self, field: str) -> str:
        label = self.errors.get(field)
        return label.text() if label is not None and not label.isHidden() else ""
