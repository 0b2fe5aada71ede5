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
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from agent_desk.domain.contact_validation import PostalAddress
from agent_desk.domain.verification import (
    Channel,
    ContactKind,
    Decision,
    FlowStep,
    ItemView,
    TimeOfDay,
    VerificationFlow,
    VerificationResult,
    masked_date_of_birth,
)
from agent_desk.errors import ValidationError
from agent_desk.i18n import N_
from agent_desk.ui.channel_preferences import OptOutBox
from agent_desk.ui.dialogs.form import FormDialog
from agent_desk.ui.labels import CHANNELS, CONTACT_ICONS, CONTACT_KINDS, TIMES_OF_DAY, Words
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
DECISIONS: dict[Decision, str] = {
    Decision.CONFIRMED: N_("✓ confirmed"),
    Decision.CORRECTED: N_("✎ corrected to {value}"),
    Decision.ADDED: N_("+ new: {value}"),
    Decision.MARKED_INVALID: N_("✗ no longer right: {reason}"),
    Decision.REFUSED: N_("— the customer would not say"),
}
BIRTH_DECISIONS: dict[Decision, str] = {
    Decision.CONFIRMED: N_("✓ the same as the date on file"),
    Decision.CORRECTED: N_("✎ differs from the date on file: it is corrected to {value}"),
    Decision.ADDED: N_("+ recorded: {value}"),
}
PAGES = (FlowStep.PHONES, FlowStep.EMAILS, FlowStep.ADDRESSES)
ADDRESS_PARTS = (
    ("street", N_("Street")),
    ("house_number", N_("House number")),
    ("postcode", N_("Postcode")),
    ("city", N_("Town or city")),
)
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


@dataclass
class _Editor:
    """Inline inputs for one item (correct / reason / add) and their error line."""

    fields: dict[str, QLineEdit]
    error: QLabel
    box: QWidget


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
        self.editors: dict[int, _Editor] = {}
        self.item_errors: dict[int, QLabel] = {}
        self.birth_editor: _Editor | None = None
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
        self.channel = QComboBox()
        self.channel.setObjectName("preferredChannel")
        self.channel.addItem(tr("— no preference —"), None)
        for channel in Channel:
            self.channel.addItem(words.code(CHANNELS, channel.value), channel.value)
        self.times = {t: QCheckBox(tr(TIMES_OF_DAY[t.value])) for t in TimeOfDay}
        for time_of_day, box in self.times.items():
            box.setObjectName(f"time_{time_of_day.value}")
        self.consent_sms = self._consent_combo("consentSms")
        self.consent_whatsapp = self._consent_combo("consentWhatsapp")
        self.opt_outs = OptOutBox(tr, file)  # issue 14: "no e-mail", "no SMS"
        self.preference_error = PlainLabel()
        self.preference_error.setObjectName("fieldError")
        self.preference_error.setWordWrap(True)
        self.preference_error.hide()
        self._load_preferences()
        self.show_page()

    # -- helpers -------------------------------------------------------------------

    def _consent_combo(self, name: str) -> QComboBox:
        tr = self.tr_
        combo = QComboBox()
        combo.setObjectName(name)
        combo.addItem(tr("not asked"), None)
        combo.addItem(tr("yes, the customer agrees"), True)
        combo.addItem(tr("no"), False)
        return combo

    def _shown_channel(self) -> str | None:
        """The one preferred channel, as the file shows it: the customer's setting, else
        the channel of the contact point the file marks "(preferred)"."""
        prefs = self.flow.preferences
        if prefs.preferred_channel:
            return prefs.preferred_channel.value
        kinds = {"mobile": "phone", "phone": "phone", "email": "email", "address": "letter"}
        for point in self.file.contact_points:
            if point.preferred and not point.invalid and point.kind in kinds:
                return kinds[point.kind]
        return None

    def _load_preferences(self) -> None:
        prefs = self.flow.preferences
        value = self._shown_channel()
        self._loaded_channel = value
        self.channel.setCurrentIndex(max(self.channel.findData(value), 0))
        for time_of_day, box in self.times.items():
            box.setChecked(time_of_day in prefs.best_times)
        for combo, consent in (
            (self.consent_sms, prefs.consent_sms),
            (self.consent_whatsapp, prefs.consent_whatsapp),
        ):
            for index in range(combo.count()):
                if combo.itemData(index) is consent:
                    combo.setCurrentIndex(index)

    def kind_word(self, kind: ContactKind) -> str:
        return self.words.code(CONTACT_KINDS, kind.value)

    def _persistent(self) -> list[QWidget]:
        """Preference inputs are kept across pages (so going back keeps their state)."""
        return [
            self.channel,
            *self.times.values(),
            self.consent_sms,
            self.consent_whatsapp,
            self.opt_outs,
            self.preference_error,
        ]

    def _clear_page(self) -> None:
        for kept in self._persistent():
            kept.hide()
            kept.setParent(self)
        while self.page_layout.count():
            item = self.page_layout.takeAt(0)
            old = item.widget() if item is not None else None
            if old is not None:
                old.hide()
                old.deleteLater()

    # -- rendering -----------------------------------------------------------------

    def show_page(self) -> None:
        """Show the flow's current page."""
        tr, flow = self.tr_, self.flow
        self._clear_page()
        self.editors, self.item_errors, self.birth_editor = {}, {}, None
        order = list(PAGE_TITLES)
        if flow.step in PAGE_TITLES:
            self.progress.setText(
                tr(
                    "Step {number} of {total}",
                    number=order.index(flow.step) + 1,
                    total=len(order),
                )
            )
            self.page_title.setText(tr(PAGE_TITLES[flow.step]))
        if flow.step is FlowStep.INTRO:
            self._render_intro()
        elif flow.step in PAGES:
            self._render_items()
        elif flow.step is FlowStep.DATE_OF_BIRTH:
            self._render_date_of_birth()
        elif flow.step is FlowStep.PREFERENCES:
            self._render_preferences()
        elif flow.step is FlowStep.SUMMARY:
            self._render_summary()
        self.page_layout.addStretch(1)
        self.back.setEnabled(flow.can_go_back)
        self.next.setVisible(flow.step is not FlowStep.SUMMARY)
        self.save.setVisible(flow.step in (FlowStep.SUMMARY, FlowStep.DONE))
        self.save.setDefault(flow.step is FlowStep.SUMMARY)
        self.next.setDefault(flow.step is not FlowStep.SUMMARY)

    def _label(self, text: str, name: str = "") -> QLabel:
        label = PlainLabel(text)
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.PlainText)
        if name:
            label.setObjectName(name)
        return label

    def _render_intro(self) -> None:
        tr = self.tr_
        self.page_layout.addWidget(
            self._label(
                tr(
                    "Ask the customer to state their phone numbers, e-mail address and postal "
                    "address. Do not read out the details we hold."
                ),
                "intro",
            )
        )
        self.page_layout.addWidget(
            self._label(
                tr(
                    "For example: “To make sure we can reach you, could you tell me the phone "
                    "number and e-mail address you use now?”"
                ),
                "hint",
            )
        )
        stale = [v for v in self.flow.items(FlowStep.SUMMARY) if v.stale]
        if stale:
            text = tr(
                "{count} of the {total} contact details are out of date or were never "
                "checked. Nothing is saved until you press Save at the end.",
                count=len(stale),
                total=len(self.flow.items(FlowStep.SUMMARY)),
            )
        else:
            text = tr(
                "Every contact detail was checked recently; you can still check them now. "
                "Nothing is saved until you press Save at the end."
            )
        self.page_layout.addWidget(self._label(text, "hint"))

    def _render_items(self) -> None:
        tr, flow = self.tr_, self.flow
        items = flow.items()
        if not items:
            self.page_layout.addWidget(
                self._label(tr("We have nothing on file here. Ask if there is one to add."), "hint")
            )
        for view in items:
            self.page_layout.addWidget(self._item_widget(view))
        self.page_layout.addWidget(self._add_widget())
        if any(v.decision is None for v in items):
            refuse_all = QPushButton(tr("The customer will not go through these"))
            refuse_all.setObjectName("refuseAll")
            refuse_all.setAutoDefault(False)
            refuse_all.clicked.connect(self._refuse_all)
            row = QHBoxLayout()
            row.addStretch(1)
            row.addWidget(refuse_all)
            holder = QWidget()
            holder.setLayout(row)
            self.page_layout.addWidget(holder)

    def _item_widget(self, view: ItemView) -> QWidget:
        tr, words = self.tr_, self.words
        frame = QFrame()
        frame.setObjectName("contactItem")
        frame.setProperty("handle", view.handle)
        layout = QVBoxLayout(frame)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(4)
        head = QHBoxLayout()
        icon = CONTACT_ICONS.get(view.kind.value, "•")
        value = view.current_value or view.new_value or ""
        head.addWidget(self._label(f"{icon}  {self.kind_word(view.kind)}", "contactKind"))
        head.addWidget(self._label(value, "itemValue"), 1)
        original = next((p for p in self.flow.points if p.id == view.handle), None)
        if original is not None:
            fresh, stale = words.freshness(original.verified_at, self.flow.now)
            state = self._label(f"{'⚠' if stale else '✓'} {fresh}", "freshness")
            state.setWordWrap(False)
            state.setProperty("stale", "true" if view.stale else "false")
            head.addWidget(state)
        layout.addLayout(head)
        if view.decision is not None:
            decided = tr(
                DECISIONS[view.decision], value=view.new_value or "", reason=view.reason or ""
            )
            row = QHBoxLayout()
            row.addWidget(self._label(decided, "itemState"), 1)
            undo = QPushButton(tr("Undo"))
            undo.setObjectName("undoButton")
            undo.setAutoDefault(False)
            undo.clicked.connect(lambda _c=False, h=view.handle: self._act(self.flow.undo, h))
            row.addWidget(undo)
            layout.addLayout(row)
        else:
            buttons = QHBoxLayout()
            for name, text in (
                ("confirm", tr("Still right")),
                ("correct", tr("Correct…")),
                ("invalid", tr("No longer right…")),
                ("refuse", tr("Would not say")),
            ):
                button = QPushButton(text)
                button.setObjectName(f"{name}Button")
                button.setAutoDefault(False)
                button.clicked.connect(lambda _c=False, n=name, h=view.handle: self._decide(n, h))
                buttons.addWidget(button)
            buttons.addStretch(1)
            layout.addLayout(buttons)
            if self.open_editor is not None and self.open_editor[0] == view.handle:
                layout.addWidget(self._editor(view.handle, view.kind, self.open_editor[1]))
        error = self._label("", "fieldError")
        error.hide()
        layout.addWidget(error)
        self.item_errors[view.handle] = error
        return frame

    def _inputs(self, handle: int, mode: str, parts: list[tuple[str, str]]) -> _Editor:
        box = QWidget()
        grid = QGridLayout(box)
        grid.setContentsMargins(0, 4, 0, 0)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(4)
        fields: dict[str, QLineEdit] = {}
        for row, (name, label) in enumerate(parts):
            edit = QLineEdit()
            edit.setObjectName(f"{mode}_{name}")
            key = (handle, f"{mode}:{name}")
            edit.setText(self.typed.get(key, ""))
            edit.textChanged.connect(lambda text, k=key: self.typed.__setitem__(k, text))
            caption = PlainLabel(self.tr_(label))
            caption.setBuddy(edit)
            grid.addWidget(caption, row, 0)
            grid.addWidget(edit, row, 1)
            fields[name] = edit
        grid.setColumnStretch(1, 1)
        error = self._label("", "fieldError")
        error.hide()
        grid.addWidget(error, len(parts), 1)
        return _Editor(fields, error, box)

    def _value_parts(self, kind: ContactKind) -> list[tuple[str, str]]:
        if kind is ContactKind.ADDRESS:
            return list(ADDRESS_PARTS)
        label = {
            ContactKind.EMAIL: N_("New e-mail address"),
            ContactKind.MOBILE: N_("New mobile number"),
            ContactKind.PHONE: N_("New phone number"),
        }[kind]
        return [("value", label)]

    def _editor(self, handle: int, kind: ContactKind, mode: str) -> QWidget:
        tr = self.tr_
        if mode == "correct":
            editor = self._inputs(handle, mode, self._value_parts(kind))
            apply_text = tr("Use this")
        else:
            editor = self._inputs(handle, mode, [("reason", N_("Why (e.g. number not in use)"))])
            apply_text = tr("Mark as no longer right")
        apply = QPushButton(apply_text)
        apply.setObjectName(f"{mode}Apply")
        apply.setAutoDefault(False)
        apply.clicked.connect(lambda _c=False: self._apply_editor(handle, kind, mode))
        for edit in editor.fields.values():
            edit.returnPressed.connect(lambda: self._apply_editor(handle, kind, mode))
        grid = editor.box.layout()
        assert isinstance(grid, QGridLayout)
        grid.addWidget(apply, grid.rowCount(), 1, Qt.AlignmentFlag.AlignLeft)
        self.editors[handle] = editor
        return editor.box

    def _add_widget(self) -> QWidget:
        tr = self.tr_
        kinds = {
            FlowStep.PHONES: (ContactKind.MOBILE, ContactKind.PHONE),
            FlowStep.EMAILS: (ContactKind.EMAIL,),
            FlowStep.ADDRESSES: (ContactKind.ADDRESS,),
        }[self.flow.step]
        frame = QFrame()
        frame.setObjectName("addItem")
        layout = QVBoxLayout(frame)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addWidget(self._label(tr("Add one the customer states"), "sectionTitle"))
        self.add_kind = QComboBox()
        self.add_kind.setObjectName("addKind")
        for kind in kinds:
            self.add_kind.addItem(self.kind_word(kind), kind.value)
        key = (0, "add:kind")
        if key in self.typed:
            self.add_kind.setCurrentIndex(max(self.add_kind.findData(self.typed[key]), 0))
        self.add_kind.currentIndexChanged.connect(
            lambda _i: self.typed.__setitem__(key, str(self.add_kind.currentData()))
        )
        self.add_kind.setVisible(len(kinds) > 1)
        parts = (
            list(ADDRESS_PARTS)
            if kinds[0] is ContactKind.ADDRESS
            else [("value", N_("Number") if kinds[0] is not ContactKind.EMAIL else N_("Address"))]
        )
        editor = self._inputs(0, "add", parts)
        add = QPushButton(tr("Add"))
        add.setObjectName("addButton")
        add.setAutoDefault(False)
        add.clicked.connect(self._add)
        for edit in editor.fields.values():
            edit.returnPressed.connect(self._add)
        grid = editor.box.layout()
        assert isinstance(grid, QGridLayout)
        row = QHBoxLayout()
        row.addWidget(self.add_kind)
        row.addWidget(add)
        row.addStretch(1)
        grid.addLayout(row, grid.rowCount(), 1)
        self.editors[0] = editor
        layout.addWidget(editor.box)
        return frame

    def _render_date_of_birth(self) -> None:
        tr, view = self.tr_, self.flow.birth_view()
        on_file = (
            tr("On file: {date} (only the year is shown).", date=masked_date_of_birth(view.on_file))
            if view.on_file is not None
            else tr("No date of birth on file yet.")
        )
        self.page_layout.addWidget(self._label(on_file, "birthOnFile"))
        self.page_layout.addWidget(
            self._label(
                tr(
                    "Ask: “Could you tell me your date of birth?” Type what the customer "
                    "says; the desk compares it with the date on file. You may leave this "
                    "empty if the customer would rather not say."
                ),
                "hint",
            )
        )
        if view.decision is not None and view.stated is not None:
            row = QHBoxLayout()
            text = tr(BIRTH_DECISIONS[view.decision], value=view.stated.strftime("%d-%m-%Y"))
            row.addWidget(self._label(text, "birthState"), 1)
            undo = QPushButton(tr("Undo"))
            undo.setObjectName("undoBirthButton")
            undo.setAutoDefault(False)
            undo.clicked.connect(self._undo_birth)
            row.addWidget(undo)
            holder = QWidget()
            holder.setLayout(row)
            self.page_layout.addWidget(holder)
            return
        editor = self._inputs(0, "birth", [("date_of_birth", N_("Date of birth as stated"))])
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

    def _render_preferences(self) -> None:
        tr = self.tr_
        box = QWidget()
        grid = QGridLayout(box)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setVerticalSpacing(8)
        grid.addWidget(PlainLabel(tr("Preferred channel")), 0, 0)
        grid.addWidget(self.channel, 0, 1)
        grid.addWidget(self.preference_error, 1, 1)
        times = QHBoxLayout()
        for box_ in self.times.values():
            times.addWidget(box_)
        times.addStretch(1)
        grid.addWidget(PlainLabel(tr("Best time to call")), 2, 0)
        grid.addLayout(times, 2, 1)
        grid.addWidget(PlainLabel(tr("Text messages (SMS)")), 3, 0)
        grid.addWidget(self.consent_sms, 3, 1)
        grid.addWidget(PlainLabel(tr("WhatsApp")), 4, 0)
        grid.addWidget(self.consent_whatsapp, 4, 1)
        hint = self._label(
            tr(
                "Ask: “How would you like us to contact you, and when is a good time?” "
                "Only record consent for SMS or WhatsApp if the customer clearly says yes."
            ),
            "hint",
        )
        grid.addWidget(hint, 5, 0, 1, 2)
        grid.addWidget(self.opt_outs, 6, 0, 1, 2)
        grid.setColumnStretch(1, 1)
        self.page_layout.addWidget(box)
        for widget in self._persistent():
            if widget is not self.preference_error:
                widget.show()

    def _render_summary(self) -> None:
        tr, words = self.tr_, self.words
        lines = []
        for view in self.flow.summary():
            value = view.current_value or view.new_value or ""
            decided = tr(
                DECISIONS[view.decision] if view.decision else "",
                value=view.new_value or "",
                reason=view.reason or "",
            )
            lines.append(f"{CONTACT_ICONS.get(view.kind.value, '•')}  {value}   {decided}")
        if not lines:
            lines.append(tr("No contact details were checked."))
        birth = self.flow.birth_view()
        if birth.decision is not None and birth.stated is not None:
            decided = tr(BIRTH_DECISIONS[birth.decision], value=birth.stated.strftime("%d-%m-%Y"))
            lines.append(f"{tr('Date of birth')}   {decided}")
        self.page_layout.addWidget(self._label("\n".join(lines), "summary"))
        prefs = self.flow.preferences
        consent = {None: tr("not asked"), True: tr("yes"), False: tr("no")}
        channel = (
            words.code(CHANNELS, prefs.preferred_channel.value)
            if prefs.preferred_channel
            else tr("no preference")
        )
        times = ", ".join(
            tr(TIMES_OF_DAY[t.value]) for t in TimeOfDay if t in prefs.best_times
        ) or tr("no preference")
        self.page_layout.addWidget(
            self._label(
                tr(
                    "Preferred channel: {channel}\nBest time: {times}\nSMS: {sms} · "
                    "WhatsApp: {whatsapp}",
                    channel=channel,
                    times=times,
                    sms=consent[prefs.consent_sms],
                    whatsapp=consent[prefs.consent_whatsapp],
                ),
                "summaryPreferences",
            )
        )
        self.page_layout.addWidget(
            self._label(
                tr(
                    "Confirmed, corrected and new details are saved as verified today by you. "
                    "“Would not say” is saved as a refusal, not as verified."
                ),
                "hint",
            )
        )

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

    def _typed_value(self, kind: ContactKind, editor: _Editor) -> str | PostalAddress:
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
        if editor is None:
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
        """The chosen channel; None when it is the file's, shown and not changed: saving
        then leaves it as it is (choosing it anew could move "preferred" to another
        number)."""
        channel = self.channel.currentData()
        if channel == self._loaded_channel and self.flow.preferences.preferred_channel is None:
            return None
        return str(channel) if channel else None

    def _read_preferences(self) -> bool:
        channel = self.channel_to_save()
        try:
            self.flow.set_preferences(
                preferred_channel=Channel(channel) if channel else None,
                best_times=[t for t, box in self.times.items() if box.isChecked()],
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
