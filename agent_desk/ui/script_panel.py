"""Right column: the call script, one step at a time, beside the customer file.

When a file is shown, the engine picks a script for the customer (in the customer's
language) and says why; the agent can switch. Each step shows what to say (large),
what to do (a hint), the choices as buttons with their key ("[1] Yes"), typed fields
for what the step asks, and what was recorded so far. Keys 1-9 (and the letters a
script uses) pick a choice, Alt+Left / Alt+Right go back and forward; they work from
anywhere in the desk window except while typing in a text field, which keeps its
keys. Until the script reaches the identity-confirmed step a banner reminds the
agent not to discuss the debt.

What the run recorded goes into the contact being logged (``current_outcome``) and to
the arrangement calculator (``context_for_calculator``).

At an identity question the panel shows, right under it, what the desk holds for each
detail asked ("date of birth: 12 March 1981"), headed "for you only, never read out":
the agent compares what the caller states. It shows nowhere else in full.

Why this is one room although it is long (about 900 lines): it draws one script run,
step by step, with the widgets only that drawing uses (the wrapped label, the choice
buttons, the typed fields, the identity details); the rules of a run live in the domain
(``domain/scripts/runner.py``) and the choice of script in ``domain/scripts/chooser.py``.
The next seam, should it grow: the identity-detail box and the typed-field editors.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import (
    QAccessible,
    QAccessibleEvent,
    QKeySequence,
    QPaintEvent,
    QResizeEvent,
    QShortcut,
)
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStyle,
    QStyleOptionButton,
    QStylePainter,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from agent_desk.domain.money import format_money, parse_amount
from agent_desk.domain.scripts.chooser import ScriptChoice, choose_script
from agent_desk.domain.scripts.library import ScriptLibrary
from agent_desk.domain.scripts.model import Script, ScriptFormatError
from agent_desk.domain.scripts.runner import ScriptOutcome, ScriptRun
from agent_desk.domain.scripts.vocabulary import RECORD_FIELDS, FieldKind, RecordValue
from agent_desk.domain.team_day import local_day
from agent_desk.errors import AgentDeskError, ValidationError
from agent_desk.i18n import N_, Translator
from agent_desk.resources import resource_path
from agent_desk.ui.labels import OUTCOMES
from agent_desk.ui.plain import PlainLabel

if TYPE_CHECKING:
    from agent_desk.services.customer_file import CustomerFile

#: Labels of the fields a step can ask for or record.
FIELD_LABELS: dict[str, str] = {
    "outcome": N_("Outcome"),
    "vulnerability_disclosed": N_("Shared a difficult situation"),
    "vulnerability_consent": N_("Consent to record it"),
    "debt_help_referral": N_("Referred to debt help"),
    "promise_requested": N_("Promise to pay"),
    "pause_requested": N_("Asked for a pause"),
    "callback_requested": N_("Callback requested"),
    "promise_amount": N_("Amount promised"),
    "promise_date": N_("Pays on"),
    "pause_requested_until": N_("Pause until"),
    "vulnerability_note": N_("What the customer shared (with consent)"),
    "note": N_("Note"),
    "open_arrangement_calculator": N_("Arrangement calculator opened"),
}
#: The identity details a script can ask for (``domain.scripts.IDENTITY_CHECKS``).
CHECK_LABELS: dict[str, str] = {
    "date_of_birth": N_("date of birth"),
    "full_name": N_("full name"),
    "postcode": N_("postcode"),
    "house_number": N_("house number"),
    "customer_number": N_("customer number"),
    "invoice_number": N_("invoice number"),
    "email": N_("e-mail address"),
}
PLACEHOLDERS: dict[FieldKind, str] = {
    FieldKind.MONEY: N_("e.g. 50,00"),
    FieldKind.DATE: N_("e.g. 31-01-2026"),
    FieldKind.TEXT: N_("in a few words"),
}

_TEXT_INPUTS = (QLineEdit, QPlainTextEdit, QTextEdit, QAbstractSpinBox)


@cache
def shipped_library() -> ScriptLibrary:
    """The shipped scripts, loaded once per process (a quarter of a second)."""
    from agent_desk.services.script_files import load_library

    return load_library(resource_path("scripts"))


class WrappedLabel(QLabel):
    """A word-wrapped label that always asks for the height its text needs.

    Inside a scroll area a wrapped label can be laid out for another width and cut
    off; re-asking on every resize and text change keeps whole sentences visible.
    """

    def __init__(self) -> None:
        super().__init__()
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)  # customer data is never markup
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)

    def _fit(self) -> None:
        needed = self.heightForWidth(self.width()) if self.width() > 0 else -1
        if needed > 0 and needed != self.minimumHeight():
            self.setFixedHeight(needed)

    def setText(self, text: str) -> None:
        super().setText(text)
        self._fit()
        self.updateGeometry()

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        if self.width() > 0:
            return QSize(self.width(), max(self.heightForWidth(self.width()), 0))
        return hint

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()


class ChoiceButton(QPushButton):
    """A push button whose label wraps, so a long choice never widens the column."""

    PAD_X, PAD_Y = 10, 7

    def __init__(self, text: str) -> None:
        super().__init__(text)
        policy = QSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        inner = QRect(0, 0, max(width - 2 * self.PAD_X, 20), 10_000)
        flags = Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap
        text = self.fontMetrics().boundingRect(inner, int(flags), self.text())
        return text.height() + 2 * self.PAD_Y + 2

    def sizeHint(self) -> QSize:
        width = max(self.width(), 160)
        return QSize(width, self.heightForWidth(width))

    def minimumSizeHint(self) -> QSize:
        return QSize(60, self.heightForWidth(max(self.width(), 160)))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        needed = self.heightForWidth(self.width())
        if self.height() != needed:
            self.setFixedHeight(needed)

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QStylePainter(self)
        option = QStyleOptionButton()
        self.initStyleOption(option)
        option.text = ""
        painter.drawControl(QStyle.ControlElement.CE_PushButton, option)
        painter.setPen(self.palette().buttonText().color())
        area = self.rect().adjusted(self.PAD_X, self.PAD_Y, -self.PAD_X, -self.PAD_Y)
        flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        painter.drawText(area, int(flags | Qt.TextFlag.TextWordWrap), self.text())


def _typing_in_text_field() -> bool:
    return isinstance(QApplication.focusWidget(), _TEXT_INPUTS)


class ScriptPanelHost(QWidget):
    """The script column; the window calls ``show_file`` and wires the three signals."""

    log_requested = Signal()
    calculator_requested = Signal()
    verify_requested = Signal()
    step_changed = Signal(str)  # step id

    def __init__(self, tr: Translator, library: ScriptLibrary | None = None) -> None:
        super().__init__()
        self.setObjectName("scriptPanel")
        self.setMinimumWidth(250)
        # The script is a focus stop of its own: after F8 the keys 1–9 answer it.
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName(tr("Script"))
        self.setAccessibleDescription(tr("Press the number of an answer; Alt+Left goes back."))
        self.tr_ = tr
        # The scripts are parsed on first use (a customer on screen), not while the
        # desk's window is built; the team's library usually arrives from the worker
        # first (use_library), and then the shipped one is never parsed here.
        self._library: ScriptLibrary | None = library
        self._library_tried = library is not None
        self.load_error = ""
        self.file: CustomerFile | None = None
        #: What was saved for this customer outside the script (F3's promise): the
        #: script shows it under "Recorded so far", so there is one promise, not two.
        self.saved_lines: list[str] = []
        self.agent_name = ""
        self.now: datetime | None = None
        self.run: ScriptRun | None = None
        self.choice: ScriptChoice | None = None
        self.switched_reason = ""
        self.verification_needed = False
        self._verify_dismissed = False
        self.inputs: dict[str, QLineEdit] = {}
        self.input_errors: dict[str, QLabel] = {}
        self.choice_buttons: dict[str, ChoiceButton] = {}
        self._choice_shortcuts: list[QShortcut] = []
        self._shortcut_parent: QWidget = self
        self._nav_shortcuts: list[QShortcut] = []
        self._build()
        self.attach(self)
        self._show_empty()

    # -- building ------------------------------------------------------------------

    @property
    def library(self) -> ScriptLibrary | None:
        """The scripts in use: the team's, or the shipped ones (parsed on first use)."""
        if not self._library_tried:
            self._library_tried = True
            try:
                self._library = shipped_library()
            except (ScriptFormatError, OSError) as error:
                self.load_error = str(error)
        return self._library

    def use_library(self, library: ScriptLibrary) -> None:
        """The team's scripts (from the database); the open run keeps its script."""
        self._library = library
        self._library_tried = True

    def _build(self) -> None:
        tr = self.tr_
        title = PlainLabel(tr("Script"))
        title.setObjectName("panelTitle")
        self.script_title = PlainLabel()
        self.script_title.setObjectName("scriptTitle")
        self.script_title.setWordWrap(True)
        self.reason = PlainLabel()
        self.reason.setObjectName("hint")
        self.reason.setWordWrap(True)
        self.switch = QComboBox()
        self.switch.setObjectName("switchScript")
        # A long script name must not widen the column: the list shows it in full.
        self.switch.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.switch.setMinimumContentsLength(10)
        self.switch.setToolTip(tr("Switch to another script; what was recorded is kept"))
        self.switch.activated.connect(self._switch_chosen)
        switch_row = QHBoxLayout()
        switch_label = PlainLabel(tr("Switch script:"))
        switch_label.setObjectName("hint")
        switch_row.addWidget(switch_label)
        switch_row.addWidget(self.switch, 1)

        self.identity_banner = PlainLabel(
            "⚠ " + tr("Identity not yet confirmed — do not discuss the debt")
        )
        self.identity_banner.setObjectName("identityBanner")
        self.identity_banner.setWordWrap(True)
        # A screen reader says it when it appears (an alert), not only when read out.
        self.identity_banner.setAccessibleName(self.identity_banner.text())
        self.identity_banner.setAccessibleDescription(
            tr("Ask the identity question of the script first.")
        )
        self._identity_announced = False
        # a wrapped label and a short button: a long button text would widen the column
        self.verify_banner = QFrame()
        self.verify_banner.setObjectName("verifyBanner")
        banner_layout = QVBoxLayout(self.verify_banner)
        banner_layout.setContentsMargins(8, 6, 8, 6)
        banner_layout.setSpacing(4)
        self.verify_text = WrappedLabel()
        self.verify_text.setText("⚠ " + tr("Contact details are out of date — verify now (F7)"))
        self.verify_button = QPushButton(tr("Verify now (F7)"))
        self.verify_button.setObjectName("verifyButton")
        self.verify_button.setAutoDefault(False)
        self.verify_button.clicked.connect(self.verify_requested.emit)
        banner_layout.addWidget(self.verify_text)
        banner_layout.addWidget(self.verify_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.verify_banner.hide()

        self.step_label = PlainLabel()
        self.step_label.setObjectName("scriptStep")
        self.say = WrappedLabel()
        self.say.setObjectName("scriptSay")
        self.say.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # the border and padding sit on a frame around the label, so the label's own
        # height-for-width is exact and long sentences are never cut off
        self.say_box = QFrame()
        self.say_box.setObjectName("scriptSayBox")
        say_layout = QVBoxLayout(self.say_box)
        say_layout.setContentsMargins(12, 10, 12, 10)
        say_layout.addWidget(self.say)
        self.do = WrappedLabel()
        self.do.setObjectName("scriptDo")
        # What to compare the caller's answers with: agent-only, never read out.
        self.compare_box = QFrame()
        self.compare_box.setObjectName("compareBox")
        compare_layout = QVBoxLayout(self.compare_box)
        compare_layout.setContentsMargins(10, 6, 10, 8)
        compare_layout.setSpacing(2)
        self.compare_title = WrappedLabel()
        self.compare_title.setObjectName("compareTitle")
        self.compare_title.setText(tr("Compare with — for you only, never read out:"))
        self.compare = WrappedLabel()
        self.compare.setObjectName("compareText")
        compare_layout.addWidget(self.compare_title)
        compare_layout.addWidget(self.compare)
        self.compare_box.hide()
        self.fields_box = QWidget()
        self.fields_layout = QGridLayout(self.fields_box)
        self.fields_layout.setContentsMargins(0, 0, 0, 0)
        self.fields_layout.setHorizontalSpacing(8)
        self.fields_layout.setVerticalSpacing(2)
        self.choices_box = QWidget()
        self.choices_layout = QVBoxLayout(self.choices_box)
        self.choices_layout.setContentsMargins(0, 0, 0, 0)
        self.choices_layout.setSpacing(4)
        self.action_button = QPushButton(tr("Open the arrangement calculator (F4)"))
        self.action_button.setObjectName("calculatorButton")
        self.action_button.setAutoDefault(False)
        self.action_button.clicked.connect(self._open_calculator)
        self.capacity = QLineEdit()
        self.capacity.setObjectName("field_capacity")
        self.capacity.setPlaceholderText(tr("e.g. 50,00"))
        self.capacity.editingFinished.connect(self._capacity_entered)
        self.capacity_error = PlainLabel()
        self.capacity_error.setObjectName("fieldError")
        self.capacity_error.setWordWrap(True)
        self.capacity_error.hide()
        self.capacity_box = QWidget()
        capacity_layout = QGridLayout(self.capacity_box)
        capacity_layout.setContentsMargins(0, 0, 0, 0)
        capacity_layout.setHorizontalSpacing(8)
        capacity_layout.setVerticalSpacing(2)
        capacity_label = PlainLabel(tr("Can pay per month"))
        capacity_label.setBuddy(self.capacity)
        capacity_layout.addWidget(capacity_label, 0, 0)
        capacity_layout.addWidget(self.capacity, 0, 1)
        capacity_layout.addWidget(self.capacity_error, 1, 1)
        capacity_layout.addWidget(self.action_button, 2, 0, 1, 2)
        capacity_layout.setColumnStretch(1, 1)
        self.capacity_cents: int | None = None
        self.log_button = QPushButton(tr("Log this contact (F2)"))
        self.log_button.setObjectName("logButton")
        self.log_button.setAutoDefault(False)
        self.log_button.clicked.connect(self.log_requested.emit)
        self.error = PlainLabel()
        self.error.setObjectName("fieldError")
        self.error.setWordWrap(True)
        self.error.hide()

        self.back_button = QPushButton("◀ " + tr("Back") + "  (Alt+←)")
        self.back_button.setObjectName("backButton")
        self.back_button.setAutoDefault(False)
        self.back_button.clicked.connect(self.back)
        self.forward_button = QPushButton(tr("Forward") + "  (Alt+→) ▶")
        self.forward_button.setObjectName("forwardButton")
        self.forward_button.setAutoDefault(False)
        self.forward_button.clicked.connect(self.forward)
        nav = QHBoxLayout()
        nav.addWidget(self.back_button)
        nav.addStretch(1)
        nav.addWidget(self.forward_button)

        recorded_title = PlainLabel(tr("Recorded so far"))
        recorded_title.setObjectName("sectionTitle")
        self.recorded = PlainLabel()
        self.recorded.setObjectName("recorded")
        self.recorded.setWordWrap(True)
        self.recorded.setTextFormat(Qt.TextFormat.PlainText)

        body = QWidget()
        body.setObjectName("scriptBody")
        inner = QVBoxLayout(body)
        inner.setContentsMargins(0, 0, 4, 0)
        inner.setSpacing(8)
        inner.addWidget(self.step_label)
        inner.addWidget(self.say_box)
        inner.addWidget(self.compare_box)
        inner.addWidget(self.do)
        inner.addWidget(self.fields_box)
        inner.addWidget(self.choices_box)
        inner.addWidget(self.capacity_box)
        inner.addWidget(self.error)
        inner.addWidget(self.log_button)
        inner.addLayout(nav)
        inner.addSpacing(6)
        inner.addWidget(recorded_title)
        inner.addWidget(self.recorded)
        inner.addStretch(1)
        self.scroll_area = QScrollArea()
        self.scroll_area.setObjectName("scriptScroll")
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll_area.setWidget(body)

        self.placeholder = PlainLabel()
        self.placeholder.setObjectName("hint")
        self.placeholder.setWordWrap(True)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)

        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(12, 12, 12, 8)
        self._layout.setSpacing(6)
        self._layout.addWidget(title)
        self._layout.addWidget(self.script_title)
        self._layout.addWidget(self.reason)
        self._layout.addLayout(switch_row)
        self._layout.addWidget(self.identity_banner)
        self._layout.addWidget(self.verify_banner)
        self._layout.addWidget(self.scroll_area, 1)
        self._layout.addWidget(self.placeholder, 1)
        self._header: list[QWidget] = [
            self.script_title,
            self.reason,
            self.switch,
            switch_label,
            self.scroll_area,
        ]
        self.panel: QWidget | None = None

    def set_panel(self, panel: QWidget) -> None:
        """Kept for compatibility: put another widget in place of the script."""
        if self.panel is not None:
            self._layout.removeWidget(self.panel)
            self.panel.deleteLater()
        for widget in (*self._header, self.placeholder, self.identity_banner):
            widget.hide()
        self.panel = panel
        self._layout.addWidget(panel, 1)

    def attach(self, window: QWidget) -> None:
        """Make the keys work anywhere in ``window`` (not while typing in a text field)."""
        for shortcut in self._nav_shortcuts:
            shortcut.setEnabled(False)
            shortcut.deleteLater()
        self._shortcut_parent = window
        context = (
            Qt.ShortcutContext.WidgetWithChildrenShortcut
            if window is self
            else Qt.ShortcutContext.WindowShortcut
        )
        back = QShortcut(QKeySequence("Alt+Left"), window, self.back, context)
        forward = QShortcut(QKeySequence("Alt+Right"), window, self.forward, context)
        back.setObjectName("scriptBack")
        forward.setObjectName("scriptForward")
        self._nav_shortcuts = [back, forward]
        if self.run is not None:
            self._render()

    # -- the customer --------------------------------------------------------------

    def show_file(
        self,
        file: CustomerFile,
        agent_name: str,
        now: datetime,
        *,
        creditor_name: str | None = None,
    ) -> None:
        """Start a script for a new customer; for the same customer keep the run going."""
        from agent_desk.services.script_context import (
            build_context,
            build_situation,
            default_creditor_name,
            script_language,
        )
        from agent_desk.services.verification import file_needs_verification

        same = self.file is not None and self.file.id == file.id and self.run is not None
        self.file, self.agent_name, self.now = file, agent_name, now
        self.verification_needed = file_needs_verification(file, now)
        if same:
            assert self.run is not None
            # The latest data (e.g. a date of birth just recorded with F7) for what the
            # run shows next; the step on screen stays as it is, with what is typed.
            self.run.context = build_context(
                file,
                agent_name=agent_name,
                creditor_name=creditor_name or default_creditor_name(),
                language=self.run.script.language,
            )
            self._update_verify_banner()
            return
        self._verify_dismissed = False
        self.saved_lines = []
        self.capacity_cents = None
        self.capacity.clear()
        if self.library is None:
            self._show_empty()
            return
        language = script_language(file)
        available = self.library.ids(language)
        if not available:
            self._show_empty()
            return
        context = build_context(
            file,
            agent_name=agent_name,
            creditor_name=creditor_name or default_creditor_name(),
            language=language,
        )
        situation = build_situation(file, today=local_day(now))
        try:
            self.choice = choose_script(situation, available)
        except AgentDeskError as error:
            self.load_error = str(error)
            self._show_empty()
            return
        script = self.library.get(self.choice.script_id, language)
        self.run = ScriptRun(script, context)
        self.switched_reason = ""
        self._fill_switch(language, script.id)
        self._render()

    def clear(self) -> None:
        self.file, self.run, self.choice = None, None, None
        self._show_empty()

    def _show_empty(self) -> None:
        tr = self.tr_
        for widget in self._header:
            widget.hide()
        self.identity_banner.hide()
        self.verify_banner.hide()
        if self.load_error:
            text = tr("The call scripts could not be loaded: {error}", error=self.load_error)
        else:
            text = tr("Open a customer to start a call script.")
        self.placeholder.setText(text)
        self.placeholder.show()
        self._set_choice_shortcuts([])

    def _fill_switch(self, language: str, current: str) -> None:
        assert self.library is not None
        self.switch.blockSignals(True)
        self.switch.clear()
        scripts = sorted(self.library.for_language(language).values(), key=lambda s: s.title)
        for script in scripts:
            self.switch.addItem(script.title, script.id)
        self.switch.setCurrentIndex(self.switch.findData(current))
        self.switch.blockSignals(False)

    # -- moving --------------------------------------------------------------------

    @property
    def script(self) -> Script | None:
        return self.run.script if self.run is not None else None

    def _switch_chosen(self, index: int) -> None:
        script_id = self.switch.itemData(index)
        if isinstance(script_id, str):
            self.switch_script(script_id)

    def switch_script(self, script_id: str) -> None:
        """Continue in another script; identity and what was recorded carry over."""
        if self.run is None or self.library is None:
            return
        if script_id == self.run.script.id:
            return
        self._commit_inputs(strict=False)
        script = self.library.get(script_id, self.run.script.language)
        self.run = self.run.switch_to(script)
        suggested = self.choice.script_id if self.choice is not None else ""
        title = self.library.get(suggested, script.language).title if suggested else ""
        self.switched_reason = self.tr_("switched by you; suggested was: {title}", title=title)
        self.switch.setCurrentIndex(self.switch.findData(script_id))
        self._render()

    def choose(self, key: str) -> bool:
        """Take the choice with ``key`` at this step; False when it cannot be taken."""
        if self.run is None or key not in {c.key for c in self.run.step.choices}:
            return False
        if not self._commit_inputs(strict=True):
            return False
        self.run.choose(key)
        self._render()
        return True

    def forward(self) -> bool:
        if self.run is None or not self.run.can_go_forward:
            return False
        if not self._commit_inputs(strict=True):
            return False
        self.run.forward()
        self._render()
        return True

    def back(self) -> bool:
        if self.run is None or not self.run.can_go_back:
            return False
        self._commit_inputs(strict=False)
        self.run.back()
        self._render()
        return True

    def _commit_inputs(self, *, strict: bool) -> bool:
        """Record every typed field of this step; with ``strict`` a bad one stops the move."""
        if self.run is None:
            return True
        ok = True
        for name, edit in self.inputs.items():
            if not self._enter(name, edit.text()) and strict:
                ok = False
        if not ok:
            self._show_error(self.tr_("Check the fields marked above before you move on."))
        return ok

    def _enter(self, name: str, text: str) -> bool:
        assert self.run is not None
        label = self.input_errors.get(name)
        try:
            self.run.enter(name, text)
        except ValidationError as error:
            if label is not None:
                label.setText("⚠ " + self.tr_.error(error))
                label.show()
            return False
        if label is not None:
            label.hide()
        self._fill_recorded()
        return True

    def _show_error(self, message: str) -> None:
        self.error.setText("⚠ " + message)
        self.error.show()

    # -- showing the step ----------------------------------------------------------

    def _render(self) -> None:
        run = self.run
        if run is None:
            self._show_empty()
            return
        tr = self.tr_
        self.placeholder.hide()
        for widget in self._header:
            widget.show()
        step = run.rendered()
        self.script_title.setText(run.script.title)
        if self.switched_reason:
            self.reason.setText(self.switched_reason)
        else:
            self.reason.setText(self.choice.explanation(tr) if self.choice is not None else "")
        self.identity_banner.setVisible(not run.identity_confirmed)
        self._announce_identity(not run.identity_confirmed)
        self._update_verify_banner()
        self.step_label.setText(
            tr("Step {number}", number=len(run.history))
            + (" · " + tr("end of the conversation") if step.end else "")
        )
        self.say.setText(f"“{step.say}”" if step.say else "")
        self.say_box.setVisible(bool(step.say))
        self.do.setText(tr("Do: {hint}", hint=step.do) if step.do else "")
        self.do.setVisible(bool(step.do))
        self._fill_compare(step.checks)
        self.error.hide()
        self._fill_fields(step.ask)
        self._fill_choices([(c.key, c.label) for c in step.choices])
        self.capacity_box.setVisible(step.action == "open_arrangement_calculator")
        self.log_button.setVisible(step.end)
        self.back_button.setEnabled(run.can_go_back)
        self.forward_button.setEnabled(run.can_go_forward)
        self.forward_button.setVisible(run.can_go_forward or not step.choices)
        self._fill_recorded()
        self.scroll_area.verticalScrollBar().setValue(0)
        self.step_changed.emit(step.step_id)

    def _fill_compare(self, checks: tuple[str, ...]) -> None:
        """One line per identity detail the step asks: what the desk holds for it."""
        assert self.run is not None
        tr = self.tr_
        lines = []
        for check in checks:
            values = self.run.context.compare_with(check, tr.lang)
            text = ", ".join(values) if values else tr("(not on file)")
            lines.append(f"{tr(CHECK_LABELS.get(check, check))}: {text}")
        self.compare.setText("\n".join(lines))
        self.compare_box.setVisible(bool(lines))

    def _fill_fields(self, names: tuple[str, ...]) -> None:
        while self.fields_layout.count():
            item = self.fields_layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.hide()
                widget.deleteLater()
        self.inputs, self.input_errors = {}, {}
        self.fields_box.setVisible(bool(names))
        assert self.run is not None
        recorded = self.run.recorded
        tr = self.tr_
        for row, name in enumerate(names):
            kind = RECORD_FIELDS[name]
            label = PlainLabel(tr(FIELD_LABELS.get(name, name)))
            edit = QLineEdit()
            edit.setObjectName(f"field_{name}")
            edit.setPlaceholderText(tr(PLACEHOLDERS.get(kind, "")))
            if name in recorded:
                edit.setText(self._value_text(name, recorded[name], typed=True))
            edit.editingFinished.connect(lambda n=name, e=edit: self._enter(n, e.text()))
            error = PlainLabel()
            error.setObjectName("fieldError")
            error.setWordWrap(True)
            error.hide()
            label.setBuddy(edit)
            self.fields_layout.addWidget(label, row * 2, 0)
            self.fields_layout.addWidget(edit, row * 2, 1)
            self.fields_layout.addWidget(error, row * 2 + 1, 1)
            self.inputs[name] = edit
            self.input_errors[name] = error
        self.fields_layout.setColumnStretch(1, 1)

    def _fill_choices(self, choices: list[tuple[str, str]]) -> None:
        while self.choices_layout.count():
            item = self.choices_layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.hide()
                widget.deleteLater()
        self.choice_buttons = {}
        self.choices_box.setVisible(bool(choices))
        for key, label in choices:
            button = ChoiceButton(f"[{key}]  {label}")
            button.setObjectName("choiceButton")
            button.setAutoDefault(False)
            button.setToolTip(self.tr_("Press {key}", key=key))
            button.clicked.connect(lambda _checked=False, k=key: self.choose(k))
            self.choices_layout.addWidget(button)
            self.choice_buttons[key] = button
        self._set_choice_shortcuts([key for key, _ in choices])

    def _set_choice_shortcuts(self, keys: list[str]) -> None:
        for shortcut in self._choice_shortcuts:
            shortcut.setEnabled(False)
            shortcut.deleteLater()
        self._choice_shortcuts = []
        parent = self._shortcut_parent
        context = (
            Qt.ShortcutContext.WidgetWithChildrenShortcut
            if parent is self
            else Qt.ShortcutContext.WindowShortcut
        )
        for key in keys:
            shortcut = QShortcut(QKeySequence(key.upper()), parent)
            shortcut.setContext(context)
            shortcut.setObjectName(f"scriptChoice_{key}")
            shortcut.activated.connect(lambda k=key: self._key_pressed(k))
            self._choice_shortcuts.append(shortcut)

    def _key_pressed(self, key: str) -> None:
        if _typing_in_text_field():
            return  # a text field keeps its keys (it normally gets them first anyway)
        self.choose(key)

    def _fill_recorded(self) -> None:
        if self.run is None:
            return
        lines = []
        for name, value in self.run.recorded.items():
            if name == "open_arrangement_calculator":
                continue
            label = self.tr_(FIELD_LABELS.get(name, name))
            lines.append(f"• {label}: {self._value_text(name, value)}")
        lines += [f"✓ {line}" for line in self.saved_lines]
        self.recorded.setText("\n".join(lines) if lines else self.tr_("Nothing yet."))

    def _value_text(self, name: str, value: RecordValue, *, typed: bool = False) -> str:
        tr = self.tr_
        kind = RECORD_FIELDS.get(name)
        if isinstance(value, bool):
            return tr("yes") if value else tr("no")
        if kind is FieldKind.OUTCOME and isinstance(value, str):
            message = OUTCOMES.get(value)
            return tr(message) if message else value
        if kind is FieldKind.MONEY and isinstance(value, int):
            if typed:
                text = f"{value // 100}.{value % 100:02d}"
                return text.replace(".", ",") if tr.lang == "nl" else text
            return format_money(value, tr.lang)
        if isinstance(value, date):
            return value.strftime("%d-%m-%Y")
        return str(value)

    # -- verification prompt -------------------------------------------------------

    def _update_verify_banner(self) -> None:
        confirmed = self.run is not None and self.run.identity_confirmed
        self.verify_banner.setVisible(
            confirmed and self.verification_needed and not self._verify_dismissed
        )

    def verification_saved(self) -> None:
        """The contact details were just checked: no more prompting for this customer."""
        self._verify_dismissed = True
        self._update_verify_banner()

    # -- what the run recorded -----------------------------------------------------

    def _announce_identity(self, shown: bool) -> None:
        """Tell assistive technology once when the banner appears or goes."""
        if shown == self._identity_announced:
            return
        self._identity_announced = shown
        banner = self.identity_banner
        kind = QAccessible.Event.Alert if shown else QAccessible.Event.NameChanged
        QAccessible.updateAccessibility(QAccessibleEvent(banner, kind))

    def show_saved(self, customer_id: int, line: str) -> None:
        """Something saved for the customer on screen (a promise with F3), in the script."""
        if self.file is None or self.file.id != customer_id:
            return
        self.saved_lines.append(line)
        self._fill_recorded()

    def current_outcome(self, customer_id: int | None = None) -> ScriptOutcome | None:
        """What the script recorded for the customer on screen (None: nothing yet)."""
        if self.run is None or self.file is None:
            return None
        if customer_id is not None and customer_id != self.file.id:
            return None
        self._commit_inputs(strict=False)
        if len(self.run.history) <= 1 and not self.run.recorded:
            return None
        return self.run.outcome()

    def _capacity_entered(self) -> bool:
        text = self.capacity.text().strip()
        if not text:
            self.capacity_cents = None
            self.capacity_error.hide()
            return True
        try:
            self.capacity_cents = parse_amount(text)
        except ValidationError as error:
            self.capacity_error.setText("⚠ " + self.tr_.error(error))
            self.capacity_error.show()
            return False
        self.capacity_error.hide()
        return True

    def _open_calculator(self) -> None:
        if self._capacity_entered():
            self.calculator_requested.emit()

    def context_for_calculator(self) -> Mapping[str, Any] | None:
        """What the arrangement calculator can start from (None without a script run).

        ``capacity_cents``: what the customer said they can pay per month (typed at the
        calculator step); ``promise_amount_cents`` / ``promise_date`` if a promise was
        noted; ``note``; and which customer and script it came from.
        """
        if self.run is None or self.file is None:
            return None
        self._commit_inputs(strict=False)
        self._capacity_entered()
        values = self.run.recorded
        context: dict[str, Any] = {"customer_id": self.file.id, "script_id": self.run.script.id}
        if self.capacity_cents:
            context["capacity_cents"] = self.capacity_cents
        amount = values.get("promise_amount")
        if isinstance(amount, int) and not isinstance(amount, bool) and amount > 0:
            context["promise_amount_cents"] = amount
        promise_date = values.get("promise_date")
        if isinstance(promise_date, date):
            context["promise_date"] = promise_date
        note = values.get("note")
        if isinstance(note, str) and note:
            context["note"] = note
        return context
