"""The demo's rows, made as plain data: no session, no reads, no writes.

``Generator.customer`` makes one customer with everything their story needs (contact
points, claims and their ledger entries, letters, promises, arrangements, contact
attempts, next steps, change-log and audit rows) as dictionaries keyed by model, with
ids handed out from ``Generator.ids``. The same random generator gives the same rows;
``loader`` writes them. One class on purpose: the stories share the customer's
state (dates, balances, the agent) while they are drawn.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate
from typing import Any

from agent_desk.demo.cast import (
    CITIES,
    DESCRIPTIONS,
    FIRST_NAMES,
    LAST_NAMES,
    POSTCODE_LETTERS,
    STORIES,
    STREETS,
)
from agent_desk.domain import ledger as books_rules
from agent_desk.domain import queue as queue_rules
from agent_desk.domain.codes import (
    ArrangementStatus,
    Channel,
    ContactKind,
    Direction,
    InstalmentStatus,
    NextStepKind,
    Outcome,
    PromiseStatus,
    Segment,
    TimeOfDay,
    Trigger,
)
from agent_desk.domain.fees import load_fee_table
from agent_desk.models import (
    Arrangement,
    ChangeLog,
    Claim,
    ContactAttempt,
    ContactPoint,
    Customer,
    DemandNotice,
    DemandNoticeClaim,
    Instalment,
    LedgerEntry,
    NextStep,
    PromiseToPay,
)

#: The hours a demo moment falls in (``Generator._at``).
_HOURS = (9, 10, 11, 14, 15, 16, 18, 19)


def _weighted(
    population: Sequence[Any], weights: Sequence[float]
) -> Callable[[Callable[[], float]], Any]:
    """``rng.choices(population, weights)[0]`` with the running sums made once: the same
    single ``random()`` draw and the same bisection as CPython's ``random.choices``."""
    cum = list(accumulate(weights))
    total = cum[-1] + 0.0
    hi = len(cum) - 1

    def pick(draw: Callable[[], float]) -> Any:
        return population[bisect(cum, draw() * total, 0, hi)]

    return pick


_SEGMENT = _weighted(
    [Segment.CONSUMER, Segment.SELF_EMPLOYED, Segment.SMALL_BUSINESS], [0.88, 0.08, 0.04]
)
_OUTCOME = _weighted(
    [
        Outcome.NO_ANSWER,
        Outcome.VOICEMAIL,
        Outcome.REACHED,
        Outcome.CALLBACK_REQUESTED,
        Outcome.WRONG_NUMBER,
    ],
    [0.45, 0.2, 0.2, 0.1, 0.05],
)
_CHANNELS = (None, Channel.PHONE.value, Channel.WHATSAPP.value, Channel.EMAIL.value)
_BEST_TIMES = (
    None,
    None,
    TimeOfDay.MORNING.value,
    TimeOfDay.AFTERNOON.value,
    TimeOfDay.EVENING.value,
)
_MOBILE = ContactKind.MOBILE.value
_PHONE = Channel.PHONE.value
_OUTBOUND = Direction.OUTBOUND.value
_REACHED = Outcome.REACHED.value
_HOUSE_SUFFIXES = ("", "", "", "A", "-2")


class Batch:
    """The rows of one chunk of customers, per model, in the order they were made."""

    def __init__(self) -> None:
        self.rows: dict[Any, list[dict[str, Any]]] = defaultdict(list)

    def add(self, model: Any, row: dict[str, Any]) -> None:
        self.rows[model].append(row)


class Generator:
    def __init__(
        self,
        rng: random.Random,
        today: date,
        now: datetime,
        agent_ids: list[int],
        supervisor_id: int,
    ) -> None:
        self.rng = rng
        self.today = today
        self.now = now
        self.agent_ids = agent_ids or [supervisor_id]
        self.supervisor_id = supervisor_id
        self.ids: dict[Any, int] = {}
        self.fees = load_fee_table()
        self.policy = books_rules.load_books_policy()  # read once, not once per letter
        self.stories, self.weights = zip(*STORIES, strict=True)
        self._story = _weighted(self.stories, self.weights)
        # What ``rng.randrange(a, b)`` and ``rng.choice(seq)`` draw, without their
        # argument checks: ``a + below(b - a)`` and ``seq[below(len(seq))]`` (CPython's
        # random.py; tests/unit/test_demo_draws.py holds them to the public calls).
        self._below: Callable[[int], int] = rng._randbelow  # type: ignore[attr-defined]
        self._moments: dict[tuple[int, int, int], datetime] = {}

    def _id(self, model: Any) -> int:
        value = self.ids[model]
        self.ids[model] = value + 1
        return value

    def _at(self, days_ago: int, hour: int | None = None) -> datetime:
        below = self._below
        if hour is None:
            hour = _HOURS[below(8)]
        key = (days_ago, hour, below(60))
        moment = self._moments.get(key)
        if moment is None:
            moment = self._moments[key] = datetime.combine(
                self.today - timedelta(days=days_ago), time(hour, key[2]), tzinfo=UTC
            )
        return moment

    def customer(self, batch: Batch, cid: int, index: int) -> None:
        rng = self.rng
        below = self._below
        draw = rng.random
        story = self._story(draw)
        first, salutation = FIRST_NAMES[below(len(FIRST_NAMES))]
        last = LAST_NAMES[below(len(LAST_NAMES))]
        agent_id = (
            self.agent_ids[index % len(self.agent_ids)] if draw() > 0.02 else self.agent_ids[0]
        )
        segment = Segment.SELF_EMPLOYED if story == "self_employed_support" else _SEGMENT(draw)
        language = "en" if draw() < 0.1 else "nl"
        row: dict[str, Any] = {
            "id": cid,
            "customer_number": f"{100000 + cid}",
            "first_name": first,
            "last_name": last,
            "salutation": salutation,
            "date_of_birth": self._date_of_birth(cid),
            "language": language,
            "segment": segment.value,
            "trigger": None,
            "status": "open",
            "assigned_agent_id": agent_id,
            "preferred_channel": _CHANNELS[below(4)],
            "best_time": _BEST_TIMES[below(5)],
            "vulnerable": False,
            "vulnerability_note": None,
            "vulnerability_consent_at": None,
            "vulnerability_consent_by_id": None,
            "debt_help_referred_at": None,
            "paused_until": None,
            "pause_reason": None,
            "called_in_at": None,
            "held_by_agent_id": None,
            "held_until": None,
            "created_at": self._at(30 + below(870)),
            "version": 1,
        }
        self._contact_points(batch, cid, language)
        # Claims: open ones now; older settled ones tell of earlier arrears.
        if story in ("first_time", "discount_ending"):
            oldest_days = 8 + below(32)
            n_open = 1 if draw() < 0.7 else 2
        elif story == "long_running":
            oldest_days = rng.randrange(120, 420)
            n_open = rng.randrange(2, 5)
        else:
            oldest_days = 20 + below(130)
            n_open = 1 + below(3)
        claims: list[queue_rules.ClaimHistory] = []
        if story not in ("first_time", "discount_ending"):
            for _ in range(1 + below(2)):
                due = self.today - timedelta(days=oldest_days + 60 + below(640))
                settled = due + timedelta(days=20 + below(70))
                self._claim(batch, cid, due, settled)
                claims.append(queue_rules.ClaimHistory(due, settled))
        open_total = 0
        open_claims: list[tuple[int, int, date]] = []
        for k in range(n_open):
            due = self.today - timedelta(days=max(1, oldest_days - k * 30))
            claim_id, outstanding = self._claim(batch, cid, due, None)
            open_total += outstanding
            open_claims.append((claim_id, outstanding, due))
            claims.append(queue_rules.ClaimHistory(due, None))
        oldest_due = min(c.due_date for c in claims if c.settled_on is None)
        letter = story not in ("first_time", "discount_ending") and oldest_days >= 50
        if letter and draw() < 0.6:
            open_total += self._fourteen_day_letter(batch, cid, agent_id, open_claims)

        promises = arrangements = 0
        broken = missed = False
        step_kind, step_due = NextStepKind.REVIEW, self._at(below(3), 7)
        attempts = below(4)
        if story == "broken_promise":
            self._promise(batch, cid, agent_id, open_total // 2, PromiseStatus.BROKEN)
            promises = 1
            attempts += 1
        elif story == "broken_arrangement":
            paid = self._arrangement(batch, cid, agent_id, open_total, ArrangementStatus.BROKEN)
            self._pay(batch, cid, open_claims, paid, self.today - timedelta(days=31 * 4))
            open_total -= paid
            arrangements = 1
            broken = True
        elif story == "discount_ending":
            row["trigger"] = (
                Trigger.DISCOUNT_ENDING.value if rng.random() < 0.6 else Trigger.PRICE_CHANGE.value
            )
        elif story == "self_employed_support":
            row["trigger"] = Trigger.AWAITING_SUPPORT.value
        elif story == "paused":
            row["paused_until"] = self.today + timedelta(days=rng.randrange(7, 60))
            row["pause_reason"] = rng.choice(
                [
                    "Waiting for debt help intake",
                    "Customer in hospital",
                    "Dispute about the invoice under review",
                ]
            )
            step_kind, step_due = (
                NextStepKind.REVIEW,
                datetime.combine(row["paused_until"], time(8, 0), tzinfo=UTC),
            )
        elif story == "vulnerable":
            row["vulnerable"] = True
            row["vulnerability_note"] = rng.choice(
                [
                    "Recently bereaved; prefers calls in the afternoon",
                    "Long-term illness; speak slowly, confirm in writing",
                ]
            )
            row["vulnerability_consent_at"] = self._at(rng.randrange(10, 200))
            row["vulnerability_consent_by_id"] = agent_id
        elif story == "called_in":
            row["called_in_at"] = self._at(rng.randrange(0, 2))
        elif story == "callback_today":
            step_kind = NextStepKind.CALLBACK
            step_due = datetime.combine(
                self.today,
                time(rng.choice([8, 9, 10, 12, 13]), rng.choice([0, 15, 30, 45])),
                tzinfo=UTC,
            )
        elif story == "waiting_payment":
            step_kind = NextStepKind.WAIT_PAYMENT
            step_due = self._at(-rng.randrange(2, 20), 8)
        for a in range(attempts):
            self._attempt(batch, cid, agent_id, 1 + below(39) + a)
        batch.add(
            NextStep,
            {
                "id": self._id(NextStep),
                "customer_id": cid,
                "kind": step_kind.value,
                "due_at": step_due,
                "assigned_agent_id": agent_id,
                "note": "",
                "created_by_id": agent_id,
                "created_at": self._at(1 + below(19)),
                "done_at": None,
                "version": 1,
            },
        )
        first_time = queue_rules.is_first_time_arrears(
            claims, earlier_promises=promises, earlier_arrangements=arrangements
        )
        row.update(
            arrears_cents=open_total,
            oldest_due_date=oldest_due,
            first_time_arrears=first_time,
            broken_arrangement=broken,
            missed_instalment=missed,
            next_step_kind=step_kind.value,
            next_step_due_at=step_due,
        )
        facts = queue_rules.QueueFacts(
            open=True,
            arrears_cents=open_total,
            oldest_due_date=oldest_due,
            first_time_arrears=first_time,
            broken_arrangement=broken,
            missed_instalment=missed,
            called_in=row["called_in_at"] is not None,
            next_step_kind=step_kind.value,
            next_step_due_at=step_due,
            paused_until=row["paused_until"],
        )
        row["queue_bucket"] = int(queue_rules.bucket(facts))
        batch.add(Customer, row)
        batch.add(
            ChangeLog,
            {
                "at": self.now,
                "table_name": "customer",
                "row_id": cid,
                "kind": "insert",
                "customer_id": cid,
            },
        )

    def _contact_points(self, batch: Batch, cid: int, language: str) -> None:
        below = self._below
        draw = self.rng.random
        letters = POSTCODE_LETTERS
        mobile = f"+316{10_000_000 + below(89_999_999)}"
        city, low, high = CITIES[below(len(CITIES))]
        postcode = f"{low + below(high + 1 - low)} {letters[below(20)]}{letters[below(20)]}"
        street, number = (
            STREETS[below(len(STREETS))],
            str(1 + below(249)) + _HOUSE_SUFFIXES[below(5)],
        )
        points: list[dict[str, Any]] = [
            {
                "kind": _MOBILE,
                "value": mobile,
                "consent_sms": draw() < 0.5,
                "consent_whatsapp": draw() < 0.4,
            },
            {
                "kind": ContactKind.ADDRESS.value,
                "value": f"{street} {number}, {postcode} {city}",
                "street": street,
                "house_number": number,
                "postcode": postcode,
                "city": city,
            },
        ]
        if draw() < 0.7:
            points.append({"kind": ContactKind.EMAIL.value, "value": f"klant{cid}@example.nl"})
        if draw() < 0.15:
            points.append(
                {
                    "kind": ContactKind.PHONE.value,
                    "value": f"+3130{1_000_000 + below(8_999_999)}",
                }
            )
        ids = self.ids
        add = batch.rows[ContactPoint].append
        for point in points:
            freshness = draw()
            verified = (
                None
                if freshness < 0.25
                else self._at(1 + below(79) if freshness < 0.7 else 95 + below(505))
            )
            ids[ContactPoint] = point_id = ids[ContactPoint] + 1
            add(
                {
                    "id": point_id - 1,
                    "customer_id": cid,
                    "street": None,
                    "house_number": None,
                    "postcode": None,
                    "city": None,
                    "preferred": point["kind"] == _MOBILE,
                    "consent_sms": False,
                    "consent_whatsapp": False,
                    "verified_at": verified,
                    "verified_by_id": self.agent_ids[0] if verified else None,
                    "verification_source": "customer stated on call" if verified else None,
                    "invalid": False,
                    "invalid_reason": None,
                    "version": 1,
                    **point,
                }
            )

    def _date_of_birth(self, cid: int) -> date | None:
        """Three in four demo customers have one on file (its own random stream, so the
        rest of the demo stays as it was)."""
        own = random.Random(cid * 7919)
        if own.random() < 0.25:
            return None
        return self.today - timedelta(days=own.randrange(18 * 365, 85 * 365))

    def _entry(
        self, batch: Batch, cid: int, claim_id: int, kind: str, part: str, amount: int, on: date
    ) -> None:
        batch.add(
            LedgerEntry,
            {
                "customer_id": cid,
                "claim_id": claim_id,
                "kind": kind,
                "part": part,
                "amount_cents": amount,
                "booked_on": on,
                "interest_through": None,
                "payment_id": None,
                "arrangement_id": None,
                "notice_id": None,
                "agent_id": None,
                "created_at": self.now,
                "note": "demo",
            },
        )

    def _pay(
        self,
        batch: Batch,
        cid: int,
        open_claims: list[tuple[int, int, date]],
        amount: int,
        on: date,
    ) -> None:
        """A payment on the oldest open claims' principal (no costs or interest yet then)."""
        for index, (claim_id, outstanding, due) in enumerate(open_claims):
            take = min(amount, outstanding)
            if take <= 0:
                continue
            self._entry(batch, cid, claim_id, "payment", "principal", -take, on)
            open_claims[index] = (claim_id, outstanding - take, due)
            amount -= take

    def _fourteen_day_letter(
        self, batch: Batch, cid: int, agent_id: int, open_claims: list[tuple[int, int, date]]
    ) -> int:
        """A 14-day letter sent five weeks ago whose term ran out unpaid: costs booked."""
        policy = self.policy
        sent_on = self.today - timedelta(days=35)
        named = [
            (c, o) for c, o, due in open_claims if books_rules.in_default(due, sent_on) and o > 0
        ]
        if not named:
            return 0
        channel = books_rules.Channel.POST
        owed = books_rules.costs_owed(
            [books_rules.NamedClaim(c, o, o) for c, o in named], self.fees, sent_on, add_vat=False
        )
        notice_id = self._id(DemandNotice)
        chargeable = books_rules.costs_chargeable_from(sent_on, channel, policy)
        batch.add(
            DemandNotice,
            {
                "id": notice_id,
                "customer_id": cid,
                "letter_id": None,
                "agent_id": agent_id,
                "sent_on": sent_on,
                "channel": channel.value,
                "received_on": books_rules.received_on(sent_on, channel, policy),
                "term_ends": books_rules.term_ends(sent_on, channel, policy),
                "principal_named_cents": sum(o for _, o in named),
                "costs_named_cents": owed.costs,
                "vat_named_cents": 0,
                "status": "costs_booked",
                "settled_on": chargeable,
                "costs_booked_cents": owed.costs,
                "created_at": datetime.combine(sent_on, time(9), tzinfo=UTC),
            },
        )
        for claim_id, cents in named:
            batch.add(
                DemandNoticeClaim,
                {"notice_id": notice_id, "claim_id": claim_id, "principal_named_cents": cents},
            )
        for claim_id, share in owed.per_claim:
            self._entry(batch, cid, claim_id, "costs", "costs", share, chargeable)
            batch.rows[LedgerEntry][-1]["notice_id"] = notice_id
        return owed.costs

    def _claim(self, batch: Batch, cid: int, due: date, settled: date | None) -> tuple[int, int]:
        below = self._below
        principal = (
            2_000 + below(18_000),
            5_000 + below(55_000),
            20_000 + below(230_000),
        )[below(3)]
        paid = principal if settled else (0 if self.rng.random() < 0.7 else below(principal // 2))
        claim_id = self._id(Claim)
        batch.add(
            Claim,
            {
                "id": claim_id,
                "customer_id": cid,
                "reference": f"INV-{due.year}-{claim_id:07d}",
                "description": DESCRIPTIONS[below(len(DESCRIPTIONS))],
                "principal_cents": principal,
                "paid_cents": paid,
                "due_date": due,
                "settled_on": settled,
                "version": 1,
            },
        )
        self._entry(batch, cid, claim_id, "principal", "principal", principal, due)
        if paid:
            paid_on = settled or min(self.today, due + timedelta(days=5 + below(25)))
            self._entry(batch, cid, claim_id, "payment", "principal", -paid, paid_on)
        return claim_id, principal - paid

    def _promise(
        self, batch: Batch, cid: int, agent_id: int, amount: int, status: PromiseStatus
    ) -> None:
        due = self.today - timedelta(days=self.rng.randrange(3, 30))
        batch.add(
            PromiseToPay,
            {
                "id": self._id(PromiseToPay),
                "customer_id": cid,
                "agent_id": agent_id,
                "created_at": datetime.combine(due - timedelta(days=10), time(10), tzinfo=UTC),
                "amount_cents": max(amount, 1000),
                "due_date": due,
                "status": status.value,
                "operation_id": None,
                "version": 1,
            },
        )

    def _arrangement(
        self, batch: Batch, cid: int, agent_id: int, total: int, status: ArrangementStatus
    ) -> int:
        """Returns what was paid on it (the first instalment)."""
        arrangement_id = self._id(Arrangement)
        count = 6
        start = self.today - timedelta(days=31 * 4)
        batch.add(
            Arrangement,
            {
                "id": arrangement_id,
                "customer_id": cid,
                "agent_id": agent_id,
                "created_at": datetime.combine(start - timedelta(days=5), time(11), tzinfo=UTC),
                "frequency": "monthly",
                "principal_cents": total,
                "costs_cents": 0,
                "interest_cents": 0,
                "costs_waived": True,
                "interest_waived": True,
                "total_cents": total,
                "status": status.value,
                "approval_needed_reason": None,
                "approved_by_id": None,
                "approved_at": None,
                "approval_note": None,
                "version": 1,
            },
        )
        each = total // count
        for number in range(1, count + 1):
            amount = each if number < count else total - each * (count - 1)
            due = start + timedelta(days=30 * (number - 1))
            paid = amount if number == 1 else 0
            state = (
                InstalmentStatus.PAID
                if number == 1
                else (InstalmentStatus.MISSED if due < self.today else InstalmentStatus.OPEN)
            )
            batch.add(
                Instalment,
                {
                    "id": self._id(Instalment),
                    "arrangement_id": arrangement_id,
                    "number": number,
                    "due_date": due,
                    "amount_cents": amount,
                    "paid_cents": paid,
                    "status": state.value,
                    "version": 1,
                },
            )
        return each

    def _attempt(self, batch: Batch, cid: int, agent_id: int, days_ago: int) -> None:
        outcome = _OUTCOME(self.rng.random)
        batch.add(
            ContactAttempt,
            {
                "id": self._id(ContactAttempt),
                "customer_id": cid,
                "agent_id": agent_id,
                "at": self._at(days_ago),
                "channel": _PHONE,
                "direction": _OUTBOUND,
                "outcome": outcome.value,
                "note": "" if outcome is not Outcome.REACHED else "Spoke briefly; will call back.",
                "operation_id": None,
            },
        )
