"""Who is working? On the embedded database the agent picks their name (no password)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from agent_desk.i18n import Translator
from agent_desk.ui.plain import PlainLabel

if TYPE_CHECKING:
    from agent_desk.services.agents import AgentSummary

ROLES = {"agent": "agent", "supervisor": "supervisor"}


class AgentPicker(QDialog):
    chosen = Signal(str)  # login

    def __init__(
        self,
        tr: Translator,
        agents: list[AgentSummary],
        database: str,
        last_login: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("agentPicker")
        self.setWindowTitle(tr("Agent Desk — who is working?"))
        title = PlainLabel(tr("Good to see you. Who is working today?"))
        title.setObjectName("dialogTitle")
        where = PlainLabel(tr("Database: {database}", database=database))
        where.setObjectName("hint")
        where.setWordWrap(True)
        self.list = QListWidget()
        self.list.setObjectName("agentList")
        self.list.setAccessibleName(tr("Who is working today?"))
        self.list.setUniformItemSizes(True)
        role_words = {"agent": tr("agent"), "supervisor": tr("supervisor")}
        for agent in agents:
            if not agent.active:
                continue
            text = tr(
                "{name}  ·  {role}  ·  {count} in queue",
                name=agent.display_name,
                role=role_words.get(agent.role, agent.role),
                count=agent.queue_size,
            )
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, agent.login)
            self.list.addItem(item)
            if agent.login == last_login:
                self.list.setCurrentItem(item)
        if self.list.currentRow() < 0 and self.list.count():
            self.list.setCurrentRow(0)
        self.start = QPushButton(tr("Open my desk"))
        self.start.setObjectName("openDesk")
        self.start.setDefault(True)
        quit_ = QPushButton(tr("Quit"))
        buttons = QDialogButtonBox()
        buttons.addButton(self.start, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(quit_, QDialogButtonBox.ButtonRole.RejectRole)
        self.start.clicked.connect(self._choose)
        quit_.clicked.connect(self.reject)
        self.list.itemActivated.connect(lambda _item: self._choose())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 16)
        layout.setSpacing(10)
        layout.addWidget(title)
        layout.addWidget(where)
        layout.addWidget(self.list, 1)
        layout.addWidget(buttons)
        self.resize(520, 460)

    def login(self) -> str | None:
        item = self.list.currentItem()
        value = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        return value if isinstance(value, str) else None

    def _choose(self) -> None:
        login = self.login()
        if login:
            self.chosen.emit(login)
            self.accept()
