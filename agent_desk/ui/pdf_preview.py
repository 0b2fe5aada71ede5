"""PDF pages in the desk without QtPdf: pypdfium2 draws each page into a ``QImage``.

QtPdf is not in the PySide6 wheels, so ``pypdfium2`` rasterizes the pages. PDFium is
not thread-safe, so every PDF job (reportlab rendering and PDFium rasterizing) runs on
one dedicated background thread (``PdfRunner``); results come back to the GUI thread
through a queued signal, like the database worker. The GUI thread never renders.

``PdfPreview`` shows the pages one under the other in a scroll area, with the page
count, zoom in/out and fit-to-width. ``print_images`` paints rendered pages onto a
``QPrinter`` (a real printer or a PDF file) at the paper's full size.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPainter, QPixmap, QResizeEvent
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from agent_desk.i18n import Translator
from agent_desk.ui.plain import PlainLabel

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Screen resolution a zoom of 100 % stands for (CSS pixels).
SCREEN_DPI = 96.0
ZOOM_STEPS = (0.5, 0.67, 0.75, 0.9, 1.0, 1.1, 1.25, 1.5, 1.75, 2.0)
#: Enough for sharp text on paper, small enough to keep a long letter in memory.
PRINT_DPI_MAX = 300.0
PAGE_GAP = 16

# One thread for every PDF job in the process: PDFium must never run on two at once.
_PDF_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="desk-pdf")


# --------------------------------------------------------------------------- rasterizing


def page_count(pdf: bytes) -> int:
    """How many pages ``pdf`` has (call on the PDF thread)."""
    import pypdfium2 as pdfium  # PDFium loads when a letter is first shown

    document = pdfium.PdfDocument(pdf)
    try:
        return len(document)
    finally:
        document.close()


def rasterize(pdf: bytes, dpi: float) -> list[QImage]:
    """Every page of ``pdf`` as an RGB image at ``dpi`` (call on the PDF thread)."""
    import pypdfium2 as pdfium  # PDFium loads when a letter is first shown

    document = pdfium.PdfDocument(pdf)
    images: list[QImage] = []
    try:
        for index in range(len(document)):
            page = document[index]
            try:
                bitmap = page.render(scale=dpi / 72.0, rev_byteorder=True, prefer_bgrx=True)
                try:
                    image = QImage(
                        bitmap.buffer,
                        bitmap.width,
                        bitmap.height,
                        bitmap.stride,
                        QImage.Format.Format_RGBX8888,
                    )
                    images.append(image.copy())  # own the pixels before PDFium frees them
                finally:
                    bitmap.close()
            finally:
                page.close()
    finally:
        document.close()
    return images


def print_images(printer: QPrinter, images: Sequence[QImage]) -> int:
    """Paint ``images`` (one per page, whole sheets) onto ``printer``; pages printed.

    The page range chosen in the print dialog is honoured. Each image fills the sheet
    exactly (``fullPage``), so the address lands in the envelope window.
    """
    if not images:
        return 0
    first = printer.fromPage() or 1
    last = printer.toPage() or len(images)
    chosen = list(images[max(first, 1) - 1 : min(last, len(images))])
    if not chosen:
        return 0
    printer.setFullPage(True)
    painter = QPainter()
    if not painter.begin(printer):
        raise OSError("the printer could not be opened")
    try:
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        for number, image in enumerate(chosen):
            if number > 0 and not printer.newPage():
                raise OSError("the printer did not accept the next page")
            sheet = QRectF(painter.viewport())
            size = QSize(image.width(), image.height()).scaled(
                sheet.size().toSize(), Qt.AspectRatioMode.KeepAspectRatio
            )
            target = QRectF(
                sheet.x() + (sheet.width() - size.width()) / 2,
                sheet.y() + (sheet.height() - size.height()) / 2,
                size.width(),
                size.height(),
            )
            painter.drawImage(target, image)
    finally:
        painter.end()
    return len(chosen)


# --------------------------------------------------------------------------- background jobs


@dataclass
class _Outcome:
    on_done: Callable[[Any], None] | None
    on_error: Callable[[BaseException], None] | None
    result: Any = None
    error: BaseException | None = None


class PdfRunner(QObject):
    """Runs ``job()`` on the PDF thread; ``on_done`` / ``on_error`` run on the GUI thread."""

    busy_changed = Signal(bool)
    _finished = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pending = 0
        self._closed = False
        self._finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    @property
    def pending(self) -> int:
        return self._pending

    def submit(
        self,
        job: Callable[[], T],
        on_done: Callable[[T], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        if self._closed:
            return
        self._pending += 1
        if self._pending == 1:
            self.busy_changed.emit(True)
        _PDF_THREAD.submit(self._run, job, _Outcome(on_done, on_error))

    def _run(self, job: Callable[[], Any], outcome: _Outcome) -> None:
        try:
            outcome.result = job()
        except BaseException as error:
            outcome.error = error
        with contextlib.suppress(RuntimeError):  # the dialog is gone; nobody is waiting
            self._finished.emit(outcome)

    def _deliver(self, outcome: _Outcome) -> None:
        self._pending = max(0, self._pending - 1)
        if self._pending == 0:
            self.busy_changed.emit(False)
        if self._closed:
            return
        if outcome.error is not None:
            if outcome.on_error is not None:
                outcome.on_error(outcome.error)
            else:
                log.error("PDF job failed", exc_info=outcome.error)
            return
        if outcome.on_done is not None:
            outcome.on_done(outcome.result)

    def close(self) -> None:
        """Drop the results of jobs still running (they finish on their own)."""
        self._closed = True


# --------------------------------------------------------------------------- the widget


class PdfPreview(QWidget):
    """The pages of one PDF, as images, in a scroll area with zoom and a page count."""

    pages_shown = Signal(int)  # number of pages, each time new pages are on screen
    failed = Signal(object)  # the PDF could not be rasterized

    def __init__(
        self, tr: Translator, runner: PdfRunner | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("pdfPreview")
        self.tr_ = tr
        self.runner = runner or PdfRunner(self)
        self._pdf: bytes | None = None
        self._pages = 0
        self._zoom = 1.0
        self._fit_width = True
        self._request = 0
        self._labels: list[QLabel] = []
        self._page_size_pt: tuple[float, float] = (595.28, 841.89)  # A4 until we know better

        self.page_label = PlainLabel()
        self.page_label.setObjectName("pageCount")
        self.zoom_out = QPushButton("−")
        self.zoom_out.setObjectName("zoomOut")
        self.zoom_out.setToolTip(tr("Zoom out (Ctrl+-)"))
        self.zoom_out.setShortcut("Ctrl+-")
        self.zoom_label = PlainLabel()
        self.zoom_label.setObjectName("zoomLevel")
        self.zoom_label.setMinimumWidth(48)
        self.zoom_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.zoom_in = QPushButton("+")
        self.zoom_in.setObjectName("zoomIn")
        self.zoom_in.setToolTip(tr("Zoom in (Ctrl++)"))
        self.zoom_in.setShortcut("Ctrl++")
        self.fit = QPushButton(tr("Fit width"))
        self.fit.setObjectName("fitWidth")
        self.fit.setCheckable(True)
        self.fit.setChecked(True)
        for button in (self.zoom_out, self.zoom_in, self.fit):
            button.setAutoDefault(False)
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.zoom_out.clicked.connect(lambda: self._step_zoom(-1))
        self.zoom_in.clicked.connect(lambda: self._step_zoom(+1))
        self.fit.clicked.connect(self._fit_clicked)
        tools = QHBoxLayout()
        tools.setContentsMargins(0, 0, 0, 0)
        tools.addWidget(self.page_label)
        tools.addStretch(1)
        tools.addWidget(self.zoom_out)
        tools.addWidget(self.zoom_label)
        tools.addWidget(self.zoom_in)
        tools.addWidget(self.fit)

        self.pages = QWidget()
        self.pages.setObjectName("pdfPages")
        self.pages_layout = QVBoxLayout(self.pages)
        self.pages_layout.setContentsMargins(PAGE_GAP, PAGE_GAP, PAGE_GAP, PAGE_GAP)
        self.pages_layout.setSpacing(PAGE_GAP)
        self.pages_layout.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.scroll_area = QScrollArea()
        self.scroll_area.setObjectName("pdfScroll")
        self.scroll_area.setWidget(self.pages)
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll_area.setStyleSheet(
            "QScrollArea#pdfScroll, QWidget#pdfPages { background: #8d979c; }"
            "QLabel#pdfPage { background: #ffffff; border: 1px solid #6b767b; }"
        )

        self.message = PlainLabel()
        self.message.setObjectName("previewMessage")
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.progress = QProgressBar()
        self.progress.setObjectName("previewProgress")
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(False)
        self.progress.setFixedWidth(220)
        waiting = QWidget()
        waiting.setObjectName("previewWaiting")
        waiting_layout = QVBoxLayout(waiting)
        waiting_layout.addStretch(1)
        waiting_layout.addWidget(self.message)
        waiting_layout.addWidget(self.progress, 0, Qt.AlignmentFlag.AlignHCenter)
        waiting_layout.addStretch(1)

        self.stack = QStackedWidget()
        self.stack.addWidget(waiting)
        self.stack.addWidget(self.scroll_area)
        self.stack.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(tools)
        layout.addWidget(self.stack, 1)

        self._refit = QTimer(self)
        self._refit.setSingleShot(True)
        self._refit.setInterval(120)
        self._refit.timeout.connect(self._rerender)
        self.show_message("")
        self._update_tools()

    # -- state -------------------------------------------------------------------

    @property
    def pdf(self) -> bytes | None:
        return self._pdf

    def page_count(self) -> int:
        return self._pages if self.stack.currentWidget() is self.scroll_area else 0

    def page_pixmaps(self) -> list[QPixmap]:
        return [label.pixmap() for label in self._labels]

    @property
    def zoom(self) -> float:
        return self._zoom

    # -- showing -----------------------------------------------------------------

    def show_busy(self, text: str) -> None:
        """A message with a moving progress bar, while the letter is being made."""
        self._request += 1  # results still on their way are no longer wanted
        self.message.setText(text)
        self.progress.show()
        self.stack.setCurrentIndex(0)
        self._update_tools()

    def show_message(self, text: str) -> None:
        """Only a message (nothing to show, or why not); the pages are dropped."""
        self._request += 1
        self._pdf, self._pages = None, 0
        self._clear_pages()
        self.message.setText(text)
        self.progress.hide()
        self.stack.setCurrentIndex(0)
        self._update_tools()

    def set_pdf(self, pdf: bytes) -> None:
        """Rasterize ``pdf`` on the PDF thread, then show its pages (``pages_shown``)."""
        self._pdf = pdf
        if self.stack.currentIndex() == 0:
            self.progress.show()
        self._rerender()

    def _rerender(self) -> None:
        pdf = self._pdf
        if pdf is None:
            return
        self._request += 1
        request = self._request
        if self._fit_width:
            self._zoom = self._fitting_zoom()
        ratio = max(1.0, self.devicePixelRatioF())
        dpi = SCREEN_DPI * self._zoom * ratio
        self._update_tools()
        self.runner.submit(
            lambda: _rasterize_with_size(pdf, dpi),
            lambda result: self._rendered(request, ratio, result),
            lambda error: self._render_failed(request, error),
        )

    def _rendered(
        self, request: int, ratio: float, result: tuple[list[QImage], tuple[float, float]]
    ) -> None:
        if request != self._request:
            return
        images, page_size = result
        self._page_size_pt = page_size
        self._clear_pages()
        for number, image in enumerate(images, start=1):
            pixmap = QPixmap.fromImage(image)
            pixmap.setDevicePixelRatio(ratio)
            label = PlainLabel()
            label.setObjectName("pdfPage")
            label.setPixmap(pixmap)
            label.setFixedSize(round(image.width() / ratio) + 2, round(image.height() / ratio) + 2)
            label.setAccessibleName(self.tr_("Page {number}", number=number))
            self.pages_layout.addWidget(label, 0, Qt.AlignmentFlag.AlignHCenter)
            self._labels.append(label)
        self._pages = len(images)
        self.stack.setCurrentWidget(self.scroll_area)
        self._update_tools()
        self.pages_shown.emit(self._pages)

    def _render_failed(self, request: int, error: BaseException) -> None:
        if request != self._request:
            return
        self.show_message(self.tr_("The preview could not be shown."))
        self.failed.emit(error)

    def _clear_pages(self) -> None:
        for label in self._labels:
            self.pages_layout.removeWidget(label)
            label.deleteLater()
        self._labels = []

    # -- zoom --------------------------------------------------------------------

    def _fitting_zoom(self) -> float:
        width = (
            self.scroll_area.viewport().width()
            if self.stack.currentWidget() is self.scroll_area
            else 0
        )
        if width < 100:
            width = self.stack.width() - self.scroll_area.verticalScrollBar().sizeHint().width()
        if width < 100:
            return self._zoom
        page_px = self._page_size_pt[0] / 72.0 * SCREEN_DPI
        zoom = (width - 2 * PAGE_GAP - 4) / page_px
        return max(ZOOM_STEPS[0], min(ZOOM_STEPS[-1], zoom))

    def set_zoom(self, zoom: float) -> None:
        self._fit_width = False
        self.fit.setChecked(False)
        self._zoom = max(ZOOM_STEPS[0], min(ZOOM_STEPS[-1], zoom))
        self._rerender()
        self._update_tools()

    def _step_zoom(self, direction: int) -> None:
        if direction > 0:
            bigger = [z for z in ZOOM_STEPS if z > self._zoom + 0.005]
            self.set_zoom(bigger[0] if bigger else ZOOM_STEPS[-1])
        else:
            smaller = [z for z in ZOOM_STEPS if z < self._zoom - 0.005]
            self.set_zoom(smaller[-1] if smaller else ZOOM_STEPS[0])

    def _fit_clicked(self) -> None:
        self._fit_width = True
        self.fit.setChecked(True)
        self._rerender()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._fit_width and self._pdf is not None:
            self._refit.start()

    def _update_tools(self) -> None:
        shown = self.stack.currentWidget() is self.scroll_area and self._pages > 0
        if shown:
            self.page_label.setText(
                self.tr_("1 page")
                if self._pages == 1
                else self.tr_("{count} pages", count=self._pages)
            )
        else:
            self.page_label.setText("")
        self.zoom_label.setText(f"{round(self._zoom * 100)} %")
        for widget in (self.zoom_out, self.zoom_in, self.fit, self.zoom_label):
            widget.setEnabled(shown)
        self.zoom_out.setEnabled(shown and self._zoom > ZOOM_STEPS[0] + 0.005)
        self.zoom_in.setEnabled(shown and self._zoom < ZOOM_STEPS[-1] - 0.005)


def _rasterize_with_size(pdf: bytes, dpi: float) -> tuple[list[QImage], tuple[float, float]]:
    import pypdfium2 as pdfium  # PDFium loads when a letter is first shown

    document = pdfium.PdfDocument(pdf)
    try:
        size: tuple[float, float] = (595.28, 841.89)
        if len(document):
            page = document[0]
            try:
                width, height = page.get_size()
                size = (float(width), float(height))
            finally:
                page.close()
    finally:
        document.close()
    return rasterize(pdf, dpi), size
