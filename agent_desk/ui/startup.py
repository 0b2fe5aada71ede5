"""What the agent sees while the database is opened (and, once, demo data loaded)."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QProgressBar, QVBoxLayout, QWidget

from agent_desk.i18n import Translator
from agent_desk.ui.plain import PlainLabel


def shown_url(url: str) -> str:
    """A database URL as typed, never with a password (before SQLAlchemy has checked it)."""
    return re.sub(r"://([^/@:]*):[^/@]*@", r"://\1:***@", url.strip())


class StartupWindow(QWidget):
    def __init__(self, tr: Translator, database: str, demo: bool) -> None:
        super().__init__()
        self.setObjectName("startupWindow")
        self.tr_ = tr
        self.setWindowTitle(tr("Agent Desk"))
        title = PlainLabel(tr("Agent Desk"))
        title.setObjectName("dialogTitle")
        self.status = PlainLabel(tr("Opening the database…"))
        self.status.setObjectName("startupStatus")
        self.status.setWordWrap(True)
        self.where = where = PlainLabel(database)
        where.setObjectName("hint")
        where.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)
        self.bar.setTextVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 24)
        layout.addWidget(title)
        layout.addWidget(self.status)
        layout.addWidget(self.bar)
        layout.addWidget(where)
        if demo:
            note = PlainLabel(tr("Demo mode: a separate database with made-up customers."))
            note.setObjectName("hint")
            layout.addWidget(note)
        self.setFixedWidth(460)
        self.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, False)

    def set_database(self, database: str) -> None:
        """The database as shown to people (the URL as typed until it was checked)."""
        self.where.setText(database)

    def progress(self, done: int, total: int) -> None:
        self.status.setText(
            self.tr_("Preparing demo data: {done} of {total} customers…", done=done, total=total)
        )
        self.bar.setRange(0, total)
        self.bar.setValue(done)
