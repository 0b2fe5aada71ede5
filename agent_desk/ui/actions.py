"""The desk's actions: one key each, named with their key in menus, bar and tooltips."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

from agent_desk.i18n import Translator


@dataclass
class DeskActions:
    log_contact: QAction
    promise: QAction
    arrangement: QAction
    pause: QAction
    letter: QAction
    next_customer: QAction
    search: QAction
    refresh: QAction
    shortcuts: QAction
    quit: QAction
    approvals: QAction  # supervisors only: hidden for agents
    verify: QAction  # F7: check the contact details with the customer
    team_view: QAction  # supervisors only
    reassign: QAction  # supervisors only
    audit_trail: QAction  # supervisors only
    note: QAction  # Ctrl+N: a note on the file
    next_step: QAction  # F12: plan the next step without a contact
    find_customer: QAction  # Ctrl+K / Ctrl+F: find anyone, also outside the queue

    def supervisor_only(self) -> list[QAction]:
        return [self.approvals, self.team_view, self.reassign, self.audit_trail]

    def all(self) -> list[QAction]:
        return [
            self.log_contact,
            self.promise,
            self.arrangement,
            self.pause,
            self.letter,
            self.next_customer,
            self.search,
            self.refresh,
            self.shortcuts,
            self.quit,
            self.approvals,
            self.verify,
            self.team_view,
            self.reassign,
            self.audit_trail,
            self.note,
            self.next_step,
            self.find_customer,
        ]

    def on_customer(self) -> list[QAction]:
        """Actions that need an open customer."""
        return [
            self.log_contact,
            self.promise,
            self.arrangement,
            self.pause,
            self.letter,
            self.verify,
            self.note,
            self.next_step,
        ]


def _action(parent: QWidget, name: str, text: str, key: str, tip: str, tr: Translator) -> QAction:
    action = QAction(text, parent)
    action.setObjectName(name)
    action.setShortcut(QKeySequence(key))
    label = QKeySequence(key).toString(QKeySequence.SequenceFormat.NativeText)
    action.setIconText(f"{label}  {text}")
    action.setToolTip(tr("{action} ({key}): {tip}", action=text, key=label, tip=tip))
    action.setStatusTip(tip)
    parent.addAction(action)
    return action


def build_actions(parent: QWidget, tr: Translator) -> DeskActions:
    actions = DeskActions(
        log_contact=_action(
            parent,
            "logContact",
            tr("Log contact"),
            "F2",
            tr("record a call or message and the next step"),
            tr,
        ),
        promise=_action(parent, "promise", tr("Promise"), "F3", tr("record a promise to pay"), tr),
        arrangement=_action(
            parent,
            "arrangement",
            tr("Arrangement"),
            "F4",
            tr("plan instalments the customer can keep"),
            tr,
        ),
        pause=_action(
            parent, "pause", tr("Pause"), "F5", tr("pause or resume automatic collection"), tr
        ),
        letter=_action(
            parent,
            "letter",
            tr("Letter"),
            "F6",
            tr("preview, print or save a letter for this customer"),
            tr,
        ),
        next_customer=_action(
            parent,
            "nextCustomer",
            tr("Next customer"),
            "F8",
            tr("open the top of your queue and hold it for you"),
            tr,
        ),
        search=_action(
            parent,
            "search",
            tr("Search the queue"),
            "/",
            tr("find a customer by name, number, phone or postcode"),
            tr,
        ),
        refresh=_action(parent, "refresh", tr("Refresh"), "F9", tr("load the latest data"), tr),
        shortcuts=_action(
            parent, "shortcuts", tr("Keyboard shortcuts"), "F1", tr("list every key"), tr
        ),
        quit=_action(
            parent, "quit", tr("Quit"), "Ctrl+Q", tr("release your customers and close"), tr
        ),
        approvals=_action(
            parent,
            "approvals",
            tr("Approvals"),
            "Ctrl+Shift+A",
            tr("approve or decline arrangements outside policy"),
            tr,
        ),
        verify=_action(
            parent,
            "verifyContacts",
            tr("Verify contact details"),
            "F7",
            tr("ask the customer to state their phone, e-mail and address"),
            tr,
        ),
        team_view=_action(
            parent,
            "teamView",
            tr("Team view"),
            "Ctrl+Shift+T",
            tr("queues, today's work and charts for the whole team"),
            tr,
        ),
        reassign=_action(
            parent,
            "reassign",
            tr("Reassign customers"),
            "Ctrl+Shift+R",
            tr("move customers to another agent or spread them over several"),
            tr,
        ),
        audit_trail=_action(
            parent,
            "auditTrail",
            tr("Audit trail"),
            "Ctrl+Shift+U",
            tr("who opened and who changed which customer, and when"),
            tr,
        ),
        note=_action(
            parent,
            "note",
            tr("Note"),
            "Ctrl+N",
            tr("write a note on the file for colleagues"),
            tr,
        ),
        next_step=_action(
            parent,
            "nextStep",
            tr("Next step"),
            "F12",
            tr("plan the next step without logging a contact"),
            tr,
        ),
        find_customer=_action(
            parent,
            "findCustomer",
            tr("Find a customer"),
            "Ctrl+K",
            tr("anyone you may see, by name, number, phone, e-mail, postcode or claim"),
            tr,
        ),
    )
    actions.find_customer.setShortcuts([QKeySequence("Ctrl+K"), QKeySequence("Ctrl+F")])
    for action in actions.on_customer():
        action.setEnabled(False)
    return actions


@dataclass
class PaneActions:
    """Moving between the three columns, and calling the customer (issue 13)."""

    next_pane: QAction  # Ctrl+F6 / Ctrl+Tab: queue → file → script → queue
    previous_pane: QAction  # Ctrl+Shift+F6 / Ctrl+Shift+Tab
    call: QAction  # Ctrl+D: dial the preferred phone number in the softphone
    release: QAction  # Ctrl+Shift+S: release / skip this customer, with a reason

    def all(self) -> list[QAction]:
        return [self.next_pane, self.previous_pane, self.call, self.release]


def build_pane_actions(parent: QWidget, tr: Translator) -> PaneActions:
    actions = PaneActions(
        next_pane=_action(
            parent,
            "nextPane",
            tr("Next pane"),
            "Ctrl+F6",
            tr("move the focus on: queue, customer file, script"),
            tr,
        ),
        previous_pane=_action(
            parent,
            "previousPane",
            tr("Previous pane"),
            "Ctrl+Shift+F6",
            tr("move the focus back: script, customer file, queue"),
            tr,
        ),
        call=_action(
            parent,
            "callCustomer",
            tr("Call"),
            "Ctrl+D",
            tr("dial the customer's preferred phone number in your softphone"),
            tr,
        ),
        release=_action(
            parent,
            "releaseCustomer",
            tr("Release / skip customer"),
            "Ctrl+Shift+S",
            tr("let this customer go for now, with a reason; they come back later"),
            tr,
        ),
    )
    actions.next_pane.setShortcuts([QKeySequence("Ctrl+F6"), QKeySequence("Ctrl+Tab")])
    actions.previous_pane.setShortcuts(
        [QKeySequence("Ctrl+Shift+F6"), QKeySequence("Ctrl+Shift+Tab")]
    )
    actions.call.setEnabled(False)
    actions.release.setEnabled(False)
    return actions
