"""The customer's opt-outs ("no e-mail", "no SMS") on the verification dialog's
preferences page (issue 14); saved with the check, in the same transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QCheckBox, QVBoxLayout, QWidget

from agent_desk.i18n import Translator

if TYPE_CHECKING:
    from agent_desk.services.customer_file import CustomerFile


class OptOutBox(QWidget):
    def __init__(self, tr: Translator, file: CustomerFile, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("optOuts")
        self.no_email = QCheckBox(tr("No e-mail: the customer does not want messages by e-&mail"))
        self.no_email.setObjectName("optOutEmail")
        self.no_email.setAccessibleName(tr("The customer opted out of e-mail"))
        self.no_email.setChecked(file.email_opt_out)
        self.no_sms = QCheckBox(tr("No SMS: the customer does not want text messa&ges"))
        self.no_sms.setObjectName("optOutSms")
        self.no_sms.setAccessibleName(tr("The customer opted out of SMS"))
        self.no_sms.setChecked(file.sms_opt_out)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.no_email)
        layout.addWidget(self.no_sms)

    def values(self) -> tuple[bool, bool]:
        return self.no_email.isChecked(), self.no_sms.isChecked()
