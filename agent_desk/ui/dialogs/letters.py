"""F6: letters for the customer on screen — preview, print, save as PDF, recorded once.

The agent picks the kind (arrangement confirmation, 14-day letter, pause
confirmation, debt-help referral); kinds that do not apply are disabled and say why.
Only an active arrangement is offered for a confirmation; the others are listed but
cannot be chosen, and say why. The letter's data is built on the database worker
(``services.letters``), the PDF is rendered and rasterized on the PDF thread
(``PdfRunner``), and the pages are shown in the dialog. Print and Save as PDF use
exactly the bytes shown and record the letter (``LetterSent`` with its SHA-256 and how
it left, and an audit event): Print as ``printed`` (sent: a 14-day letter starts its
term), Save as PDF as ``saved`` (not sent, starts nothing). The same letter is
recorded once as sent: printing it again, or saving a printed letter, records nothing
new; printing a letter that was only saved records it as printed. A
``ValidationError`` (no address, an invalid IBAN…) is shown plainly and nothing is
written.

Where to save and which printer are asked through a ``LetterOutput``: the real one
opens ``QFileDialog`` / ``QPrintDialog`` window-modally; tests pass a
``ScriptedLetterOutput`` that answers at once (and prints to a PDF file)
(``letter_output``). Which letters apply and when a letter is recorded is
``domain.letter_choices``'s; the chooser is ``letter_kinds``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QImage, QPageSize
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QHBoxLayout,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from agent_desk import letters
from agent_desk.domain.letter_choices import (
    EMAILABLE,
    STARTS_A_TERM,
    RecordedLetters,
    letter_language,
)
from agent_desk.errors import AgentDeskError
from agent_desk.ui.action_path import DeskContext
from agent_desk.ui.dialogs.letter_kinds import LetterChooser
from agent_desk.ui.dialogs.letter_output import LetterOutput, ScriptedLetterOutput
from agent_desk.ui.pdf_preview import PRINT_DPI_MAX, PdfPreview, PdfRunner, print_images, rasterize
from agent_desk.ui.plain import PlainLabel

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from agent_desk.letters import AnyLetter, LetterKind
    from agent_desk.services import letters as letter_service
    from agent_desk.services.actor import Actor
    from agent_desk.services.customer_file import CustomerFile

__all__ = ["LetterOutput", "LettersDialog", "ScriptedLetterOutput"]


# --------------------------------------------------------------------------- the dialog


class LettersDialog(QDialog):
    preview_ready = Signal(int)  # pages, when a letter's preview is on screen
    problem = Signal(str)  # a plain explanation of why the letter cannot be made or sent
    recorded = Signal(object)  # LetterRecord, after a print or save was recorded
    email_requested = Signal()  # "Send by e-mail": the confirmation, PDF attached (issue 14)
    finished_output = Signal(str)  # "print" or "save", after it went through

    def __init__(self, desk: DeskContext, file: CustomerFile, output: LetterOutput) -> None:
        super().__init__(desk.parent)
        words = desk.words
        tr = words.tr
        self.desk = desk
        self.tr_, self.words = tr, words
        self.worker, self.actor, self.clock = desk.worker, desk.actor, desk.clock
        self.file, self.output = file, output
        self.unexpected = desk.unexpected
        self.runner = PdfRunner(self)
        self._token = 0
        self._data: AnyLetter | None = None
        self._pdf: bytes | None = None
        self._busy = False
        self._closed = False  # after close, late answers only refresh the customer file
        self._recorded = RecordedLetters()  # how each PDF was recorded, in this dialog
        self.setObjectName("lettersDialog")
        # The desk's style makes #saveButton teal even when disabled; say it is not ready.
        self.setStyleSheet(
            "QPushButton#saveButton:disabled "
            "{ background: #eef1f1; color: #a3acb0; border-color: #e3e7e8; }"
        )
        self.setWindowTitle(tr("Letters for {name}", name=file.name))
        self.resize(1120, 820)
        self.setMinimumSize(860, 600)

        heading = PlainLabel(tr("Letters for {name}", name=file.name))
        heading.setObjectName("dialogTitle")
        heading.setWordWrap(True)
        language_note = PlainLabel(
            tr("Written in English, the customer's language.")
            if letter_language(file.language) == "en"
            else tr("Written in Dutch, the customer's language.")
        )
        language_note.setObjectName("hint")
        language_note.setWordWrap(True)

        self.chooser = LetterChooser(words, file, self.clock().date())
        self.kind_group, self.kinds = self.chooser.kind_group, self.chooser.kinds
        self.reasons, self.choices = self.chooser.reasons, self.chooser.choices
        self.arrangement = self.chooser.arrangement

        self.notice = PlainLabel()
        self.notice.setObjectName("notice")
        self.notice.setWordWrap(True)
        self.notice.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notice.hide()
        self.status = PlainLabel()
        self.status.setObjectName("letterStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.hide()
        self.progress = QProgressBar()
        self.progress.setObjectName("letterProgress")
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        self.progress.hide()

        self.print_button = QPushButton(tr("Print…"))
        self.print_button.setObjectName("printLetter")
        self.print_button.setShortcut("Ctrl+P")
        self.print_button.setToolTip(
            tr("Print the letter for the post (Ctrl+P); it is recorded as printed, so as sent")
        )
        self.save_button = QPushButton(tr("Save as PDF…"))
        self.save_button.setObjectName("saveButton")
        self.save_button.setShortcut("Ctrl+S")
        self.save_button.setToolTip(
            tr("Save the letter as a PDF file (Ctrl+S); it is recorded as saved, not as sent")
        )
        self.email_button = QPushButton(tr("Send by &e-mail…"))
        self.email_button.setObjectName("emailLetter")
        self.email_button.setAccessibleName(tr("Send the confirmation by e-mail"))
        self.email_button.setToolTip(
            tr("E-mail the confirmation with this PDF to a verified address (preview first)")
        )
        self.email_button.clicked.connect(self.email_requested.emit)
        self.close_button = QPushButton(tr("Close"))
        self.close_button.setObjectName("closeButton")
        for push in (self.print_button, self.save_button, self.email_button, self.close_button):
            push.setAutoDefault(False)
        self.print_button.clicked.connect(self.print_letter)
        self.save_button.clicked.connect(self.save_as_pdf)
        self.close_button.clicked.connect(self.reject)

        side = QWidget()
        side.setObjectName("letterChoices")
        side.setFixedWidth(384)
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.setSpacing(8)
        side_layout.addWidget(heading)
        side_layout.addWidget(language_note)
        kind_title = PlainLabel(tr("Which letter"))
        kind_title.setObjectName("sectionTitle")
        side_layout.addWidget(kind_title)
        side_layout.addWidget(self.chooser)
        side_layout.addWidget(self.notice)
        side_layout.addWidget(self.status)
        side_layout.addWidget(self.progress)
        side_layout.addStretch(1)
        recorded_note = PlainLabel(
            tr(
                "A printed letter is recorded in the customer's file as sent; a letter "
                "saved as PDF is recorded as saved, not sent (a 14-day letter's term starts "
                "only when it is printed). Each keeps a fingerprint of the PDF, so it can be "
                "shown again exactly."
            )
        )
        recorded_note.setObjectName("hint")
        recorded_note.setWordWrap(True)
        side_layout.addWidget(recorded_note)
        buttons = QHBoxLayout()
        buttons.addWidget(self.print_button)
        buttons.addWidget(self.save_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        side_layout.addWidget(self.email_button)  # issue 14: its own row, the panel is narrow
        side_layout.addLayout(buttons)

        self.preview = PdfPreview(tr, self.runner)
        self.preview.pages_shown.connect(self._pages_shown)
        self.preview.failed.connect(self._preview_failed)
        rule = QFrame()
        rule.setObjectName("rule")
        rule.setFrameShape(QFrame.Shape.VLine)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 14)
        layout.setSpacing(16)
        layout.addWidget(side)
        layout.addWidget(rule)
        layout.addWidget(self.preview, 1)

        self.kind_group.buttonToggled.connect(self._kind_toggled)
        self.arrangement.currentIndexChanged.connect(lambda _i: self._arrangement_changed())
        first = self.chooser.first_available()
        if first is not None:
            self.kinds[first].setChecked(True)  # starts the first preview
        else:  # pragma: no cover - the debt-help referral always applies
            self.preview.show_message(tr("No letter applies to this customer."))
        self._update_buttons()

    # -- choices -----------------------------------------------------------------

    def kind(self) -> LetterKind | None:
        return self.chooser.kind()

    def arrangement_id(self) -> int | None:
        return self.chooser.arrangement_id()

    def choose(self, kind: LetterKind, arrangement_id: int | None = None) -> None:
        """Select a kind (and arrangement), as the agent would; starts a new preview."""
        if arrangement_id is not None:
            self.chooser.select_arrangement(arrangement_id)
        button = self.kinds[kind]
        if button.isChecked():
            self.refresh_preview()
        else:
            button.setChecked(True)

    def _kind_toggled(self, button: QRadioButton, checked: bool) -> None:
        if checked:
            self.arrangement.setEnabled(button is self.kinds["arrangement"] and not self._busy)
            self.refresh_preview()

    def _arrangement_changed(self) -> None:
        if self.kind() == "arrangement":
            self.refresh_preview()

    # -- preview -----------------------------------------------------------------

    def refresh_preview(self) -> None:
        """Build the letter's data on the worker, then render it on the PDF thread."""
        kind = self.kind()
        if kind is None:
            return
        tr = self.tr_
        self._token += 1
        token = self._token
        self._data, self._pdf = None, None
        self._hide_messages()
        self.preview.show_busy(tr("Preparing the letter…"))
        self._update_buttons()
        task = self._builder(kind, self.arrangement_id())
        self.worker.submit(
            task,
            lambda data: self._built(token, data),
            lambda error: self._failed(token, error),
            busy=tr("Preparing the letter…"),
        )

    def _builder(
        self, kind: LetterKind, arrangement_id: int | None
    ) -> Callable[[Session], AnyLetter]:
        number, now, agent = self.file.customer_number, self.clock(), self.actor.display_name

        def build(session: Session) -> AnyLetter:
            from agent_desk.services import letters as letter_service  # on the worker

            if kind == "arrangement":
                if arrangement_id is None:
                    raise AgentDeskError("Choose the arrangement to confirm.")
                return letter_service.arrangement_letter_data(session, arrangement_id, now, agent)
            if kind == "fourteen_day":
                return letter_service.fourteen_day_letter_data(session, number, now, agent)
            if kind == "pause":
                return letter_service.pause_letter_data(session, number, now, agent)
            return letter_service.debt_help_letter_data(session, number, now, agent)

        return build

    def _built(self, token: int, data: AnyLetter) -> None:
        if self._closed or token != self._token:
            return
        self.runner.submit(
            lambda: letters.render_pdf(data),
            lambda pdf: self._rendered(token, data, pdf),
            lambda error: self._failed(token, error),
        )

    def _rendered(self, token: int, data: AnyLetter, pdf: bytes) -> None:
        if self._closed or token != self._token:
            return
        self._data, self._pdf = data, pdf
        self.preview.set_pdf(pdf)

    def _pages_shown(self, pages: int) -> None:
        self._update_buttons()
        self.preview_ready.emit(pages)

    def _preview_failed(self, error: BaseException) -> None:
        self._data, self._pdf = None, None
        self._update_buttons()
        self.unexpected(error)

    def _failed(self, token: int, error: BaseException) -> None:
        if self._closed or token != self._token:
            if not isinstance(error, AgentDeskError):
                self.unexpected(error)
            return
        tr = self.tr_
        self._data, self._pdf = None, None
        self.preview.show_message(tr("No preview: this letter cannot be made yet."))
        if isinstance(error, AgentDeskError):
            self.show_problem(tr("This letter cannot be made: {reason}", reason=tr.error(error)))
        else:
            self.show_problem(tr("This letter cannot be made because of an unexpected error."))
            self.unexpected(error)
        self._update_buttons()

    # -- output ------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        return (
            not self._busy
            and self._data is not None
            and self._pdf is not None
            and self.preview.page_count() > 0
        )

    def save_as_pdf(self) -> None:
        if not self.ready or self._data is None or self._pdf is None:
            return
        data, pdf = self._data, self._pdf
        suggested = self.output.default_folder() / letters.default_filename(data)
        self.output.choose_save_path(
            self, self.tr_, suggested, lambda path: self._save_to(path, data, pdf)
        )

    def _save_to(self, path: Path, data: AnyLetter, pdf: bytes) -> None:
        tr = self.tr_
        if not path.suffix:
            path = path.with_suffix(".pdf")
        sha = letters.sha256_hex(pdf)
        self._hide_messages()
        self._set_busy(True, tr("Saving the letter…"))
        if self._recorded.recorded(sha):  # printed or saved before: a copy, not another letter
            self.runner.submit(
                lambda: letters.write_pdf(data, path),
                lambda _written: self._output_done(
                    "save",
                    tr(
                        "Saved as {name}. This letter was already recorded in the "
                        "customer's file, so it is not recorded twice.",
                        name=path.name,
                    ),
                ),
                self._output_failed,
            )
            return
        actor, now, customer_id, arrangement_id = self._who_when()

        def save(session: Session) -> letter_service.LetterRecord:
            from agent_desk.services import letters as letter_service  # on the worker

            return letter_service.generate_letter(
                session,
                actor,
                data,
                path,
                now,
                customer_id=customer_id,
                arrangement_id=arrangement_id,
                delivery="saved",
            )

        def done(record: letter_service.LetterRecord) -> None:
            self._remember(record)
            message = tr(
                "Saved as {name} and recorded in the customer's file as saved, not as sent.",
                name=path.name,
            )
            if data.kind in STARTS_A_TERM:
                message += " " + tr("Its 14-day term starts only when the letter is printed.")
            self._output_done("save", message)

        self._record(save, done, self._output_failed, tr("Saving the letter…"))

    def print_letter(self) -> None:
        if not self.ready or self._data is None or self._pdf is None:
            return
        data, pdf = self._data, self._pdf
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
        printer.setFullPage(True)
        printer.setDocName(f"{letters.default_filename(data).removesuffix('.pdf')}")
        pages = self.preview.page_count()
        self.output.choose_printer(
            self, self.tr_, printer, pages, lambda chosen: self._print_on(chosen, data, pdf)
        )

    def _print_on(self, printer: QPrinter, data: AnyLetter, pdf: bytes) -> None:
        tr = self.tr_
        self._hide_messages()
        self._set_busy(True, tr("Sending the letter to the printer…"))
        dpi = float(min(printer.resolution(), PRINT_DPI_MAX))
        self.runner.submit(
            lambda: rasterize(pdf, dpi),
            lambda images: self._paint(printer, images, data, pdf),
            self._output_failed,
        )

    def _paint(self, printer: QPrinter, images: list[QImage], data: AnyLetter, pdf: bytes) -> None:
        tr = self.tr_
        try:
            print_images(printer, images)
        except OSError as error:
            self._set_busy(False)
            self.show_problem(tr("The letter could not be printed: {reason}", reason=str(error)))
            return
        sha = letters.sha256_hex(pdf)
        if self._recorded.sent(sha):
            self._output_done(
                "print",
                tr(
                    "Sent to the printer. This letter was already recorded in the "
                    "customer's file, so it is not recorded twice."
                ),
            )
            return
        where = printer.outputFileName() or printer.printerName() or "printer"
        written = letters.WrittenLetter(
            path=Path(where),
            sha256=sha,
            kind=data.kind,
            template_version=letters.template_version(data.kind),
            reference=data.reference,
            size=len(pdf),
        )
        actor, now, customer_id, arrangement_id = self._who_when()

        def record(session: Session) -> letter_service.LetterRecord:
            from agent_desk.services import letters as letter_service  # on the worker

            return letter_service.record_letter(
                session,
                actor,
                data,
                written,
                now,
                customer_id=customer_id,
                arrangement_id=arrangement_id,
                delivery="printed",
            )

        def done(record: letter_service.LetterRecord) -> None:
            self._remember(record)
            message = tr("Sent to the printer and recorded in the customer's file as printed.")
            if record.term_ends is not None:
                message += " " + tr(
                    "Post it today: the customer then has up to and including {date} to pay without costs.",
                    date=self.words.day(record.term_ends),
                )
            self._output_done("print", message)

        self._record(record, done, self._printed_not_recorded, tr("Recording the letter…"))

    def _record(
        self,
        task: Callable[[Session], letter_service.LetterRecord],
        done: Callable[[letter_service.LetterRecord], None],
        failed: Callable[[BaseException], None],
        busy: str,
    ) -> None:
        """Recording a letter is a desk action: the one path runs it and publishes what
        changed (the file refreshes from that); this dialog words its own failures
        (a printed letter that was not recorded must not be posted)."""

        def handled(error: BaseException) -> bool:
            failed(error)
            return True

        self.desk.actions.op(self.file.id, task, busy=busy).form(self, close=False).failure(
            handled
        ).success(done).run()

    # How the one action path answers here (its failures are handled above).

    def show_error(self, _field: str | None, message: str) -> None:
        self.show_problem(message)

    def show_notice(self, message: str) -> None:
        self.show_problem(message)

    def set_busy(self, busy: bool) -> None:
        self._set_busy(busy)

    def _printed_not_recorded(self, error: BaseException) -> None:
        """The paper exists but the record does not: say so, so it is not posted."""
        tr = self.tr_
        if self._closed or not isinstance(error, AgentDeskError):
            self._output_failed(error)
            return
        self._set_busy(False)
        self.show_problem(
            tr(
                "The letter was printed but not recorded, so do not post it: {reason}",
                reason=tr.error(error),
            )
        )

    def _who_when(self) -> tuple[Actor, datetime, int, int | None]:
        arrangement_id = self.arrangement_id() if self.kind() == "arrangement" else None
        return self.actor, self.clock(), self.file.id, arrangement_id

    def _remember(self, record: letter_service.LetterRecord) -> None:
        self._recorded.remember(record.sha256, record.delivery)
        if not self._closed:
            self.recorded.emit(record)

    def _output_done(self, what: str, message: str) -> None:
        if self._closed:
            return
        self._set_busy(False)
        self.status.setText("✓ " + message)
        self.status.show()
        self.finished_output.emit(what)

    def _output_failed(self, error: BaseException) -> None:
        tr = self.tr_
        if self._closed:
            if not isinstance(error, (AgentDeskError, OSError)):
                self.unexpected(error)
            return
        self._set_busy(False)
        if isinstance(error, AgentDeskError):
            self.show_problem(tr("Nothing was saved or recorded: {reason}", reason=tr.error(error)))
        elif isinstance(error, OSError):
            self.show_problem(
                tr(
                    "Nothing was saved or recorded: {reason}",
                    reason=error.strerror or str(error),
                )
            )
        else:
            self.show_problem(tr("Nothing was saved or recorded because of an unexpected error."))
            self.unexpected(error)

    # -- state -------------------------------------------------------------------

    def show_problem(self, message: str) -> None:
        self.notice.setText("⚠ " + message)
        self.notice.show()
        self.problem.emit(message)

    def _hide_messages(self) -> None:
        self.notice.hide()
        self.status.hide()

    def _set_busy(self, busy: bool, text: str = "") -> None:
        self._busy = busy
        self.progress.setVisible(busy)
        if busy and text:
            self.status.setText(text)
            self.status.show()
        self.chooser.set_busy(busy)
        self._update_buttons()

    def _update_buttons(self) -> None:
        ready = self.ready
        self.print_button.setEnabled(ready)
        self.save_button.setEnabled(ready)
        self.email_button.setEnabled(ready and self.kind() in EMAILABLE)

    @property
    def busy(self) -> bool:
        return self._busy or self.runner.pending > 0

    def closeEvent(self, event: QCloseEvent) -> None:
        self._closed = True
        self.runner.close()
        super().closeEvent(event)

    def done(self, result: int) -> None:
        self._closed = True
        self.runner.close()
        super().done(result)
