"""Supervisor › Import… (Ctrl+Shift+I): customers or payments from the billing system.

The same importer as ``agent-desk import``: all or nothing, idempotent. The file is
read on the database worker in one transaction while a progress dialog shows how far
it got; **Cancel** stops it and rolls back, so nothing is written. Bad rows are
listed with their line numbers next to the file field.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QProgressDialog,
    QVBoxLayout,
    QWidget,
)

from agent_desk.domain.actor import Actor
from agent_desk.i18n import Translator
from agent_desk.ui.buttons import button_row, plain_button
from agent_desk.ui.plain import PlainLabel
from agent_desk.ui.worker import DatabaseWorker

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from agent_desk.services.importers import ImportResult

KINDS = ("customers", "payments")
_STEPS = 1000  # the progress bar's resolution


class ImportDialog(QDialog):
    """Choose what and which file; import with a cancellable progress dialog."""

    imported = Signal(object)  # ImportResult
    _progress = Signal(int)  # from the worker thread: 0..1000

    def __init__(
        self,
        worker: DatabaseWorker,
        actor: Actor,
        tr: Translator,
        clock: Callable[[], datetime],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.worker, self.actor, self.tr_, self.clock = worker, actor, tr, clock
        self.setObjectName("importDialog")
        self.setWindowTitle(tr("Import from the billing system"))
        self.cancel_requested = threading.Event()
        self.progress_dialog: QProgressDialog | None = None
        self.outcome: ImportResult | None = None

        self.kind = QComboBox()
        self.kind.setObjectName("importKind")
        self.kind.addItem(tr("Customers and their claims"), "customers")
        self.kind.addItem(tr("Payments received"), "payments")
        self.path = QLineEdit()
        self.path.setObjectName("importPath")
        self.path.setPlaceholderText(tr("a CSV file (UTF-8, with a header row)"))
        choose = plain_button(tr("Choose…"), "chooseImportFile")
        choose.clicked.connect(self._choose)
        file_row = QHBoxLayout()
        file_row.addWidget(self.path, 1)
        file_row.addWidget(choose)
        self.message = PlainLabel("")
        self.message.setObjectName("importMessage")
        self.message.setWordWrap(True)
        self.problems = QPlainTextEdit()
        self.problems.setObjectName("importProblems")
        self.problems.setReadOnly(True)
        self.problems.setVisible(False)
        form = QFormLayout()
        form.addRow(tr("What"), self.kind)
        form.addRow(tr("File"), file_row)
        explain = PlainLabel(
            tr(
                "All or nothing: every row is checked first; if any row is bad nothing is "
                "imported and each bad row is listed. Importing the same file twice changes "
                "nothing the second time."
            )
        )
        explain.setWordWrap(True)
        self.start_button = plain_button(tr("Import"), "startImport")
        self.start_button.clicked.connect(self.start)
        from agent_desk.ui.keyboard import mark_primary  # kept off the import block

        mark_primary(self.start_button)  # Ctrl+Enter imports
        close = plain_button(tr("Close"), "closeImport")
        close.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(explain)
        layout.addWidget(self.message)
        layout.addWidget(self.problems, 1)
        layout.addWidget(button_row([self.start_button], close))
        self._progress.connect(self._on_progress, Qt.ConnectionType.QueuedConnection)
        self.resize(560, 300)

    def _choose(self) -> None:
        name, _filter = QFileDialog.getOpenFileName(
            self, self.tr_("Choose the CSV file"), "", self.tr_("CSV files (*.csv)")
        )
        if name:
            self.path.setText(name)

    def chosen_kind(self) -> str:
        return str(self.kind.currentData())

    def start(self) -> None:
        from agent_desk.services.importers import import_customers, import_payments

        text = self.path.text().strip()
        if not text:
            self._say(self.tr_("Choose the file to import."))
            return
        path = Path(text)
        if not path.is_file():
            self._say(self.tr_("There is no file {path}.", path=path))
            return
        self._say("")
        self.problems.setVisible(False)
        self.start_button.setEnabled(False)
        self.cancel_requested.clear()
        progress = QProgressDialog(
            self.tr_("Importing {name}…", name=path.name), self.tr_("Cancel"), 0, _STEPS, self
        )
        progress.setObjectName("importProgress")
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(0)
        progress.setAutoClose(False)
        progress.setAutoReset(False)
        progress.canceled.connect(self.cancel)
        progress.setValue(0)
        progress.show()
        self.progress_dialog = progress
        importer = import_customers if self.chosen_kind() == "customers" else import_payments
        actor, now, cancelled, report = (
            self.actor,
            self.clock(),
            self.cancel_requested,
            self._progress,
        )

        def on_progress(done: int, total: int) -> None:  # on the worker thread
            from agent_desk.services.importers import ImportCancelled

            if cancelled.is_set():
                raise ImportCancelled
            report.emit(int(_STEPS * done / max(1, total)))

        def task(session: Session) -> ImportResult:
            return importer(session, actor, path, now, progress=on_progress)

        self.worker.submit(
            task, self._done, self._failed, busy=self.tr_("Importing {name}…", name=path.name)
        )

    def cancel(self) -> None:
        """Stop the import; the worker rolls everything back."""
        self.cancel_requested.set()
        if self.progress_dialog is not None:
            self.progress_dialog.setLabelText(self.tr_("Cancelling; nothing will be imported…"))

    def _on_progress(self, value: int) -> None:
        if self.progress_dialog is not None and not self.cancel_requested.is_set():
            self.progress_dialog.setValue(min(value, _STEPS - 1))

    def _finish(self) -> None:
        self.start_button.setEnabled(True)
        if self.progress_dialog is not None:
            self.progress_dialog.canceled.disconnect(self.cancel)
            self.progress_dialog.close()
            self.progress_dialog.deleteLater()
            self.progress_dialog = None

    def _done(self, result: ImportResult) -> None:
        self._finish()
        self.outcome = result
        self._say(
            self.tr_(
                "Imported: {rows} rows; {created} new, {updated} updated, {unchanged} unchanged.",
                rows=result.rows,
                created=result.created,
                updated=result.updated,
                unchanged=result.unchanged,
            )
        )
        if result.notes:
            self.problems.setPlainText("\n".join(result.notes))
            self.problems.setVisible(True)
        self.imported.emit(result)

    def _failed(self, error: BaseException) -> None:
        from agent_desk.services.importers import ImportCancelled, ImportRejected

        self._finish()
        if isinstance(error, ImportCancelled):
            self._say(self.tr_("The import was cancelled; nothing was imported."))
            return
        if isinstance(error, ImportRejected):
            self._say(
                self.tr_(
                    "{count} bad row(s); nothing was imported. Correct the file and import it "
                    "again.",
                    count=len(error.errors),
                )
            )
            self.problems.setPlainText(
                "\n".join(
                    self.tr_("line {line}: {message}", line=e.line, message=e.message)
                    for e in error.errors[:1000]
                )
            )
            self.problems.setVisible(True)
            return
        self._say(self.tr_.error(error))

    def _say(self, text: str) -> None:
        self.message.setText(text)


class ImportDesk(QObject):
    """The hook for a desk window: the Supervisor › Import… action and its dialog."""

    def __init__(
        self,
        window: QWidget,
        worker: DatabaseWorker,
        actor: Actor,
        tr: Translator,
        clock: Callable[[], datetime],
        *,
        reload_queue: Callable[[], None],
    ) -> None:
        super().__init__(window)
        self.window, self.worker, self.actor, self.tr_, self.clock = (
            window,
            worker,
            actor,
            tr,
            clock,
        )
        self.reload_queue = reload_queue
        self.dialog: ImportDialog | None = None
        self.action = QAction(tr("Import…"), window)
        self.action.setObjectName("importFile")
        self.action.setShortcut(QKeySequence("Ctrl+Shift+I"))
        self.action.setStatusTip(tr("import customers or payments from the billing system"))
        self.action.setVisible(actor.is_supervisor)
        self.action.setEnabled(actor.is_supervisor)
        self.action.triggered.connect(self.open)
        window.addAction(self.action)

    def open(self) -> ImportDialog | None:
        if not self.actor.is_supervisor:
            return None
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.raise_()
            return self.dialog
        dialog = ImportDialog(self.worker, self.actor, self.tr_, self.clock, self.window)
        dialog.imported.connect(lambda _result: self.reload_queue())
        self.dialog = dialog
        dialog.show()
        return dialog
