"""The supervisor's screen for the team's rules: policy, rates, scripts, letter texts.

Pick a document, edit its text, say why, save. The service checks it with the
checker of the shipped files; a refusal is shown under the editor with the line and
the reason, and nothing is saved. All database work runs on the worker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from agent_desk.domain.actor import Actor
from agent_desk.domain.team_rules import RuleRefused
from agent_desk.errors import AgentDeskError
from agent_desk.i18n import N_, Translator

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from agent_desk.services import team_rules

KIND_LABELS = {
    "policy": N_("Policy"),
    "rates": N_("Rates"),
    "script": N_("Script"),
    "letter": N_("Letter text"),
}


class TeamRulesDialog(QDialog):
    """Lists the team's documents in force; edits one at a time."""

    def __init__(self, worker: Any, actor: Actor, tr: Translator, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setObjectName("teamRulesDialog")
        self.setWindowTitle(tr("Team rules"))
        self.resize(980, 640)
        self.worker, self.actor, self.tr_ = worker, actor, tr
        self.versions: list[team_rules.RuleVersion] = []
        self.current: team_rules.RuleVersion | None = None
        self.documents = QListWidget()
        self.documents.setObjectName("teamRuleList")
        self.documents.setAccessibleName(tr("Team rules"))
        self.documents.setMinimumWidth(360)
        self.documents.currentRowChanged.connect(self._chosen)
        self.editor = QPlainTextEdit()
        self.editor.setObjectName("teamRuleEditor")
        self.editor.setAccessibleName(tr("The chosen document"))
        self.history = QLabel()
        self.history.setObjectName("hint")
        self.history.setWordWrap(True)
        self.reason = QLineEdit()
        self.reason.setObjectName("teamRuleReason")
        self.reason.setPlaceholderText(tr("Why (kept in the history)"))
        self.problem = QLabel()
        self.problem.setObjectName("fieldError")
        self.problem.setWordWrap(True)
        self.save_button = QPushButton(tr("Save as the team's new version"))
        self.save_button.setObjectName("teamRuleSave")
        self.save_button.clicked.connect(self.save)
        close = QPushButton(tr("Close"))
        close.clicked.connect(self.reject)
        right = QVBoxLayout()
        right.addWidget(self.history)
        right.addWidget(self.editor, 1)
        right.addWidget(self.problem)
        right.addWidget(self.reason)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(close)
        right.addLayout(buttons)
        layout = QHBoxLayout(self)
        layout.addWidget(self.documents)
        layout.addLayout(right, 1)
        if not actor.is_supervisor:
            self.editor.setReadOnly(True)
            self.save_button.setEnabled(False)
        self.reload()

    # -- reading ---------------------------------------------------------------

    def reload(self) -> None:
        from agent_desk.services import team_rules

        self.worker.submit(team_rules.documents, self._listed, self._failed)

    def _listed(self, versions: list[team_rules.RuleVersion]) -> None:
        chosen = (self.current.kind, self.current.key) if self.current else None
        self.versions = versions
        row = next(
            (i for i, v in enumerate(versions) if (v.kind, v.key) == chosen),
            0 if versions else -1,
        )
        self.documents.blockSignals(True)
        self.documents.clear()
        for v in versions:
            self.documents.addItem(f"{self.tr_(KIND_LABELS[v.kind])}: {v.key} · v{v.version}")
        self.documents.setCurrentRow(row)
        self.documents.blockSignals(False)
        self._chosen(row, keep_message=True)

    def _chosen(self, row: int, keep_message: bool = False) -> None:
        if not 0 <= row < len(self.versions):
            return
        version = self.versions[row]
        self.current = version
        if not keep_message:
            self.problem.setText("")

        def read(session: Session) -> str:
            from agent_desk.services import team_rules

            return team_rules.document_text(session, version.kind, version.key)

        self.worker.submit(read, self._show_text, self._failed)
        if version.version == 0:
            self.history.setText(self.tr_("The shipped text; saving makes it the team's own."))
            return
        if not version.changed_by:
            self.history.setText(
                self.tr_("Version {version}: the shipped default.", version=version.version)
            )
            return
        who = version.changed_by
        self.history.setText(
            self.tr_(
                "Version {version}, {when}, by {who}: {reason}",
                version=version.version,
                when=version.changed_at.strftime("%Y-%m-%d %H:%M"),
                who=who,
                reason=version.reason or "—",
            )
        )

    def _show_text(self, body: str) -> None:
        self.editor.setPlainText(body)

    # -- saving ----------------------------------------------------------------

    def save(self) -> None:
        version = self.current
        if version is None:
            return
        body, reason, actor = self.editor.toPlainText(), self.reason.text(), self.actor

        def task(session: Session) -> team_rules.RuleVersion:
            from agent_desk.services import team_rules

            saved = team_rules.save(
                session,
                actor,
                version.kind,
                version.key,
                body,
                reason=reason,
                expected_version=version.version,
            )
            return saved

        self.worker.submit(task, self._saved, self._failed)

    def _saved(self, saved: team_rules.RuleVersion) -> None:
        self.problem.setText(
            self.tr_("Saved as version {version}; every desk uses it now.", version=saved.version)
        )
        self.reason.clear()
        self.reload()

    def _failed(self, error: BaseException) -> None:
        if isinstance(error, RuleRefused):
            self.problem.setText("\n".join(str(p) for p in error.problems[:5]))
        elif isinstance(error, AgentDeskError):
            self.problem.setText(self.tr_.error(error))
        else:
            raise error
