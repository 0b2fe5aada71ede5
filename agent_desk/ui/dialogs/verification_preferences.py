"""F7's last pages: how the customer wants to be reached, and the summary to save.

:class:`PreferencesBox` lives as long as the dialog (going back keeps what was ticked);
:func:`summary_widgets` shows what the flow will save. Neither decides anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QCheckBox, QComboBox, QGridLayout, QHBoxLayout, QWidget

from agent_desk.domain.verification import (
    Channel,
    ContactPreferences,
    Decision,
    TimeOfDay,
    VerificationFlow,
)
from agent_desk.i18n import N_, Translator
from agent_desk.ui.channel_preferences import OptOutBox
from agent_desk.ui.dialogs.verification_items import DECISIONS, text_label
from agent_desk.ui.labels import CHANNELS, CONTACT_ICONS, TIMES_OF_DAY, Words
from agent_desk.ui.plain import PlainLabel

if TYPE_CHECKING:
    from agent_desk.services.customer_file import CustomerFile

__all__ = ["BIRTH_DECISIONS", "PreferencesBox", "birth_decision", "summary_widgets"]

BIRTH_DECISIONS: dict[Decision, str] = {
    Decision.CONFIRMED: N_("✓ the same as the date on file"),
    Decision.CORRECTED: N_("✎ differs from the date on file: it is corrected to {value}"),
    Decision.ADDED: N_("+ recorded: {value}"),
}


def birth_decision(tr: Translator, flow: VerificationFlow) -> str | None:
    """What was decided about the stated date of birth, in words; None: nothing yet."""
    view = flow.birth_view()
    if view.decision is None or view.stated is None:
        return None
    return tr(BIRTH_DECISIONS[view.decision], value=view.stated.strftime("%d-%m-%Y"))


class PreferencesBox(QWidget):
    """Preferred channel, best times, SMS and WhatsApp consent, and the opt-outs."""

    def __init__(self, words: Words, file: CustomerFile) -> None:
        super().__init__()
        tr = words.tr
        self.tr_ = tr
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
        self.error = PlainLabel()
        self.error.setObjectName("fieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setVerticalSpacing(8)
        grid.addWidget(PlainLabel(tr("Preferred channel")), 0, 0)
        grid.addWidget(self.channel, 0, 1)
        grid.addWidget(self.error, 1, 1)
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
        hint = text_label(
            tr(
                "Ask: “How would you like us to contact you, and when is a good time?” "
                "Only record consent for SMS or WhatsApp if the customer clearly says yes."
            ),
            "hint",
        )
        grid.addWidget(hint, 5, 0, 1, 2)
        grid.addWidget(self.opt_outs, 6, 0, 1, 2)
        grid.setColumnStretch(1, 1)

    def _consent_combo(self, name: str) -> QComboBox:
        tr = self.tr_
        combo = QComboBox()
        combo.setObjectName(name)
        combo.addItem(tr("not asked"), None)
        combo.addItem(tr("yes, the customer agrees"), True)
        combo.addItem(tr("no"), False)
        return combo

    def load(self, prefs: ContactPreferences, channel: str | None) -> None:
        self.channel.setCurrentIndex(max(self.channel.findData(channel), 0))
        for time_of_day, box in self.times.items():
            box.setChecked(time_of_day in prefs.best_times)
        for combo, consent in (
            (self.consent_sms, prefs.consent_sms),
            (self.consent_whatsapp, prefs.consent_whatsapp),
        ):
            for index in range(combo.count()):
                if combo.itemData(index) is consent:
                    combo.setCurrentIndex(index)

    def best_times(self) -> list[TimeOfDay]:
        return [t for t, box in self.times.items() if box.isChecked()]


def summary_widgets(words: Words, flow: VerificationFlow) -> list[QWidget]:
    """The summary page: each decision, the date of birth, the preferences, what saving does."""
    tr = words.tr
    lines = []
    for view in flow.summary():
        value = view.current_value or view.new_value or ""
        decided = tr(
            DECISIONS[view.decision] if view.decision else "",
            value=view.new_value or "",
            reason=view.reason or "",
        )
        lines.append(f"{CONTACT_ICONS.get(view.kind.value, '•')}  {value}   {decided}")
    if not lines:
        lines.append(tr("No contact details were checked."))
    birth = birth_decision(tr, flow)
    if birth is not None:
        lines.append(f"{tr('Date of birth')}   {birth}")
    prefs = flow.preferences
    consent = {None: tr("not asked"), True: tr("yes"), False: tr("no")}
    channel = (
        words.code(CHANNELS, prefs.preferred_channel.value)
        if prefs.preferred_channel
        else tr("no preference")
    )
    times = ", ".join(tr(TIMES_OF_DAY[t.value]) for t in TimeOfDay if t in prefs.best_times) or tr(
        "no preference"
    )
    return [
        text_label("\n".join(lines), "summary"),
        text_label(
            tr(
                "Preferred channel: {channel}\nBest time: {times}\nSMS: {sms} · "
                "WhatsApp: {whatsapp}",
                channel=channel,
                times=times,
                sms=consent[prefs.consent_sms],
                whatsapp=consent[prefs.consent_whatsapp],
            ),
            "summaryPreferences",
        ),
        text_label(
            tr(
                "Confirmed, corrected and new details are saved as verified today by you. "
                "“Would not say” is saved as a refusal, not as verified."
            ),
            "hint",
        ),
    ]
