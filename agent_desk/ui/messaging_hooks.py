"""The desk's hooks for e-mail and SMS (issue 14), kept out of the main window's file:
the "Send message" action (Ctrl+M), and "Send by e-mail" from the F6 letters dialog."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from agent_desk.domain.messaging import MessageChannel, MessageKind

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from PySide6.QtWidgets import QDialog, QMenuBar, QWidget

    from agent_desk.domain.actor import Actor
    from agent_desk.i18n import Translator
    from agent_desk.services.customer_file import CustomerFile
    from agent_desk.ui.action_path import DeskContext
    from agent_desk.ui.actions import DeskActions
    from agent_desk.ui.dialogs.campaign import CampaignDialog
    from agent_desk.ui.dialogs.send_message import SendMessageDialog
    from agent_desk.ui.worker import DatabaseWorker


class DeskWindow(Protocol):
    """What these hooks use of the desk's main window (``ui.app_window.DeskWindow``).

    Written out here so that this module does not import the window's module: the
    window installs the hooks, the hooks do not reach back up for it.
    """

    tr_: Translator
    actions_: DeskActions
    actor: Actor
    worker: DatabaseWorker
    clock: Callable[[], datetime]
    desk_context: DeskContext
    campaign_action: QAction | None
    campaign_dialog: QDialog | None
    send_message_dialog: QDialog | None

    @property
    def letters_dialog(self) -> QDialog | None: ...

    def current_file(self) -> CustomerFile | None: ...

    def _reload_file(self, customer_id: int) -> None: ...

    def addAction(self, action: QAction, /) -> None: ...

    def menuBar(self) -> QMenuBar: ...

    def window(self) -> QWidget: ...


def install(window: DeskWindow) -> QAction:
    """Add the action to the window (and its Customer menu), enabled with a customer."""
    tr = window.tr_
    action = QAction(tr("Send message…"), window.window())
    action.setObjectName("sendMessage")
    action.setShortcut(QKeySequence("Ctrl+M"))
    action.setToolTip(tr("Send an e-mail or SMS to this customer (Ctrl+M)"))
    action.setStatusTip(tr("Send an e-mail or SMS to this customer"))
    action.setEnabled(window.actions_.letter.isEnabled())
    window.addAction(action)
    letter = window.actions_.letter
    letter.changed.connect(lambda: action.setEnabled(letter.isEnabled()))
    action.triggered.connect(lambda: open_send_message(window))
    for menu in window.menuBar().findChildren(QMenu):
        if letter in menu.actions():
            menu.insertAction(window.actions_.verify, action)
    if window.actor.is_supervisor:
        campaign = QAction(tr("Message a selection…"), window.window())
        campaign.setObjectName("campaign")
        campaign.setStatusTip(tr("A message to customers with a known trigger, counted first"))
        campaign.triggered.connect(lambda: open_campaign(window))
        window.addAction(campaign)
        for menu in window.menuBar().findChildren(QMenu):
            if window.actions_.team_view in menu.actions():
                menu.addAction(campaign)
        window.campaign_action = campaign
    return action


def open_campaign(window: DeskWindow) -> CampaignDialog:
    """Supervisor ▸ Message a selection (count and example before anything is queued)."""
    from agent_desk.ui.dialogs.campaign import CampaignDialog  # on first use

    dialog = CampaignDialog(
        worker=window.worker,
        actor=window.actor,
        tr=window.tr_,
        clock=window.clock,
        parent=window.window(),
    )
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    window.campaign_dialog = dialog
    dialog.open()
    return dialog


def open_send_message(
    window: DeskWindow,
    kind: MessageKind = MessageKind.MISSED_CALL,
    channel: MessageChannel = MessageChannel.SMS,
) -> SendMessageDialog | None:
    file = window.current_file()
    if file is None:
        return None
    from agent_desk.ui.dialogs.send_message import SendMessageDialog  # on first use

    dialog = SendMessageDialog(
        window.desk_context, file, kind=kind, channel=channel, sent=window._reload_file
    )
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    window.send_message_dialog = dialog
    dialog.open()
    return dialog


def send_confirmation_by_email(window: DeskWindow) -> SendMessageDialog | None:
    """From F6: the arrangement confirmation by e-mail, PDF attached."""
    if window.letters_dialog is not None:
        window.letters_dialog.reject()
    return open_send_message(window, MessageKind.ARRANGEMENT_CONFIRMATION, MessageChannel.EMAIL)
