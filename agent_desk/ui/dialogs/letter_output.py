"""Where a letter goes: the save path and the printer, asked window-modally.

The real :class:`LetterOutput` opens ``QFileDialog`` / ``QPrintDialog``; tests and
screenshots pass a :class:`ScriptedLetterOutput` that answers at once (and prints
into a PDF file).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QStandardPaths, Qt
from PySide6.QtPrintSupport import QAbstractPrintDialog, QPrintDialog, QPrinter
from PySide6.QtWidgets import QFileDialog, QWidget

from agent_desk.i18n import Translator

__all__ = ["LetterOutput", "ScriptedLetterOutput"]


class LetterOutput:
    """Asks where to save and which printer, with real window-modal dialogs."""

    def __init__(self) -> None:
        self.folder: Path | None = None  # the last folder saved to, for next time

    def default_folder(self) -> Path:
        if self.folder is not None and self.folder.is_dir():
            return self.folder
        documents = QStandardPaths.writableLocation(
            QStandardPaths.StandardLocation.DocumentsLocation
        )
        return Path(documents) if documents and Path(documents).is_dir() else Path.home()

    def choose_save_path(
        self,
        parent: QWidget,
        tr: Translator,
        suggested: Path,
        then: Callable[[Path], None],
    ) -> None:
        dialog = QFileDialog(parent, tr("Save the letter as PDF"), str(suggested.parent))
        dialog.setObjectName("saveLetterDialog")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setFileMode(QFileDialog.FileMode.AnyFile)
        dialog.setNameFilter(tr("PDF documents (*.pdf)"))
        dialog.setDefaultSuffix("pdf")
        dialog.selectFile(suggested.name)

        def chosen(name: str) -> None:
            path = Path(name)
            self.folder = path.parent
            then(path)

        dialog.fileSelected.connect(chosen)
        dialog.open()

    def choose_printer(
        self,
        parent: QWidget,
        tr: Translator,
        printer: QPrinter,
        pages: int,
        then: Callable[[QPrinter], None],
    ) -> None:
        dialog = QPrintDialog(printer, parent)
        dialog.setObjectName("printLetterDialog")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setWindowTitle(tr("Print the letter"))
        dialog.setOption(QAbstractPrintDialog.PrintDialogOption.PrintPageRange, True)
        dialog.setMinMax(1, max(1, pages))
        dialog.accepted.connect(lambda: then(printer))
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.show()


class ScriptedLetterOutput(LetterOutput):
    """For tests and screenshots: answers at once, and prints into a PDF file."""

    def __init__(self, save_path: Path | None = None, printer_file: Path | None = None) -> None:
        super().__init__()
        self.save_path = save_path
        self.printer_file = printer_file
        self.asked: list[str] = []

    def choose_save_path(
        self,
        parent: QWidget,
        tr: Translator,
        suggested: Path,
        then: Callable[[Path], None],
    ) -> None:
        self.asked.append(f"save:{suggested.name}")
        if self.save_path is not None:
            then(self.save_path)

    def choose_printer(
        self,
        parent: QWidget,
        tr: Translator,
        printer: QPrinter,
        pages: int,
        then: Callable[[QPrinter], None],
    ) -> None:
        self.asked.append(f"print:{pages}")
        if self.printer_file is not None:
            printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
            printer.setOutputFileName(str(self.printer_file))
            then(printer)
