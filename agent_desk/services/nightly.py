"""The nightly run: the books catch up with the calendar.

In one transaction, in this order (each step sees what the one before booked):

0. credit a customer holds settles what they owe since (a claim booked after the
   payment that left the surplus; the import does this at once, the night catches up
   anything else), by art. 6:43/6:44 BW;
1. 14-day letters whose term ended unpaid: their costs are booked (over what they
   named and is still unpaid);
2. statutory interest is booked up to the first of the month for every claim in
   default whose last booking is older (so the books hold a monthly figure; the desk
   adds the days since, from the same entries);
3. arrangements: missed instalments, broken and completed arrangements, reminders;
   a broken arrangement's claims accrue interest again from tonight;
4. promises to pay whose last day passed: kept or broken.

Every step is idempotent: running the same night twice books nothing new, and a
skipped night is caught up by the next one.

Then, after the books are committed, :func:`send_messages` sends what the night owes
(instalment and promise reminders, missed-instalment messages) by each customer's
preferred channel, within every sending rule (``services.sending``), when a mail server
or an SMS provider is set up; without one it says so and sends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from agent_desk.domain.ledger import EntryKind, Part
from agent_desk.domain.money import cents_to_str
from agent_desk.domain.team_day import local_day
from agent_desk.models import Arrangement, Claim, Customer, LedgerEntry
from agent_desk.services import ledger, notices, team_rules
from agent_desk.services.derived import refresh_customers
from agent_desk.services.missed_instalments import NightlyResult, mark_missed_instalments
from agent_desk.services.payments import settle_customers
from agent_desk.services.promises import resolve_due_promises

if TYPE_CHECKING:
    from agent_desk.services.bounces import BouncesRead
    from agent_desk.services.database import Database
    from agent_desk.services.due_messages import SendDueResult
    from agent_desk.services.sending import Transports


@dataclass
class BooksNightly:
    today: date
    arrangements: NightlyResult
    notices_checked: int = 0
    costs_booked: int = 0  # letters whose costs were booked tonight
    costs_cents: int = 0
    paid_in_term: int = 0
    interest_claims: int = 0
    interest_cents: int = 0
    accrual_restarted: int = 0
    promises_kept: int = 0
    credit_customers: int = 0  # customers whose credit settled claims tonight
    credit_cents: int = 0
    promises_broken: int = 0
    customers: set[int] = field(default_factory=set)

    def summary(self) -> str:
        credit = (
            f" Credit settled claims of {self.credit_customers} customers "
            f"({self.credit_cents / 100:.2f})."
            if self.credit_cents
            else ""
        )
        return (
            f"{self.arrangements.summary()} Books: costs booked for {self.costs_booked} "
            f"14-day letters ({self.costs_cents / 100:.2f}), {self.paid_in_term} paid in time; "
            f"interest booked on {self.interest_claims} claims ({self.interest_cents / 100:.2f}); "
            f"promises: {self.promises_kept} kept, {self.promises_broken} broken.{credit}"
        )

    def as_json(self) -> dict[str, Any]:
        a = self.arrangements
        return {
            "today": self.today.isoformat(),
            "arrangements_checked": a.arrangements_checked,
            "instalments_paid": a.instalments_paid,
            "instalments_missed": a.instalments_missed,
            "arrangements_broken": a.arrangements_broken,
            "arrangements_completed": a.arrangements_completed,
            "customers_refreshed": a.customers_refreshed,
            "reminders_scheduled": a.reminders_scheduled,
            "fourteen_day_letters_checked": self.notices_checked,
            "costs_booked": self.costs_booked,
            "costs_booked_amount": cents_to_str(self.costs_cents),
            "paid_in_term": self.paid_in_term,
            "interest_claims": self.interest_claims,
            "interest_booked_amount": cents_to_str(self.interest_cents),
            "promises_kept": self.promises_kept,
            "promises_broken": self.promises_broken,
            "credit_customers": self.credit_customers,
            "credit_used_amount": cents_to_str(self.credit_cents),
        }


def run_nightly(session: Session, today: date, *, batch_size: int = 1000) -> BooksNightly:
    now = datetime.combine(today, time(0), tzinfo=UTC)
    credit_customers, credit_cents = apply_available_credit(
        session, today, now, batch_size=batch_size
    )
    costs = notices.book_due_costs(session, today, now)
    interest_claims, interest_cents, interest_customers = book_monthly_interest(
        session, today, now, batch_size=batch_size
    )
    arrangements = mark_missed_instalments(session, today, batch_size=batch_size)
    result = BooksNightly(today, arrangements)
    result.notices_checked = costs.notices
    result.credit_customers, result.credit_cents = credit_customers, credit_cents
    result.costs_booked = costs.booked
    result.costs_cents = costs.cents
    result.paid_in_term = costs.paid_in_term
    result.interest_claims = interest_claims
    result.interest_cents = interest_cents
    result.accrual_restarted = restart_accrual(
        session, arrangements.broken_arrangement_ids, now, today
    )
    promises = resolve_due_promises(session, today, now)
    result.promises_kept, result.promises_broken = promises.kept, promises.broken
    refresh_customers(session, costs.customers | interest_customers)
    return result


def apply_available_credit(
    session: Session, today: date, now: datetime, *, batch_size: int = 1000
) -> tuple[int, int]:
    """Customers who hold credit and owe on a claim: the credit settles it
    (``ledger.apply_credit``). Returns (customers, cents). Idempotent: once used, the
    credit (or what was owed) is gone from the books."""
    e = LedgerEntry
    credit = (
        select(e.customer_id)
        .where(e.claim_id.is_(None))
        .group_by(e.customer_id)
        .having(func.sum(e.amount_cents) > 0)
    )
    owing = (
        select(e.customer_id)
        .where(e.claim_id.is_not(None), e.customer_id.in_(credit))
        .group_by(e.customer_id)
        .having(func.sum(e.amount_cents) > 0)
    )
    customer_ids = sorted(int(c) for c in session.scalars(owing))
    if not customer_ids:
        return 0, 0
    rates = team_rules.rate_table(session)
    customers = cents = 0
    for start in range(0, len(customer_ids), batch_size):
        chunk = customer_ids[start : start + batch_size]
        ledger.lock_books(session, chunk)  # read after a concurrent run has committed
        books = ledger.load_books(session, chunk)
        for book in books.values():
            used = ledger.apply_credit(book, today, now, rates)
            customers += 1 if used else 0
            cents += used
        ledger.write(session, books.values())
        ledger.sync_claim_caches(session, books.values(), today)
        settle_customers(session, books.values(), now)
    return customers, cents


def book_monthly_interest(
    session: Session, today: date, now: datetime, *, batch_size: int = 1000
) -> tuple[int, int, set[int]]:
    """Book interest through the first of this month where the books are behind."""
    month_start = today.replace(day=1)
    e = LedgerEntry
    last_booked = (
        select(e.claim_id, func.max(e.interest_through).label("through"))
        .where(e.kind == EntryKind.INTEREST.value)
        .group_by(e.claim_id)
        .subquery()
    )
    owed = (
        select(e.claim_id, func.sum(e.amount_cents).label("owed"))
        .where(e.claim_id.is_not(None), e.part == Part.PRINCIPAL.value)
        .group_by(e.claim_id)
        .subquery()
    )
    # A claim due on D is in default from D + 1: interest to book if D + 1 < month start.
    behind = (
        select(Claim.customer_id)
        .join(owed, owed.c.claim_id == Claim.id)
        .join(Customer, Customer.id == Claim.customer_id)
        .outerjoin(last_booked, last_booked.c.claim_id == Claim.id)
        .where(
            owed.c.owed > 0,
            Claim.due_date < month_start - timedelta(days=1),  # in default before the 1st
            Customer.status == "open",
            or_(last_booked.c.through.is_(None), last_booked.c.through < month_start),
            ~Claim.customer_id.in_(
                select(Arrangement.customer_id).where(
                    and_(Arrangement.status.in_(("active", "pending_approval")))
                )
            ),
        )
        .distinct()
    )
    customer_ids = sorted(int(c) for c in session.scalars(behind))
    rates = team_rules.rate_table(session)
    claims = cents = 0
    for start in range(0, len(customer_ids), batch_size):
        chunk = customer_ids[start : start + batch_size]
        books = ledger.load_books(session, chunk)
        for book in books.values():
            before = len(book.pending)
            cents += ledger.book_interest(book, month_start, now, rates, note="monthly")
            claims += len({row["claim_id"] for row in book.pending[before:]})
        ledger.write(session, books.values())
    return claims, cents, set(customer_ids)


def restart_accrual(
    session: Session, arrangement_ids: list[int], now: datetime, today: date | None = None
) -> int:
    """Broken arrangements: their claims accrue interest again from ``today`` (the
    team's day of ``now`` by default)."""
    today = today or local_day(now)
    if not arrangement_ids:
        return 0
    agreed = {
        int(customer_id): local_day(created_at)
        for customer_id, created_at in session.execute(
            select(Arrangement.customer_id, Arrangement.created_at).where(
                Arrangement.id.in_(arrangement_ids)
            )
        )
    }
    books = ledger.load_books(session, agreed)
    booked = sum(
        ledger.mark_accrual_restart(book, agreed[cid], today, now, "arrangement broken")
        for cid, book in books.items()
    )
    ledger.write(session, books.values())
    return booked


# ------------------------------------------------------------------ the sending part

NO_CHANNEL = (
    "Messages: none sent - no mail server (AGENT_DESK_SMTP_URL) and no SMS provider "
    "(AGENT_DESK_SMS_URL) is set up."
)


@dataclass
class NightlyMessages:
    """What the nightly run sent, or why it sent nothing."""

    channels: list[str]
    result: SendDueResult | None = None
    skipped: str | None = None
    bounces: BouncesRead | None = None  # when a bounce mailbox is set up

    def summary(self) -> str:
        lines = [] if self.bounces is None else [self.bounces.summary()]
        if self.result is None:
            lines.append(self.skipped or NO_CHANNEL)
        else:
            lines.append(f"{self.result.summary()}\n  set up: {', '.join(self.channels)}")
        return "\n".join(lines)

    def as_json(self) -> dict[str, Any]:
        if self.result is None:
            document: dict[str, Any] = {
                "channels": [],
                "sent": {},
                "sent_total": 0,
                "held_back": {},
                "held_back_total": 0,
                "skipped": self.skipped or NO_CHANNEL,
            }
        else:
            document = {"channels": self.channels, **self.result.as_json()}
        if self.bounces is not None:
            document["bounces"] = self.bounces.as_json()
        return document


def configured_channels(settings: dict[str, str]) -> list[str]:
    """The channels set up in the environment or the team settings ("email", "sms").

    An e-mail set-up that is there but wrong counts as set up: the send then says what is
    wrong (a message is held ``not_configured`` with the problem) instead of keeping quiet."""
    from agent_desk.errors import ValidationError
    from agent_desk.services import mail, sms

    channels = []
    try:
        smtp = mail.config_from(
            settings.get("messages.smtp_url"), settings.get("messages.mail_from")
        )
    except ValidationError:
        channels.append("email")
    else:
        if smtp is not None:
            channels.append("email")
    if sms.config_from(settings) is not None:
        channels.append("sms")
    return channels


def send_messages(
    database: Database,
    today: date,
    now: datetime,
    *,
    transports: Transports | None = None,
) -> NightlyMessages:
    """Queue and send what the night owes, by the channels that are set up.

    First the bounces that came back since the last run are read (when a bounce mailbox
    is set up), so tonight writes to no address that bounced."""
    from agent_desk.domain.messaging import MessageChannel
    from agent_desk.services import bounces as bounce_reports
    from agent_desk.services import due_messages, sending
    from agent_desk.services import messages as msgs

    with database.transaction() as session:
        settings = msgs.team_settings(session)
    mailbox = bounce_reports.bounce_maildir(settings)
    bounces = None if mailbox is None else bounce_reports.read_bounces(database, now, mailbox)
    channels = configured_channels(settings)
    if not channels:
        return NightlyMessages([], skipped=NO_CHANNEL, bounces=bounces)
    result = due_messages.send_due(
        database,
        today,
        now,
        transports=transports or sending.ConfiguredTransports(settings),
        channels=frozenset(MessageChannel(c) for c in channels),
    )
    return NightlyMessages(channels, result, bounces=bounces)
