"""SQLAlchemy 2 typed mapped classes, and nothing else."""

from agent_desk.models.activity import (
    Arrangement,
    ContactAttempt,
    Instalment,
    LetterSent,
    NextStep,
    Note,
    Payment,
    PromiseToPay,
)
from agent_desk.models.base import Base
from agent_desk.models.ledger import DemandNotice, DemandNoticeClaim, LedgerEntry
from agent_desk.models.log import AuditEvent, ChangeLog
from agent_desk.models.messages import Message
from agent_desk.models.people import Agent, Claim, ContactPoint, Customer
from agent_desk.models.search import CustomerSearchKey
from agent_desk.models.setting import Setting
from agent_desk.models.signals import CreditorProfileVersion, EarlySignal, SignalObjection
from agent_desk.models.team_rule import TeamRule

__all__ = [
    "Agent",
    "Arrangement",
    "AuditEvent",
    "Base",
    "ChangeLog",
    "Claim",
    "ContactAttempt",
    "ContactPoint",
    "CreditorProfileVersion",
    "Customer",
    "CustomerSearchKey",
    "DemandNotice",
    "DemandNoticeClaim",
    "EarlySignal",
    "Instalment",
    "LedgerEntry",
    "LetterSent",
    "Message",
    "NextStep",
    "Note",
    "Payment",
    "PromiseToPay",
    "Setting",
    "SignalObjection",
    "TeamRule",
]
