"""Bounces that come later: the mail server's delivery reports, read from a maildir.

A bounce arrives hours after the sender handed an e-mail over. Each report (RFC 3464)
marks our e-mail ``bounced`` in the customer's timeline and flags its address, so no
more mail goes to it until it is verified again (``messages.apply_bounce``). Read by
the nightly run and ``agent-desk messages bounces``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agent_desk.services import mail
from agent_desk.services import messages as msgs
from agent_desk.services.database import Database

log = logging.getLogger(__name__)


@dataclass
class BouncesRead:
    """What reading the bounce mailbox found."""

    mailbox: str | None
    read: int = 0  # messages read from the mailbox
    bounced: int = 0  # e-mails of ours now marked bounced, their address flagged
    not_ours: int = 0  # failed recipients the desk sent nothing to (or not that e-mail)
    not_bounces: int = 0  # out-of-office replies, delay notices, other mail
    errors: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "mailbox": self.mailbox,
            "read": self.read,
            "bounced": self.bounced,
            "not_ours": self.not_ours,
            "not_bounces": self.not_bounces,
            "errors": self.errors,
        }

    def summary(self) -> str:
        if self.mailbox is None:
            return "Bounces: no bounce mailbox set up (AGENT_DESK_BOUNCE_MAILDIR)."
        line = (
            f"Bounces from {self.mailbox}: {self.read} read, {self.bounced} e-mails bounced "
            f"(their addresses flagged), {self.not_ours} not ours, {self.not_bounces} not bounces."
        )
        return "\n".join([line, *(f"  problem: {e}" for e in self.errors)])


def bounce_maildir(settings: dict[str, str]) -> str | None:
    """The maildir the mail server delivers bounces to: environment, then team setting."""
    import os

    path = os.environ.get(mail.ENV_BOUNCE_MAILDIR, "").strip()
    return path or settings.get("messages.bounce_maildir", "").strip() or None


def read_bounces(database: Database, now: datetime, path: str | None = None) -> BouncesRead:
    """Read the delivery status notifications (RFC 3464) that arrived in the bounce
    maildir: each failed recipient's e-mail becomes ``bounced`` in the timeline and its
    contact point is flagged (no more mail to it until it is verified again). Each
    message is read once (it moves to ``cur/``); reading one twice changes nothing."""
    if path is None:
        with database.transaction() as s:
            path = bounce_maildir(msgs.team_settings(s))
    from agent_desk.errors import ValidationError

    result = BouncesRead(path)
    if path is None:
        return result
    try:
        waiting = mail.read_maildir(path)
    except (ValidationError, OSError) as error:
        result.errors.append(str(error))
        return result
    for key, raw in waiting:
        result.read += 1
        try:
            bounces = mail.parse_dsn(raw)
        except Exception as error:  # a mangled message must not stop the others
            log.warning("a message in the bounce mailbox could not be read: %s", error)
            bounces = []
        if not bounces:
            result.not_bounces += 1
        with database.transaction() as s:
            for bounce in bounces:
                detail = " ".join(filter(None, [bounce.status, bounce.diagnostic]))
                found = msgs.apply_bounce(
                    s, bounce.recipient, bounce.original_message_id, detail, now
                )
                if found is None:
                    result.not_ours += 1
                else:
                    result.bounced += 1
        try:
            mail.mark_read(path, key)
        except OSError as error:
            result.errors.append(f"could not mark {key} as read: {error}")
    return result
