"""The two inputs of a next step (what, when), shared by F2 and F12."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QDateTime
from PySide6.QtWidgets import QComboBox

from agent_desk.ui.labels import CHOOSABLE_STEPS, NEXT_STEPS, Words
from agent_desk.ui.typed_dates import TypedDateTimeEdit


def step_kind_combo(words: Words) -> QComboBox:
    """The kinds an agent may choose, after an empty "choose" entry (data None)."""
    combo = QComboBox()
    combo.setObjectName("stepKind")
    combo.addItem(words.tr("— choose a next step —"), None)
    for kind in CHOOSABLE_STEPS:
        combo.addItem(words.code(NEXT_STEPS, kind), kind.value)
    return combo


def step_due_edit(start: datetime) -> TypedDateTimeEdit:
    edit = TypedDateTimeEdit()
    edit.setObjectName("stepDue")
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("dd-MM-yyyy HH:mm")
    edit.setDateTime(QDateTime(start))  # type: ignore[call-overload, unused-ignore]  # PySide6 6.11 stubs
    return edit
