"""``import customers``: read the file of customers with their claims, check it, write it.

One job: the import's run. Rows are streamed, parsed and checked on their own and
against each other (:class:`_Consistency`), and handed on chunk by chunk to
:class:`~agent_desk.services.importers.customer_writer.CustomerWriter`, which writes
them in the caller's transaction; any bad row stops the writing and is reported.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent_desk.domain import import_rows as rules
from agent_desk.domain.team_day import local_day
from agent_desk.i18n import N_
from agent_desk.models import (
    Agent,
)
from agent_desk.services.actor import Actor
from agent_desk.services.importers.customer_writer import CustomerWriter
from agent_desk.services.importers.reading import (
    ImportRejected,
    ImportResult,
    Progress,
    RowError,
    stream_rows,
)

#: Rows parsed before they are written together.
CHUNK_ROWS = 5000


class _Consistency:
    """What must agree across the rows of one file, kept small per customer and claim
    (not the rows themselves): a fingerprint of name and address, the date of birth,
    the claims seen and the running total."""

    def __init__(self) -> None:
        # number -> [line, fingerprint, birth line, birth, total]
        self.customers: dict[str, list[Any]] = {}
        self.claims: dict[str, int] = {}

    def check(self, line: int, record: rules.CustomerRecord, errors: list[RowError]) -> None:
        number = record.customer_number
        fingerprint = hash((record.last_name, record.address))
        seen = self.customers.get(number)
        if seen is None:
            seen = self.customers[number] = [line, fingerprint, 0, None, 0]
        elif seen[1] != fingerprint:
            errors.append(
                RowError(line, f"customer {number} has other details than on line {seen[0]}.")
            )
        if record.date_of_birth is not None:
            # Rows may leave it empty; two different dates cannot both be right.
            if seen[3] is None:
                seen[2], seen[3] = line, record.date_of_birth
            elif seen[3] != record.date_of_birth:
                errors.append(
                    RowError(
                        line,
                        f"customer {number} has another date of birth than on line {seen[2]}.",
                    )
                )
        earlier = self.claims.setdefault(record.claim_reference, line)
        if earlier != line:
            errors.append(
                RowError(
                    line,
                    f"claim {record.claim_reference} appears twice (also on line {earlier}).",
                )
            )
        seen[4] += record.principal_cents
        if seen[4] > rules.MAX_CUSTOMER_TOTAL_CENTS:
            errors.append(
                RowError(
                    line,
                    f"customer {number}'s claims add up to more than 20,000,000.00; "
                    "check the file.",
                )
            )


def import_customers(
    session: Session,
    actor: Actor,
    path: Path,
    now: datetime,
    *,
    progress: Progress | None = None,
) -> ImportResult:
    actor.require_supervisor(N_("import customers"))
    logins = {login: agent_id for login, agent_id in session.execute(select(Agent.login, Agent.id))}
    known = set(logins)
    today = local_day(now)
    errors: list[RowError] = []  # rows that are bad on their own
    conflicts: list[RowError] = []  # rows that disagree with others or with the database
    consistency = _Consistency()
    writer = CustomerWriter(session, actor, path, now, logins)
    chunk: list[tuple[int, rules.CustomerRecord]] = []
    rows = 0
    for line, record in stream_rows(
        path,
        rules.CUSTOMER_COLUMNS,
        rules.CUSTOMER_REQUIRED,
        partial(rules.parse_customer_row, known_agents=known, today=today),
        errors,
        progress,
    ):
        rows += 1
        consistency.check(line, record, conflicts)
        if errors or conflicts:  # nothing more is written; the rest is only checked
            chunk.clear()
            continue
        chunk.append((line, record))
        if len(chunk) >= CHUNK_ROWS:
            writer.write(chunk, conflicts)
            chunk = []
    if chunk and not errors and not conflicts:
        writer.write(chunk, conflicts)
    if errors or conflicts:
        # Bad rows first: whether the others agree is worth knowing once they are fixed.
        raise ImportRejected(path, errors or conflicts)
    if rows == 0:
        raise ImportRejected(path, [RowError(2, "the file has a header but no rows.")])
    session.flush()
    result = ImportResult(rows=rows)
    result.created = len(writer.created)
    result.updated = len(writer.touched - writer.created)
    result.unchanged = len(consistency.customers) - len(writer.touched)
    return result
