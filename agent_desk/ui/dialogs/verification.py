"""F7: check the customer's contact details with them, page by page.

Drives :class:`~agent_desk.domain.verification.VerificationFlow`: an intro (ask the
customer to *state* their details, do not read them out), one page each for phone
numbers, e-mail addresses and postal addresses (confirm / correct / no longer right /
would not say, or add a new one), the date of birth the customer states (optional;
the one on file is shown masked, so it is never read out), the customer's
preferences, and a summary. Nothing
is saved before *Save* on the summary; then the window applies the whole result in
one transaction. A wrong value is explained next to its field and the typed text
stays.

The pages are built by ``verification_items`` (the contact cards) and
``verification_preferences`` (preferences and summary); what a page offers is
``domain.verification_pages``'s.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from agent_desk.domain.contact_validation import PostalAddress
from agent_desk.domain.date_of_birth import masked_date_of_birth
from agent_desk.domain.verification import (
    Channel,
    ContactKind,
    FlowStep,
    VerificationFlow,
    VerificationResult,
)
from agent_desk.domain.verification_pages import (
    channel_to_save,
    freshness_count,
    shown_channel,
    step_position,
)
from agent_desk.errors import ValidationError
from agent_desk.i18n import N_
from agent_desk.ui.dialogs.form import FormDialog
from agent_desk.ui.dialogs.verification_items import (
    ContactPage,
    Editor,
    ItemActions,
    inputs,
    text_label,
)
from agent_desk.ui.dialogs.verification_preferences import (
    PreferencesBox,
    birth_decision,
    summary_widgets,
)
from agent_desk.ui.labels import Words
from agent_desk.ui.plain import PlainLabel

if TYPE_CHECKING:
    from agent_desk.services.customer_file import CustomerFile
    from agent_desk.services.verification import VerificationData

PAGE_TITLES: dict[FlowStep, str] = {
    FlowStep.INTRO: N_("Before you start"),
    FlowStep.PHONES: N_("Phone numbers"),
    FlowStep.EMAILS: N_("E-mail addresses"),
    FlowStep.ADDRESSES: N_("Postal address"),
    FlowStep.DATE_OF_BIRTH: N_("Date of birth"),
    FlowStep.PREFERENCES: N_("How the customer wants to be reached"),
    FlowStep.SUMMARY: N_("Check and save"),
}
PAGES = (FlowStep.PHONES, FlowStep.EMAILS, FlowStep.ADDRESSES)
_STYLE = """
QFrame#contactItem { background: #ffffff; border: 1px solid #e3e7e8; border-radius: 4px; }
QLabel#itemValue { font-size: 11pt; font-weight: bold; }
QLabel#itemState { color: #0f5656; }
QLabel#pageTitle { font-size: 12pt; font-weight: bold; color: #14262b; }
QLabel#intro { font-size: 11pt; }
QLabel#progress { color: #5b6770; }
QWidget#verificationPage { background: transparent; }
QScrollArea#verificationScroll { background: transparent; border: none; }
QScrollArea#verificationScroll > QWidget > QWidget { background: transparent; }
"""


class VerificationDialog(FormDialog):
    """The wizard; ``submitted`` carries the :class:`VerificationResult`."""

    def __init__(
        self,
        words: Words,
        file: CustomerFile,
        data: VerificationData,
        flow: VerificationFlow,
        parent: QWidget | None = None,
    ) -> None:
        tr = words.tr
        super().__init__(tr, tr("Verify contact details with {name}", name=file.name), parent)
        self.setObjectName("verificationDialog")
        self.setStyleSheet(_STYLE)
        self.setMinimumWidth(640)
        self.resize(680, 620)
        self.words, self.file, self.data, self.flow = words, file, data, flow
        self.typed: dict[tuple[int, str], str] = {}
        self.open_editor: tuple[int, str] | None = None
        self.editors: dict[int, Editor] = {}
        self.item_errors: dict[int, QLabel] = {}
        self.birth_editor: Editor | None = None
        self.progress = PlainLabel()
        self.progress.setObjectName("progress")
        self.page_title = PlainLabel()
        self.page_title.setObjectName("pageTitle")
        self.page = QWidget()
        self.page.setObjectName("verificationPage")
        self.page_layout = QVBoxLayout(self.page)
        self.page_layout.setContentsMargins(0, 0, 6, 0)
        self.page_layout.setSpacing(8)
        scroll = QScrollArea()
        scroll.setObjectName("verificationScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.page)
        scroll.setMinimumHeight(360)
        self.scroll_area = scroll
        self.form.addRow(self.progress)
        self.form.addRow(self.page_title)
        self.form.addRow(scroll)
        self.back = QPushButton("◀ " + tr("Back"))
        self.back.setObjectName("backButton")
        self.back.setAutoDefault(False)
        self.next = QPushButton(tr("Next") + " ▶")
        self.next.setObjectName("nextButton")
        self.next.setAutoDefault(True)
        self.buttons.addButton(self.back, self.buttons.ButtonRole.ActionRole)
        self.buttons.addButton(self.next, self.buttons.ButtonRole.ActionRole)
        self.back.clicked.connect(self.go_back)
        self.next.clicked.connect(self.go_next)
        self.save.setText(tr("Save the check"))
        # preferences widgets live across renders so their state is kept
        self.preferences = PreferencesBox(words, file)
        self.preferences.hide()
        self.preferences.setParent(self)
        self.channel, self.times = self.preferences.channel, self.preferences.times
        self.consent_sms = self.preferences.consent_sms
        self.consent_whatsapp = self.preferences.consent_whatsapp
        self.opt_outs = self.preferences.opt_outs  # issue 14: "no e-mail", "no SMS"
        self.preference_error = self.preferences.error
        self.add_kind: QComboBox | None = None
        self._load_preferences()
        self.show_page()

    # -- helpers -------------------------------------------------------------------

    def _shown_channel(self) -> str | None:
        return shown_channel(self.flow.preferences, self.file.contact_points)

    def _load_preferences(self) -> None:
        value = self._shown_channel()
        self._loaded_channel = value
        self.preferences.load(self.flow.preferences, value)

    def _clear_page(self) -> None:
        self.preferences.hide()
        self.preferences.setParent(self)
        self.preference_error.hide()
        while self.page_layout.count():
            item = self.page_layout.takeAt(0)
            old = item.widget() if item is not None else None
            if old is not None and old is not self.preferences:
                old.hide()
                old.deleteLater()

    # -- rendering -----------------------------------------------------------------

    def show_page(self) -> None:
        """Show the flow's current page."""
        tr, flow = self.tr_, self.flow
        self._clear_page()
        self.editors, self.item_errors, self.birth_editor = {}, {}, None
        position = step_position(flow.step)
        if position is not None and flow.step in PAGE_TITLES:
            number, total = position
            self.progress.setText(tr("Step {number} of {total}", number=number, total=total))
            self.page_title.setText(tr(PAGE_TITLES[flow.step]))
        if flow.step is FlowStep.INTRO:
            self._render_intro()
        elif flow.step in PAGES:
            self._render_items()
        elif flow.step is FlowStep.DATE_OF_BIRTH:
            self._render_date_of_birth()
        elif flow.step is FlowStep.PREFERENCES:
            self.page_layout.addWidget(self.preferences)
            self.preferences.show()
        elif flow.step is FlowStep.SUMMARY:
            for widget in summary_widgets(self.words, flow):
                self.page_layout.addWidget(widget)
        self.page_layout.addStretch(1)
        self.back.setEnabled(flow.can_go_back)
        self.next.setVisible(flow.step is not FlowStep.SUMMARY)
        self.save.setVisible(flow.step in (FlowStep.SUMMARY, FlowStep.DONE))
        self.save.setDefault(flow.step is FlowStep.SUMMARY)
        self.next.setDefault(flow.step is not FlowStep.SUMMARY)

    def _render_intro(self) -> None:
        tr = self.tr_
        self.page_layout.addWidget(
            text_label(
                tr(
                    "Ask the customer to state their phone numbers, e-mail address and postal "
                    "address. Do not read out the details we hold."
                ),
                "intro",
            )
        )
        self.page_layout.addWidget(
            text_label(
                tr(
                    "For example: “To make sure we can reach you, could you tell me the phone "
                    "number and e-mail address you use now?”"
                ),
                "hint",
            )
        )
        stale, total = freshness_count(self.flow)
        if stale:
            text = tr(
                "{count} of the {total} contact details are out of date or were never "
                "checked. Nothing is saved until you press Save at the end.",
                count=stale,
                total=total,
            )
        else:
            text = tr(
                "Every contact detail was checked recently; you can still check them now. "
                "Nothing is saved until you press Save at the end."
            )
        self.page_layout.addWidget(text_label(text, "hint"))

    def _render_items(self) -> None:
        page = ContactPage(
            self.words,
            self.flow,
            self.typed,
            self.open_editor,
            ItemActions(
                decide=self._decide,
                undo=lambda handle: self._act(self.flow.undo, handle),
                apply=self._apply_editor,
                add=self._add,
                refuse_all=self._refuse_all,
            ),
        )
        for widget in page.widgets():
            self.page_layout.addWidget(widget)
        self.editors, self.item_errors, self.add_kind = (
            page.editors,
            page.item_errors,
            page.add_kind,
        )

    def _render_date_of_birth(self) -> None:
        tr, view = self.tr_, self.flow.birth_view()
        on_file = (
            tr("On file: {date} (only the year is shown).", date=masked_date_of_birth(view.on_file))
            if view.on_file is not None
            else tr("No date of birth on file yet.")
        )
        self.page_layout.addWidget(text_label(on_file, "birthOnFile"))
        self.page_layout.addWidget(
            text_label(
                tr(
                    "Ask: “Could you tell me your date of birth?” Type what the customer "
                    "says; the desk compares it with the date on file. You may leave this "
                    "empty if the customer would rather not say."
                ),
                "hint",
            )
        )
        decided = birth_decision(tr, self.flow)
        if decided is not None:
            row = QHBoxLayout()
            row.addWidget(text_label(decided, "birthState"), 1)
            undo = QPushButton(tr("Undo"))
            undo.setObjectName("undoBirthButton")
            undo.setAutoDefault(False)
            undo.clicked.connect(self._undo_birth)
            row.addWidget(undo)
            holder = QWidget()
            holder.setLayout(row)
            self.page_layout.addWidget(holder)
            return
        editor = inputs(
            tr, self.typed, 0, "birth", [("date_of_birth", N_("Date of birth as stated"))]
        )
        edit = editor.fields["date_of_birth"]
        edit.setPlaceholderText(tr("e.g. 12-03-1981"))
        edit.returnPressed.connect(self._record_birth)
        record = QPushButton(tr("Record"))
        record.setObjectName("recordBirthButton")
        record.setAutoDefault(False)
        record.clicked.connect(self._record_birth)
        grid = editor.box.layout()
        assert isinstance(grid, QGridLayout)
        grid.addWidget(record, 0, 2)
        self.birth_editor = editor
        self.page_layout.addWidget(editor.box)

    def _record_birth(self) -> bool:
        """Record the typed date of birth; False (error beside the field) when it is wrong."""
        editor = self.birth_editor
        if editor is None:
            return True
        text = editor.fields["date_of_birth"].text()
        if not text.strip():
            return True  # optional: nothing typed, nothing recorded
        try:
            self.flow.state_date_of_birth(text)
        except ValidationError as error:
            editor.error.setText("⚠ " + self.tr_.error(error))
            editor.error.show()
            editor.fields["date_of_birth"].setFocus()
            return False
        self.typed.pop((0, "birth:date_of_birth"), None)
        self.show_page()
        return True

    def _undo_birth(self) -> None:
        self.flow.undo_date_of_birth()
        self.show_page()

    # -- actions -------------------------------------------------------------------

    def _fail(self, error: ValidationError, handle: int | None) -> None:
        message = "⚠ " + self.tr_.error(error)
        field = error.field
        if field == "preferred_channel" or (
            self.flow.step is FlowStep.PREFERENCES and handle is None
        ):
            self.preference_error.setText(message)
            self.preference_error.show()
            return
        target = None
        if field == "date_of_birth" and self.birth_editor is not None:
            target = self.birth_editor.error
        elif handle is not None and handle in self.editors:
            target = self.editors[handle].error
        elif handle is not None and handle in self.item_errors:
            target = self.item_errors[handle]
        if target is None:
            self.show_notice(self.tr_.error(error))
            return
        target.setText(message)
        target.show()

    def _act(self, action: Callable[[int], None], handle: int) -> None:
        try:
            action(handle)
        except ValidationError as error:
            self._fail(error, handle)
            return
        self.open_editor = None
        self.show_page()

    def _decide(self, name: str, handle: int) -> None:
        if name == "confirm":
            self._act(self.flow.confirm, handle)
        elif name == "refuse":
            self._act(self.flow.refuse, handle)
        else:
            self.open_editor = (handle, "correct" if name == "correct" else "invalid")
            self.show_page()
            editor = self.editors.get(handle)
            if editor is not None:
                next(iter(editor.fields.values())).setFocus()

    def _typed_value(self, kind: ContactKind, editor: Editor) -> str | PostalAddress:
        if kind is ContactKind.ADDRESS:
            return PostalAddress(
                street=editor.fields["street"].text(),
                house_number=editor.fields["house_number"].text(),
                postcode=editor.fields["postcode"].text(),
                city=editor.fields["city"].text(),
            )
        return editor.fields["value"].text()

    def _apply_editor(self, handle: int, kind: ContactKind, mode: str) -> None:
        editor = self.editors.get(handle)
        if editor is None:
            return
        try:
            if mode == "correct":
                self.flow.correct(handle, self._typed_value(kind, editor))
            else:
                self.flow.mark_invalid(handle, editor.fields["reason"].text())
        except ValidationError as error:
            self._fail(error, handle)
            return
        self.open_editor = None
        self.show_page()

    def _add(self) -> None:
        editor = self.editors.get(0)
        if editor is None or self.add_kind is None:
            return
        kind = ContactKind(self.add_kind.currentData())
        try:
            self.flow.add(kind, self._typed_value(kind, editor))
        except ValidationError as error:
            self._fail(error, 0)
            return
        for name in editor.fields:
            self.typed.pop((0, f"add:{name}"), None)
        self.show_page()

    def _refuse_all(self) -> None:
        try:
            self.flow.refuse_all()
        except ValidationError as error:
            self._fail(error, None)
            return
        self.show_page()

    def channel_to_save(self) -> str | None:
        """The chosen channel; None when it is the file's, shown and not changed."""
        return channel_to_save(
            self.channel.currentData(), self._loaded_channel, self.flow.preferences
        )

    def _read_preferences(self) -> bool:
        channel = self.channel_to_save()
        try:
            self.flow.set_preferences(
                preferred_channel=Channel(channel) if channel else None,
                best_times=self.preferences.best_times(),
                consent_sms=self.consent_sms.currentData(),
                consent_whatsapp=self.consent_whatsapp.currentData(),
            )
        except ValidationError as error:
            self._fail(error, None)
            return False
        self.preference_error.hide()
        return True

    def go_next(self) -> None:
        self.clear_errors()
        if self.flow.step is FlowStep.PREFERENCES and not self._read_preferences():
            return
        if self.flow.step is FlowStep.DATE_OF_BIRTH and not self._record_birth():
            return
        try:
            self.flow.next()
        except ValidationError as error:
            failed = self.flow.error
            self._fail(error, failed.point_id if failed else None)
            return
        self.open_editor = None
        self.show_page()
        (self.next if self.next.isVisible() else self.save).setFocus()

    def go_back(self) -> None:
        self.clear_errors()
        if self.flow.step is FlowStep.PREFERENCES:
            self._read_preferences()
        try:
            self.flow.back()
        except ValidationError:
            return
        self.open_editor = None
        self.show_page()

    def payload(self) -> VerificationResult | None:
        if self.flow.result is not None:
            return self.flow.result  # saving again after a conflict: same decisions
        try:
            return self.flow.finish()
        except ValidationError as error:
            failed = self.flow.error
            self._fail(error, failed.point_id if failed else None)
            return None

    def error_text(self, field: str) -> str:
        """The visible error next to ``field``: a handle as text, 'add', 'preferences'
        or 'date_of_birth'."""
        if field == "preferences":
            label: QLabel | None = self.preference_error
        elif field == "date_of_birth":
            label = self.birth_editor.error if self.birth_editor is not None else None
        elif field == "add":
            editor = self.editors.get(0)
            label = editor.error if editor else None
        else:
            handle = int(field)
            editor = self.editors.get(handle)
            label = editor.error if editor and not editor.error.isHidden() else None
            label = label or self.item_errors.get(handle)
        if label is None or label.isHidden():
            return super().error_text(field)
        return label.text()
