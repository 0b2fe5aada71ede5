"""Letters from the database: write the PDF, record what was sent, show it again.

The ``agent_desk.letters`` package renders plain dataclasses and knows nothing of the
database; :mod:`agent_desk.services.letter_data` fills those dataclasses from the
database. This module writes the PDF atomically and records a ``LetterSent`` row
(template, template version, SHA-256, how it left and the letter's input as JSON,
``letters.parameters``) plus an audit event. ``regenerate`` rebuilds the very same PDF
from the record alone, so what the customer received can always be shown again.

Letters tell the truth:

* an arrangement confirmation is made only for an *active* arrangement (agreed within
  policy, or approved by a supervisor); :func:`confirmation_refusal` says why not;
* the 14-day letter names what ``notices.draft_notice`` names (claims in default on the
  letter date) and the costs that become owed; a claim already named by an earlier
  14-day letter is not named again (its costs are booked once);
* how a letter left is recorded (``delivery``): ``printed`` (for the post) or
  ``emailed`` is sent, and a 14-day letter that is sent starts its term (a
  ``DemandNotice``); ``saved`` is a PDF kept on disk, which starts nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from agent_desk import letters
from agent_desk.domain import ledger as books
from agent_desk.errors import AgentDeskError, NotFoundError, ValidationError
from agent_desk.letters import AnyLetter, ArrangementLetterData, FourteenDayLetterData
from agent_desk.letters.parameters import letter_from_parameters, letter_parameters
from agent_desk.models import Arrangement, Customer, LetterSent
from agent_desk.services import notices
from agent_desk.services.actor import Actor
from agent_desk.services.audit import audit
from agent_desk.services.creditor import add_vat_on_costs
from agent_desk.services.derived import refresh_customers
from agent_desk.services.letter_data import (
    arrangement_letter_data,
    confirmable_arrangement,
    confirmation_refusal,
    debt_help_letter_data,
    fourteen_day_draft,
    fourteen_day_letter_data,
    pause_letter_data,
)

if TYPE_CHECKING:
    from agent_desk.letters import WrittenLetter  # its module loads reportlab

#: Re-exported: the builders (``services.letter_data``) and the stored parameters
#: (``letters.parameters``) were part of this module; callers may keep these names.
__all__ = [
    "DELIVERIES",
    "SENT",
    "Delivery",
    "LetterRecord",
    "arrangement_letter_data",
    "arrangements_since",
    "channel_for",
    "confirmation_refusal",
    "debt_help_letter_data",
    "fourteen_day_draft",
    "fourteen_day_letter_data",
    "generate_letter",
    "letter_data_from_record",
    "letter_from_parameters",
    "letter_parameters",
    "pause_letter_data",
    "record_letter",
    "regenerate",
]

Delivery = Literal["printed", "emailed", "saved"]
#: How a letter left: printed (for the post), e-mailed, or only saved as a PDF.
DELIVERIES: tuple[Delivery, ...] = ("printed", "emailed", "saved")
#: The deliveries that mean the customer gets the letter.
SENT: frozenset[str] = frozenset({"printed", "emailed"})


@dataclass(frozen=True)
class LetterRecord:
    """A letter that was written and recorded."""

    letter_id: int
    path: Path
    sha256: str
    kind: str
    template_version: str
    reference: str
    size: int
    delivery: str = "printed"
    #: A 14-day letter that was sent: its notice and the last day of its term.
    notice_id: int | None = None
    term_ends: date | None = None
    #: Costs booked at once because the (back-dated) letter's term had already run out.
    costs_booked_cents: int = 0


def channel_for(delivery: str) -> books.Channel | None:
    """The receipt convention a sent letter follows; ``None`` for a letter only saved."""
    if delivery not in DELIVERIES:
        raise ValidationError(
            "A letter leaves printed, e-mailed or saved, not '{delivery}'.",
            "delivery",
            delivery=delivery,
        )
    if delivery == "printed":
        return books.Channel.POST
    if delivery == "emailed":
        return books.Channel.EMAIL
    return None


@dataclass(frozen=True)
class _Sending:
    """What recording a letter will do, worked out before anything is written."""

    delivery: Delivery
    draft: notices.NoticeDraft | None  # a 14-day letter that is sent: what its notice names
    add_vat: bool


def _prepare(
    session: Session,
    data: AnyLetter,
    *,
    customer_id: int,
    delivery: str,
    arrangement_id: int | None,
    add_vat: bool | None,
) -> _Sending:
    """Refuse what may not be recorded, before a file is written or a row added."""
    channel = channel_for(delivery)
    if session.get(Customer, customer_id) is None:
        raise NotFoundError("This customer no longer exists.")
    if isinstance(data, ArrangementLetterData):
        if arrangement_id is None:
            raise ValidationError(
                "Say which arrangement the confirmation is for.", "arrangement_id"
            )
        confirmable_arrangement(session, arrangement_id)
    vat = add_vat_on_costs(session) if add_vat is None else add_vat
    draft = None
    if isinstance(data, FourteenDayLetterData) and channel is not None:
        draft = fourteen_day_draft(session, customer_id, data.letter_date, channel, add_vat=vat)
        _require_same_figures(data, draft)
    return _Sending(cast(Delivery, delivery), draft, vat)


def _require_same_figures(data: FourteenDayLetterData, draft: notices.NoticeDraft) -> None:
    """The notice must name what the letter names; a payment since the preview changes it."""
    in_letter = sorted((c.reference, c.due, c.amount_cents) for c in data.claims)
    in_books = sorted((c.reference, c.due_date, c.outstanding_principal) for c in draft.claims)
    if (
        in_letter != in_books
        or data.costs_cents + data.vat_cents != draft.costs
        or data.vat_cents != draft.vat
    ):
        raise ValidationError(
            "The customer's figures changed since this letter was made; make the letter "
            "again before sending it.",
            "claims",
        )


def _record(
    session: Session,
    actor: Actor,
    data: AnyLetter,
    written: WrittenLetter,
    now: datetime,
    sending: _Sending,
    *,
    customer_id: int,
    arrangement_id: int | None,
    today: date | None,
) -> LetterRecord:
    row = LetterSent(
        customer_id=customer_id,
        agent_id=actor.agent_id,
        arrangement_id=arrangement_id,
        at=now,
        template=data.kind,
        template_version=written.template_version,
        sha256=written.sha256,
        delivery=sending.delivery,
        parameters=json.dumps(letter_parameters(data), ensure_ascii=False, sort_keys=True),
    )
    session.add(row)
    session.flush()
    notice_id: int | None = None
    term_ends: date | None = None
    booked = 0
    if sending.draft is not None:
        notice = notices.record_notice(
            session, actor, customer_id, sending.draft, now, letter_id=row.id
        )
        notice_id, term_ends = notice.id, notice.term_ends
        today = today or now.date()
        # Back-dated: the term ran out, the costs are owed. A supervisor's (or the
        # system's) connection books them at once; an agent's may not book costs
        # (migration 0004), so tonight's nightly run books them.
        if notice.term_ends < today and actor.is_supervisor:
            costs = notices.book_due_costs(session, today, now, customer_ids=[customer_id])
            refresh_customers(session, costs.customers)
            booked = notice.costs_booked_cents
    detail: dict[str, Any] = {
        "kind": data.kind,
        "reference": data.reference,
        "sha256": written.sha256,
        "delivery": sending.delivery,
    }
    if notice_id is not None:
        detail.update(notice_id=notice_id, sent_on=data.letter_date.isoformat())
        detail.update(term_ends=term_ends.isoformat() if term_ends else None)
        if booked:
            detail.update(costs_booked_cents=booked)
    audit(
        session,
        actor,
        "create",
        "letter_sent",
        row.id,
        customer_id=customer_id,
        detail=json.dumps(detail, ensure_ascii=False),
        at=now,
    )
    return LetterRecord(
        letter_id=row.id,
        path=written.path,
        sha256=written.sha256,
        kind=data.kind,
        template_version=written.template_version,
        reference=data.reference,
        size=written.size,
        delivery=sending.delivery,
        notice_id=notice_id,
        term_ends=term_ends,
        costs_booked_cents=booked,
    )


def record_letter(
    session: Session,
    actor: Actor,
    data: AnyLetter,
    written: WrittenLetter,
    now: datetime,
    *,
    customer_id: int,
    delivery: Delivery,
    arrangement_id: int | None = None,
    today: date | None = None,
    add_vat: bool | None = None,
) -> LetterRecord:
    """Record a letter that was written: ``LetterSent`` with how it left, and an audit event.

    An arrangement confirmation is recorded only while its arrangement is active. A
    14-day letter that was sent (``printed`` for the post, or ``emailed``) records its
    ``DemandNotice`` (what it names, checked against the books), which starts the
    term; if that term already ran out before ``today`` (a back-dated letter), its
    costs are booked at once. A ``saved`` letter starts nothing.
    """
    sending = _prepare(
        session,
        data,
        customer_id=customer_id,
        delivery=delivery,
        arrangement_id=arrangement_id,
        add_vat=add_vat,
    )
    return _record(
        session,
        actor,
        data,
        written,
        now,
        sending,
        customer_id=customer_id,
        arrangement_id=arrangement_id,
        today=today,
    )


def generate_letter(
    session: Session,
    actor: Actor,
    data: AnyLetter,
    out_path: str | os.PathLike[str],
    now: datetime,
    *,
    customer_id: int,
    delivery: Delivery,
    arrangement_id: int | None = None,
    today: date | None = None,
    add_vat: bool | None = None,
) -> LetterRecord:
    """Write the PDF atomically and record it (see :func:`record_letter`).

    Everything that can refuse the letter is checked first, so a refused letter writes
    no file; if recording fails after all, the file is removed again.
    """
    target = Path(out_path)
    if not target.parent.is_dir():
        raise ValidationError(
            "The folder '{folder}' does not exist; choose another place to save.",
            "out",
            folder=target.parent,
        )
    sending = _prepare(
        session,
        data,
        customer_id=customer_id,
        delivery=delivery,
        arrangement_id=arrangement_id,
        add_vat=add_vat,
    )
    try:
        written = letters.write_pdf(data, target)
    except OSError as error:
        raise AgentDeskError(
            "Could not write '{target}': {reason}.", target=target, reason=error.strerror or error
        ) from None
    try:
        return _record(
            session,
            actor,
            data,
            written,
            now,
            sending,
            customer_id=customer_id,
            arrangement_id=arrangement_id,
            today=today,
        )
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def letter_data_from_record(session: Session, letter_id: int) -> tuple[LetterSent, AnyLetter]:
    row = session.get(LetterSent, letter_id)
    if row is None:
        raise NotFoundError("There is no recorded letter with id {letter_id}.", letter_id=letter_id)
    try:
        raw = json.loads(row.parameters)
    except ValueError:
        raise ValidationError(
            "The record of letter {letter_id} cannot be read; it cannot be regenerated.",
            letter_id=letter_id,
        ) from None
    try:
        data = letter_from_parameters(raw)
    except (KeyError, TypeError, ValueError):
        raise ValidationError(
            "The record of letter {letter_id} is incomplete; it cannot be regenerated.",
            letter_id=letter_id,
        ) from None
    return row, data


def regenerate(session: Session, letter_id: int) -> bytes:
    """The PDF of a recorded letter, rebuilt from the record: the same bytes as sent.

    Raises if the template changed since (the customer got other text) or if the
    result differs from the recorded SHA-256.
    """
    row = session.get(LetterSent, letter_id)
    if row is None:
        raise NotFoundError("There is no recorded letter with id {letter_id}.", letter_id=letter_id)
    current = (
        letters.template_version(row.template)
        if row.template in letters.TEMPLATE_VERSION
        else "none"
    )
    if current != row.template_version:
        raise AgentDeskError(
            "Letter {letter_id} was written with template version {template_version}, but this "
            "version of Agent Desk has {current}; it cannot be regenerated identically.",
            letter_id=letter_id,
            template_version=row.template_version,
            current=current,
        )
    _row, data = letter_data_from_record(session, letter_id)
    pdf = letters.render_pdf(data)
    if letters.sha256_hex(pdf) != row.sha256:
        raise AgentDeskError(
            "Letter {letter_id} could not be regenerated identically (the SHA-256 differs from "
            "the record).",
            letter_id=letter_id,
        )
    return pdf


def arrangements_since(session: Session, since: datetime) -> Sequence[Arrangement]:
    """Arrangements created at or after ``since``, oldest first."""
    return session.scalars(
        select(Arrangement)
        .where(Arrangement.created_at >= since)
        .order_by(Arrangement.created_at, Arrangement.id)
    ).all()
