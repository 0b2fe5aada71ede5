"""Right column: where the call script runs beside the customer file.

The script engine is built separately (``agent_desk.domain.scripts``). Until its
panel exists this column shows a short placeholder; ``ScriptPanelHost.set_panel``
is the one place the lead plugs the real widget in.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from agent_desk.i18n import Translator


class ScriptPanelHost(QWidget):
    def __init__(self, tr: Translator) -> None:
        super().__init__()
        self.setObjectName("scriptPanel")
        title = QLabel(tr("Script"))
        title.setObjectName("panelTitle")
        self.placeholder = QLabel(
            tr(
                "Call scripts appear here, one step at a time, with the script engine. "
                "Until then, follow your usual conversation guide."
            )
        )
        self.placeholder.setObjectName("hint")
        self.placeholder.setWordWrap(True)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(10, 12, 12, 8)
        self._layout.addWidget(title)
        self._layout.addWidget(self.placeholder, 1)
        self.panel: QWidget | None = None

    def set_panel(self, panel: QWidget) -> None:
        """Replace the placeholder with the script widget."""
        if self.panel is not None:
            self._layout.removeWidget(self.panel)
            self.panel.deleteLater()
        self.placeholder.hide()
        self.panel = panel
        self._layout.addWidget(panel, 1)
