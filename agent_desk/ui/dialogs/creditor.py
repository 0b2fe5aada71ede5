"""The creditor's profile (supervisors) and a customer's objection to an early signal.

Both dialogs hold plain values only; :func:`open_creditor_profile` and
:func:`open_objection` load on the desk's worker and save through its one action
path, so a refused value is shown beside its field (the service's ``ValidationError``
names the key).
Ctrl+Enter saves, Esc cancels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from PySide6.QtCore import QDate
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFormLayout,
    QFrame,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from agent_desk.domain import creditor as rules
from agent_desk.errors import ValidationError
from agent_desk.i18n import N_, Translator, error_text
from agent_desk.ui.action_path import DeskContext
from agent_desk.ui.dialogs.form import FormDialog
from agent_desk.ui.plain import PlainLabel

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from agent_desk.services.creditor import Profile

#: Words for the objection channels (the desk translates them).
CHANNEL_WORDS = {
    "phone": N_("by phone"),
    "letter": N_("by letter"),
    "email": N_("by e-mail"),
    "in_person": N_("in person"),
    "sms": N_("by SMS"),
    "whatsapp": N_("by WhatsApp"),
    "web": N_("on the website"),
    "import": N_("from the billing system"),
}


def _ctrl_enter_saves(dialog: FormDialog) -> None:
    for keys in ("Ctrl+Return", "Ctrl+Enter"):
        QShortcut(QKeySequence(keys), dialog, dialog.save.click)


class CreditorDialog(FormDialog):
    """Every key of the profile; saving sends only what changed."""

    def __init__(self, tr: Translator, profile: Profile, parent: QWidget | None = None) -> None:
        super().__init__(
            tr, tr("Creditor profile (version {version})", version=profile.version), parent
        )
        self.setObjectName("creditorDialog")
        self.setMinimumWidth(820)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.shown = profile.shown()
        self.inputs: dict[str, QLineEdit | QComboBox | QCheckBox] = {}
        used: set[str] = set()
        for field in rules.FIELDS:
            widget: QLineEdit | QComboBox | QCheckBox
            if field.key == "sector":
                widget = QComboBox()
                for value, label in rules.SECTOR_LABELS.items():
                    widget.addItem(tr(label), value)
                widget.setCurrentIndex(max(0, widget.findData(profile.values["sector"])))
            elif field.key == "vat_on_costs":
                widget = QCheckBox(tr("the creditor cannot deduct VAT"))
                widget.setChecked(bool(profile.values["vat_on_costs"]))
            else:
                widget = QLineEdit(self.shown[field.key] if field.key != "logo" else "")
                if field.key == "logo":
                    widget.setPlaceholderText(
                        tr("(stored)")
                        if profile.values["logo"]
                        else tr("path to a PNG or JPEG file")
                    )
            widget.setObjectName(f"creditor_{field.key}")
            label_text = _mnemonic(tr(field.label), used)
            widget.setAccessibleName(tr(field.label))
            self.inputs[field.key] = widget
            self.add_field(label_text, widget, field.key)
            _buddy(self, widget)
        self.duty = PlainLabel()
        self.duty.setObjectName("hint")
        self.duty.setWordWrap(True)
        self.form.addRow(PlainLabel(), self.duty)
        sector = self.inputs["sector"]
        assert isinstance(sector, QComboBox)
        sector.currentIndexChanged.connect(self._show_duty)
        self._show_duty()
        self.save.setText(tr("Save profile"))
        _ctrl_enter_saves(self)
        _scrolling_form(self)

    def _show_duty(self) -> None:
        sector = self.inputs["sector"]
        assert isinstance(sector, QComboBox)
        if rules.Duty.EARLY_SIGNAL in rules.duties(str(sector.currentData())):
            self.duty.setText(
                self.tr_(
                    "This sector must send early signals to the municipality: the 14-day "
                    "letter offers it, and the queue shows when a signal is due."
                )
            )
        else:
            self.duty.setText(self.tr_("This sector has no early-signal duty."))

    def show_error(self, field: str | None, message: str) -> None:
        """Beside the field, and scrolled into view."""
        super().show_error(field, message)
        scroll = self.findChild(QScrollArea, "creditorForm")
        widget = self.inputs.get(field or "")
        if scroll is not None and widget is not None:
            scroll.ensureWidgetVisible(widget)
            widget.setFocus()

    def typed(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for key, widget in self.inputs.items():
            if isinstance(widget, QComboBox):
                values[key] = str(widget.currentData())
            elif isinstance(widget, QCheckBox):
                values[key] = "yes" if widget.isChecked() else "no"
            else:
                values[key] = widget.text()
        return values

    def payload(self) -> dict[str, str] | None:
        changes = {
            key: text
            for key, text in self.typed().items()
            if (key == "logo" and text.strip()) or (key != "logo" and text != self.shown[key])
        }
        for key, text in changes.items():  # checked here first: the errors show at once
            try:
                if key != "logo":
                    rules.parse(key, text)
            except ValidationError as error:
                self.show_error(key, error_text(error, self.tr_))
                return None
        if not changes:
            self.show_notice(self.tr_("Nothing changed."))
            return None
        return changes


def _scrolling_form(dialog: FormDialog) -> None:
    """Twenty fields fit a small laptop screen: the form scrolls, the buttons stay."""
    layout = dialog.layout()
    assert isinstance(layout, QVBoxLayout)
    layout.removeItem(dialog.form)
    inner = QWidget()
    inner.setLayout(dialog.form)
    scroll = QScrollArea()
    scroll.setObjectName("creditorForm")
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setWidget(inner)
    scroll.setMinimumHeight(min(560, inner.sizeHint().height() + 8))
    layout.insertWidget(2, scroll, 1)


def _buddy(dialog: FormDialog, widget: QWidget) -> None:
    """The caption of ``widget``'s row (the last row added) takes Alt+its letter to it."""
    row = dialog.form.rowCount() - 1
    if widget.parentWidget() is None:
        return
    item = dialog.form.itemAt(row, dialog.form.ItemRole.LabelRole)
    caption = item.widget() if item is not None else None
    if isinstance(caption, PlainLabel):
        caption.setBuddy(widget)


def _mnemonic(label: str, used: set[str]) -> str:
    """``&`` before the first letter not yet used, so every field has Alt+letter."""
    for position, char in enumerate(label):
        if char.isalpha() and char.lower() not in used:
            used.add(char.lower())
            return label[:position] + "&" + label[position:]
    return label


@dataclass(frozen=True)
class ObjectionInput:
    on: date
    channel: str
    withdrawal: bool


class ObjectionDialog(FormDialog):
    def __init__(
        self, tr: Translator, name: str, today: date, parent: QWidget | None = None
    ) -> None:
        super().__init__(tr, tr("Objection to an early signal: {name}", name=name), parent)
        self.setObjectName("objectionDialog")
        self.day = QDateEdit(QDate(today.year, today.month, today.day))
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("yyyy-MM-dd")
        self.day.setObjectName("objectionDate")
        self.day.setAccessibleName(tr("Date the objection reached us"))
        self.channel = QComboBox()
        self.channel.setObjectName("objectionChannel")
        self.channel.setAccessibleName(tr("How the objection came"))
        from agent_desk.services.signals import OBJECTION_CHANNELS

        for code in OBJECTION_CHANNELS:
            if code != "import":
                self.channel.addItem(tr(CHANNEL_WORDS[code]), code)
        self.withdraw = QCheckBox(tr("The customer &withdraws an earlier objection"))
        self.withdraw.setObjectName("objectionWithdraw")
        self.add_field(tr("&Date"), self.day, "date")
        _buddy(self, self.day)
        self.add_field(tr("&Channel"), self.channel, "channel")
        _buddy(self, self.channel)
        self.form.addRow(PlainLabel(), self.withdraw)
        hint = PlainLabel(
            tr("An objection stops signals to the municipality until it is withdrawn.")
        )
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        self.form.addRow(PlainLabel(), hint)
        self.save.setText(tr("Record"))
        self.today = today
        _ctrl_enter_saves(self)

    def payload(self) -> ObjectionInput | None:
        chosen = self.day.date()
        on = date(chosen.year(), chosen.month(), chosen.day())
        if on > self.today:
            self.show_error(
                "date", self.tr_("The date lies in the future; give the day it reached you.")
            )
            return None
        return ObjectionInput(on, str(self.channel.currentData()), self.withdraw.isChecked())


def open_creditor_profile(desk: DeskContext) -> None:
    """Supervisor › Creditor profile: load, show, save as a new version."""
    tr, actor, parent = desk.words.tr, desk.actor, desk.parent

    def opened(profile: Profile) -> None:
        dialog = CreditorDialog(tr, profile, parent)

        def submit(changes: dict[str, str]) -> None:
            now = desk.clock()

            def save(session: Session) -> Profile:
                from agent_desk.services.creditor import set_values

                return set_values(session, actor, changes, now)

            desk.actions.op(None, save).form(dialog).run()

        dialog.submitted.connect(submit)
        dialog.open()
        parent.setProperty("creditorDialog", dialog)

    def load(session: Session) -> Profile:
        from agent_desk.services.creditor import current_profile

        return current_profile(session)

    desk.worker.submit(load, opened)


def open_objection(
    desk: DeskContext, customer_id: int, name: str, on_saved: Callable[[], None]
) -> ObjectionDialog:
    """Customer › Objection to an early signal, recorded through the one action path."""
    actor, tr = desk.actor, desk.words.tr
    dialog = ObjectionDialog(tr, name, desk.clock().date(), desk.parent)

    def submit(value: ObjectionInput) -> None:
        when = desk.clock()

        def record(session: Session) -> int:
            from agent_desk.services.signals import record_objection

            return record_objection(
                session,
                actor,
                customer_id,
                on=value.on,
                channel=value.channel,
                now=when,
                withdrawal=value.withdrawal,
            )

        desk.actions.op(customer_id, record).form(dialog, typed=value).success(
            lambda _id: on_saved()
        ).run()

    dialog.submitted.connect(submit)
    dialog.open()
    return dialog


def _iso_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def describe_signal(tr: Translator, words: object, item: object) -> str:
    """A timeline line for an objection, a withdrawal or a signal sent."""
    summary = getattr(item, "summary", "")
    values: dict[str, str] = dict(getattr(item, "values", {}))
    day = getattr(words, "day", None)
    for key in ("on", "sent_on"):  # ISO dates in the desk's words ("12 Mar")
        if callable(day) and len(values.get(key, "")) == 10:
            parsed = _iso_day(values[key])
            if parsed is not None:
                values[key] = str(day(parsed))
    if summary == "signal_sent":
        return tr(
            "⚑ early signal sent to {municipality} on {date}",
            municipality=values.get("municipality", "?"),
            date=values.get("sent_on", "?"),
        )
    if summary == "signal_withdrawal":
        return tr("⚑ objection to early signals withdrawn ({date})", date=values.get("on", "?"))
    return tr(
        "⚑ objects to an early signal ({date}, {channel})",
        date=values.get("on", "?"),
        channel=tr(CHANNEL_WORDS.get(values.get("channel", ""), values.get("channel", ""))),
    )
