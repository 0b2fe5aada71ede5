"""Reading the audit trail back: what a supervisor sees and exports.

The trail itself is append-only (``services.audit`` only ever adds rows); this module
only reads it, for supervisors, as plain rows: when, who, what, which customer. The
export writes UTF-8 CSV to a temporary file beside the target and moves it into
place with ``os.replace``, so a half-written file never carries the chosen name.
"""

from __future__ import annotations

import csv
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from agent_desk.errors import ValidationError
from agent_desk.i18n import N_
from agent_desk.models import Agent, AuditEvent, Customer
from agent_desk.services.actor import Actor
from agent_desk.services.audit import audit

MAX_LIMIT = 10_000
CSV_HEADER = ("when", "who", "login", "action", "entity", "customer_number", "detail")


@dataclass(frozen=True)
class AuditRow:
    id: int
    when: datetime
    who: str  # display name; "Agent Desk" for the system
    login: str
    action: str
    entity: str
    entity_id: int | None
    customer_number: str
    detail: str

    def csv_cells(self) -> tuple[str, ...]:
        return tuple(
            spreadsheet_safe(cell)
            for cell in (
                self.when.astimezone(UTC).isoformat(timespec="seconds"),
                self.who,
                self.login,
                self.action,
                self.entity,
                self.customer_number,
                self.detail,
            )
        )


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: str) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula (OWASP CSV injection):
    a value starting with ``= + - @``, a tab or a carriage return gets a leading ``'``."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def _statement(
    *,
    customer_number: str | None,
    agent_login: str | None,
    since: datetime | None,
    until: datetime | None,
) -> Any:  # a Select over the row columns
    who = aliased(Agent)
    statement = (
        select(
            AuditEvent.id,
            AuditEvent.at,
            who.display_name,
            who.login,
            AuditEvent.action,
            AuditEvent.entity,
            AuditEvent.entity_id,
            Customer.customer_number,
            AuditEvent.detail,
        )
        .outerjoin(who, who.id == AuditEvent.agent_id)
        .outerjoin(Customer, Customer.id == AuditEvent.customer_id)
    )
    if customer_number is not None and customer_number.strip():
        statement = statement.where(Customer.customer_number == customer_number.strip())
    if agent_login is not None and agent_login.strip():
        statement = statement.where(func.lower(who.login) == agent_login.strip().lower())
    if since is not None:
        statement = statement.where(AuditEvent.at >= since.astimezone(UTC))
    if until is not None:
        statement = statement.where(AuditEvent.at < until.astimezone(UTC))
    return statement.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())


def _check(since: datetime | None, until: datetime | None) -> None:
    if since is not None and until is not None and since >= until:
        raise ValidationError("The period is empty; put the earlier date first.", "since")


def _row(values: Any) -> AuditRow:
    at: datetime = values[1]
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return AuditRow(
        id=int(values[0]),
        when=at,
        who=values[2] or "Agent Desk",
        login=values[3] or "system",
        action=values[4],
        entity=values[5],
        entity_id=values[6],
        customer_number=values[7] or "",
        detail=values[8] or "",
    )


def audit_events(
    session: Session,
    actor: Actor,
    *,
    customer_number: str | None = None,
    agent_login: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = 500,
    offset: int = 0,
) -> list[AuditRow]:
    """The newest audit events first, filtered; ``until`` is exclusive."""
    actor.require_supervisor(N_("read the audit trail"))
    _check(since, until)
    if limit is not None and not 1 <= limit <= MAX_LIMIT:
        raise ValidationError(
            "Show between 1 and {most} events at a time.", "limit", most=MAX_LIMIT
        )
    if offset < 0:
        raise ValidationError("The offset cannot be negative.", "offset")
    statement = _statement(
        customer_number=customer_number, agent_login=agent_login, since=since, until=until
    )
    if limit is not None:
        statement = statement.limit(limit)
    if offset:
        statement = statement.offset(offset)
    return [_row(values) for values in session.execute(statement)]


def export_audit_csv(
    session: Session,
    actor: Actor,
    path: Path | str,
    *,
    customer_number: str | None = None,
    agent_login: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    """Write every matching event (newest first) to ``path`` as UTF-8 CSV; the count.

    The export itself is audited: who took a copy of the trail, with which filter.
    """
    actor.require_supervisor(N_("export the audit trail"))
    _check(since, until)
    target = Path(path)
    if not target.parent.is_dir():
        raise ValidationError("The folder {folder} does not exist.", "path", folder=target.parent)
    statement = _statement(
        customer_number=customer_number, agent_login=agent_login, since=since, until=until
    )
    handle, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".tmp", dir=str(target.parent)
    )
    count = 0
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            writer = csv.writer(stream)
            writer.writerow(CSV_HEADER)
            for values in session.execute(statement.execution_options(yield_per=1000)):
                writer.writerow(_row(values).csv_cells())
                count += 1
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    filters = {
        "customer_number": customer_number,
        "agent": agent_login,
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
    }
    detail = ", ".join(f"{k}={v}" for k, v in filters.items() if v) or "all"
    audit(session, actor, "export", "audit_trail", None, detail=f"{count} rows; {detail}")
    return count
