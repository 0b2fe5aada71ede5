"""The export of early signals: one municipality's due signals as CSV, each once.

``export_signals`` writes the signals ``signals.due_signals`` finds for one
municipality as CSV (fields in ``docs/early-signals.md``), with the customer's
address, phone and e-mail and no free text a person typed, and records each one
(``early_signal``, unique per customer and arrears) before the file is written, so a
second run never exports the same signal again and a failed write rolls them back.
``signals_sent`` lists what was exported.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent_desk.domain.codes import ContactKind
from agent_desk.domain.money import cents_to_str
from agent_desk.errors import AgentDeskError, ValidationError
from agent_desk.i18n import N_
from agent_desk.models import (
    Agent,
    ContactPoint,
    Customer,
    EarlySignal,
)
from agent_desk.services.actor import Actor
from agent_desk.services.audit import audit
from agent_desk.services.creditor import current_profile
from agent_desk.services.signals import addresses_of, due_signals

#: The columns of the export, in order (docs/early-signals.md says where each comes from).
EXPORT_FIELDS = (
    "signal_id",
    "signal_date",
    "municipality",
    "creditor_name",
    "creditor_kvk",
    "creditor_sector",
    "creditor_reference",
    "initials",
    "first_name",
    "last_name",
    "street",
    "house_number",
    "postcode",
    "city",
    "phone",
    "email",
    "arrears_amount",
    "arrears_since",
    "reportable_since",
)


@dataclass(frozen=True)
class ExportResult:
    municipality: str
    path: Path
    signal_ids: tuple[int, ...]
    customer_numbers: tuple[str, ...]
    sha256: str


def _phone_and_email(session: Session, customer_id: int) -> tuple[str, str]:
    phone = email = ""
    points = session.scalars(
        select(ContactPoint)
        .where(ContactPoint.customer_id == customer_id, ContactPoint.invalid.is_(False))
        .order_by(ContactPoint.preferred.desc(), ContactPoint.id)
    )
    for point in points:
        if point.kind in (ContactKind.MOBILE.value, ContactKind.PHONE.value) and not phone:
            phone = point.value
        elif point.kind == ContactKind.EMAIL.value and not email:
            email = point.value
    return phone, email


def _initials(first_name: str) -> str:
    return "".join(part[0].upper() + "." for part in first_name.split() if part)


def export_signals(
    session: Session,
    actor: Actor,
    municipality: str,
    out_path: str | os.PathLike[str],
    today: date,
    now: datetime,
) -> ExportResult:
    """Write the signals due for ``municipality`` as CSV and record each as sent today.

    Supervisors only. The file is written only once every signal is recorded (a
    signal for the same customer and arrears cannot be recorded twice: the database
    refuses it); if writing fails, the caller's transaction rolls the records back.
    """
    actor.require_supervisor(N_("export early signals"))
    name = " ".join(municipality.split())
    if not name:
        raise ValidationError("Name the municipality to export the signals of.", "municipality")
    target = Path(out_path)
    if not target.parent.is_dir():
        raise ValidationError(
            "The folder '{folder}' does not exist; choose another place to save.",
            "out",
            folder=target.parent,
        )
    profile = current_profile(session)
    due = due_signals(session, today, municipality=name)
    rows: list[dict[str, str]] = []
    records: list[EarlySignal] = []
    addresses = addresses_of(session, [d.customer_id for d in due])
    for signal in due:
        customer = session.get(Customer, signal.customer_id)
        assert customer is not None
        point = addresses.get(signal.customer_id)
        phone, email = _phone_and_email(session, signal.customer_id)
        record = EarlySignal(
            customer_id=signal.customer_id,
            municipality=signal.municipality,
            arrears_since=signal.arrears_since,
            arrears_cents=signal.arrears_cents,
            due_since=signal.since,
            sent_on=today,
            export_file=target.name[:255],
            export_sha256="",
            sent_by_id=actor.agent_id,
            sent_at=now,
        )
        session.add(record)
        session.flush()
        records.append(record)
        rows.append(
            {
                "signal_id": str(record.id),
                "signal_date": today.isoformat(),
                "municipality": signal.municipality,
                "creditor_name": str(profile.values["name"]),
                "creditor_kvk": str(profile.values["kvk"]),
                "creditor_sector": str(profile.values["sector"]),
                "creditor_reference": customer.customer_number,
                "initials": _initials(customer.first_name),
                "first_name": customer.first_name,
                "last_name": customer.last_name,
                "street": (point.street or "") if point else "",
                "house_number": (point.house_number or "") if point else "",
                "postcode": (point.postcode or "") if point else "",
                "city": (point.city or "") if point else "",
                "phone": phone,
                "email": email,
                "arrears_amount": cents_to_str(signal.arrears_cents),
                "arrears_since": signal.arrears_since.isoformat(),
                "reportable_since": signal.since.isoformat(),
            }
        )
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_FIELDS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_safe(v) if k in _FREE_TEXT else v for k, v in row.items()})
    content = buffer.getvalue().encode("utf-8")
    digest = hashlib.sha256(content).hexdigest()
    for record in records:
        record.export_sha256 = digest
        audit(
            session,
            actor,
            "signal_sent",
            "early_signal",
            record.id,
            customer_id=record.customer_id,
            detail=json.dumps(
                {
                    "municipality": record.municipality,
                    "sent_on": today.isoformat(),
                    "file": target.name,
                    "sha256": digest,
                    "arrears_cents": record.arrears_cents,
                },
                ensure_ascii=False,
            ),
            at=now,
        )
    session.flush()
    partial = target.with_name(target.name + ".part")
    try:
        partial.write_bytes(content)
        os.replace(partial, target)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise AgentDeskError(
            "Could not write '{target}': {reason}.", target=target, reason=error.strerror or error
        ) from None
    return ExportResult(
        municipality=name,
        path=target,
        signal_ids=tuple(r.id for r in records),
        customer_numbers=tuple(d.customer_number for d in due),
        sha256=digest,
    )


_FREE_TEXT = frozenset(
    {"municipality", "creditor_name", "initials", "first_name", "last_name", "street", "city"}
)


def _csv_safe(value: str) -> str:
    """A value a spreadsheet will not run as a formula (CSV injection)."""
    if value and value[0] in "=+-@\t\r":
        return "'" + value
    return value


def signals_sent(session: Session, *, since: date | None = None) -> list[dict[str, Any]]:
    """Every signal sent (newest first), for ``signals sent --json`` and the review."""
    names = {i: n for i, n in session.execute(select(Agent.id, Agent.display_name))}
    statement = (
        select(EarlySignal, Customer.customer_number)
        .join(Customer, Customer.id == EarlySignal.customer_id)
        .order_by(EarlySignal.sent_on.desc(), EarlySignal.id.desc())
    )
    if since is not None:
        statement = statement.where(EarlySignal.sent_on >= since)
    return [
        {
            "customer_number": number,
            "sent_on": row.sent_on.isoformat(),
            "municipality": row.municipality,
            "arrears": cents_to_str(row.arrears_cents),
            "arrears_since": row.arrears_since.isoformat(),
            "file": row.export_file,
            "sent_by": names.get(row.sent_by_id or 0),
        }
        for row, number in session.execute(statement)
    ]
