"""The supervisor's team view and reassigning work, on both engines, plus their CLI."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from agent_desk.cli import main
from agent_desk.demo import load_demo
from agent_desk.domain import verification
from agent_desk.domain.codes import Channel, Direction, NextStepKind, Outcome
from agent_desk.errors import NotFoundError, PermissionDeniedError, ValidationError
from agent_desk.models import (
    Agent,
    Arrangement,
    AuditEvent,
    ChangeLog,
    ContactAttempt,
    ContactPoint,
    Customer,
    NextStep,
    PromiseToPay,
)
from agent_desk.services.activity import NextStepInput, log_contact_attempt, record_promise
from agent_desk.services.actor import SYSTEM, Actor, actor_for_login
from agent_desk.services.agents import list_agents
from agent_desk.services.database import Database
from agent_desk.services.importers import import_customers
from agent_desk.services.payments import PaymentInput, receive_payments
from agent_desk.services.promises import resolve_due_promises
from agent_desk.services.queue import claim_next
from agent_desk.services.sync import changes_since, latest_change_id
from agent_desk.services.team import (
    ReassignFilter,
    customers_without_next_step,
    outcomes_per_day,
    pending_approval_count,
    preview_reassign,
    reassign,
    stale_contact_customers,
    team_overview,
)

TODAY = date(2026, 11, 23)
NOW = datetime.combine(TODAY, time(15, 0), tzinfo=UTC)


@pytest.fixture
def demo(database: Database) -> Database:
    with database.transaction() as session:
        load_demo(session, customers=240, agents=3, seed=11, today=TODAY)
    return database


def _call(session: object, actor: object, customer_id: int, outcome: Outcome) -> None:
    log_contact_attempt(
        session,  # type: ignore[arg-type]
        actor,  # type: ignore[arg-type]
        customer_id,
        channel=Channel.PHONE,
        direction=Direction.OUTBOUND,
        outcome=outcome,
        note="",
        next_step=NextStepInput(NextStepKind.RETRY, NOW + timedelta(days=1)),
        now=NOW,
    )


def _customers_of(session: object, agent_id: int | None, count: int) -> list[int]:
    ids = session.scalars(  # type: ignore[attr-defined]
        select(Customer.id)
        .where(Customer.assigned_agent_id == agent_id, Customer.arrears_cents > 10000)
        .order_by(Customer.id)
        .limit(count)
    ).all()
    assert len(ids) == count
    return list(ids)


def test_the_overview_counts_what_was_logged_today(demo: Database) -> None:
    with demo.transaction() as session:
        before = {a.login: a for a in team_overview(session, NOW, tz=UTC)}
        approvals_before = pending_approval_count(session)
        sanne = actor_for_login(session, "sanne")
        daan = actor_for_login(session, "daan")
        a, b = _customers_of(session, sanne.agent_id, 2)
        _call(session, sanne, a, Outcome.NO_ANSWER)
        _call(session, sanne, a, Outcome.REACHED)
        _call(session, sanne, b, Outcome.PROMISE_MADE)
        record_promise(
            session, sanne, b, amount_cents=1000, due_date=TODAY + timedelta(days=5), now=NOW
        )
        (c,) = _customers_of(session, daan.agent_id, 1)
        _call(session, daan, c, Outcome.VOICEMAIL)
        session.add(
            Arrangement(
                customer_id=c,
                agent_id=daan.agent_id,
                created_at=NOW,
                principal_cents=10000,
                total_cents=10000,
                status="pending_approval",
            )
        )
        # Yesterday's work does not count today.
        _yesterday = NOW - timedelta(days=1)
        session.add(
            ContactAttempt(
                customer_id=c,
                agent_id=daan.agent_id,
                at=_yesterday,
                channel="phone",
                direction="outbound",
                outcome="reached",
            )
        )
    with demo.transaction() as session:
        after = {a.login: a for a in team_overview(session, NOW, tz=UTC)}
        assert set(after) == {"sanne", "daan", "eva", "marieke"}
        assert [a.role for a in after.values()][-1] == "supervisor"

        def delta(login: str, name: str) -> int:
            return int(getattr(after[login], name)) - int(getattr(before[login], name))

        assert delta("sanne", "attempts_today") == 3
        assert delta("sanne", "customers_reached_today") == 2
        assert delta("sanne", "promises_today") == 1
        assert delta("daan", "attempts_today") == 1
        assert delta("daan", "customers_reached_today") == 0
        assert delta("daan", "arrangements_today") == 1
        assert delta("eva", "attempts_today") == 0
        assert pending_approval_count(session) == approvals_before + 1
        # Queue and assigned agree with the agents list.
        for summary in list_agents(session, NOW):
            assert after[summary.login].queue_size == summary.queue_size
            assert after[summary.login].assigned == summary.assigned
        # Today's attempts, counted independently.
        start = datetime.combine(TODAY, time(0), UTC)
        rows = session.execute(
            select(
                ContactAttempt.agent_id, ContactAttempt.customer_id, ContactAttempt.outcome
            ).where(ContactAttempt.at >= start, ContactAttempt.at < start + timedelta(days=1))
        ).all()
        for stats in after.values():
            mine = [r for r in rows if r.agent_id == stats.agent_id]
            assert stats.attempts_today == len(mine)
            reached = {r.customer_id for r in mine if not Outcome(r.outcome).is_failed_attempt}
            assert stats.customers_reached_today == len(reached)
        # The chart: outcomes per day match the rows.
        per_day = outcomes_per_day(session, TODAY - timedelta(days=1))
        assert per_day[TODAY] == dict(Counter(r.outcome for r in rows))
        assert per_day[TODAY - timedelta(days=1)]["reached"] >= 1
        assert all(day >= TODAY - timedelta(days=1) for day in per_day)
        assert outcomes_per_day(session, TODAY, TODAY) == {}


def test_stale_contact_data_and_missing_next_steps_are_counted(demo: Database) -> None:
    with demo.transaction() as session:
        customers = session.scalars(select(Customer).where(Customer.status == "open")).all()
        expected = 0
        for customer in customers:
            points = [
                verification.ContactPoint(
                    p.id,
                    verification.ContactKind(p.kind),
                    p.value,
                    p.verified_at,
                    p.invalid,
                )
                for p in customer.contact_points
            ]
            expected += verification.needs_verification(points, NOW)
        assert stale_contact_customers(session, NOW) == expected
        assert 0 < expected < len(customers)
        # Verify every point of one stale customer: one fewer.
        stale = next(
            c
            for c in customers
            if any(p.verified_at is None and not p.invalid for p in c.contact_points)
        )
        session.execute(
            update(ContactPoint)
            .where(ContactPoint.customer_id == stale.id)
            .values(verified_at=NOW, invalid=False)
        )
        assert stale_contact_customers(session, NOW) == expected - 1
        assert stale_contact_customers(session, NOW, days=100_000) <= expected - 1
        without = customers_without_next_step(session)
        target = next(c for c in customers if c.next_step_kind is not None)
        session.execute(
            update(NextStep)
            .where(NextStep.customer_id == target.id, NextStep.done_at.is_(None))
            .values(done_at=NOW)
        )
        assert customers_without_next_step(session) == without + 1


def test_reassign_moves_what_the_preview_promised_evenly_audited_and_live(
    demo: Database,
) -> None:
    with demo.transaction() as session:
        marieke = actor_for_login(session, "marieke")
        sanne = actor_for_login(session, "sanne")
        held = claim_next(session, sanne, NOW)  # open on Sanne's desk right now
        assert held is not None
        mine_before = session.scalar(
            select(func.count())
            .select_from(Customer)
            .where(Customer.assigned_agent_id == sanne.agent_id, Customer.status == "open")
        )
        start_change = latest_change_id(session)
    selection = ReassignFilter(from_agent="sanne")
    with demo.transaction() as session:
        preview = preview_reassign(session, marieke, selection, ["daan", "eva"], NOW)
    assert preview.count == (mine_before or 0) - 1 and preview.skipped_held == 1
    assert sum(preview.per_target.values()) == preview.count
    assert max(preview.per_target.values()) - min(preview.per_target.values()) <= 1
    assert len(preview.sample_names) == 5
    assert preview.sentence() == (
        f"{preview.count} customers move from Sanne de Vries to Daan Bakker and Eva Janssen."
    )
    with demo.transaction() as session:
        result = reassign(session, marieke, selection, ["daan", "eva"], NOW)
    assert result.moved == preview.count
    assert result.per_target == preview.per_target and result.skipped_held == 1
    with demo.transaction() as session:
        ids = set(result.customer_ids)
        owners = dict(
            session.execute(
                select(Customer.id, Agent.login)
                .join(Agent, Agent.id == Customer.assigned_agent_id)
                .where(Customer.id.in_(ids))
            ).all()
        )
        assert Counter(owners.values()) == Counter(result.per_target)
        remaining = session.scalars(
            select(Customer.id).where(
                Customer.assigned_agent_id == sanne.agent_id, Customer.status == "open"
            )
        ).all()
        assert remaining == [held.customer_id]
        # Round-robin in priority order: neighbours in the queue go to different agents.
        ordered = sorted(ids, key=lambda i: result.customer_ids.index(i))
        assert [owners[i] for i in ordered[:4]] == ["daan", "eva", "daan", "eva"]
        # Open next steps follow the customer.
        step_owners = session.scalars(
            select(NextStep.assigned_agent_id).where(
                NextStep.customer_id.in_(ids), NextStep.done_at.is_(None)
            )
        ).all()
        assert sanne.agent_id not in step_owners
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "reassign")).all()
        per_customer = [e for e in events if e.entity == "customer"]
        assert {e.customer_id for e in per_customer} == ids
        assert all(e.agent_id == marieke.agent_id for e in per_customer)
        assert {e.detail for e in per_customer} == {"sanne -> daan", "sanne -> eva"}
        (bulk,) = [e for e in events if e.entity == "team"]
        assert json.loads(bulk.detail)["moved"] == result.per_target
        changed = changes_since(session, start_change, limit=100_000)
        moved_rows = {c.row_id for c in changed if c.table == "customer"}
        assert ids <= moved_rows
        assert session.scalar(
            select(func.count()).select_from(ChangeLog).where(ChangeLog.id > start_change)
        ) == len(changed)
    # Moving again finds nothing left but the held one.
    with demo.transaction() as session:
        again = reassign(session, marieke, selection, ["daan"], NOW)
        assert again.moved == 0 and again.skipped_held == 1


def test_filters_select_the_right_customers(demo: Database) -> None:
    with demo.transaction() as session:
        customers = session.scalars(select(Customer).where(Customer.status == "open")).all()
        daan = actor_for_login(session, "daan")

        def postcode_digits(c: Customer) -> set[int]:
            return {
                int(p.postcode[:4])
                for p in c.contact_points
                if p.kind == "address" and p.postcode and not p.invalid
            }

        expected = [
            c
            for c in customers
            if c.assigned_agent_id != daan.agent_id
            and any(2000 <= d <= 5999 for d in postcode_digits(c))
            and c.oldest_due_date is not None
            and (TODAY - c.oldest_due_date).days >= 30
        ]
        selection = ReassignFilter(postcode_from=2000, postcode_to=5999, min_days_past_due=30)
        preview = preview_reassign(session, SYSTEM, selection, ["daan"], NOW)
        assert preview.count == len(expected) > 0
        first_time = [
            c for c in customers if c.first_time_arrears and c.assigned_agent_id != daan.agent_id
        ]
        preview = preview_reassign(
            session, SYSTEM, ReassignFilter(first_time_only=True), ["daan"], NOW
        )
        assert preview.count == len(first_time) > 0
        segment = [
            c
            for c in customers
            if c.segment == "self_employed" and c.assigned_agent_id != daan.agent_id
        ]
        preview = preview_reassign(
            session, SYSTEM, ReassignFilter(segment="self_employed"), ["daan"], NOW
        )
        assert preview.count == len(segment)
        picked = [c.customer_number for c in expected[:3]]
        result = reassign(session, SYSTEM, ReassignFilter(customer_numbers=picked), ["daan"], NOW)
        assert result.moved == 3 and result.per_target == {"daan": 3}


@pytest.mark.parametrize(
    ("selection", "to", "error", "message"),
    [
        (ReassignFilter(), ["daan"], ValidationError, "Say which customers"),
        (ReassignFilter(from_agent="sanne"), ["sanne"], ValidationError, "cannot move to"),
        (ReassignFilter(from_agent="sanne"), ["daan", "daan"], ValidationError, "named twice"),
        (ReassignFilter(from_agent="sanne"), [], ValidationError, "to which agent"),
        (ReassignFilter(from_agent="nobody"), ["daan"], NotFoundError, "login 'nobody'"),
        (ReassignFilter(from_agent="sanne"), ["ghost"], NotFoundError, "login 'ghost'"),
        (ReassignFilter(postcode_from=3000, postcode_to=2000), ["daan"], ValidationError, "empty"),
        (ReassignFilter(postcode_from=123), ["daan"], ValidationError, "four digits"),
        (ReassignFilter(customer_numbers=["X-404"]), ["daan"], NotFoundError, "X-404"),
    ],
)
def test_bad_reassignments_are_refused_with_a_reason(
    demo: Database,
    selection: ReassignFilter,
    to: list[str],
    error: type[Exception],
    message: str,
) -> None:
    with demo.transaction() as session:
        with pytest.raises(error, match=message):
            preview_reassign(session, SYSTEM, selection, to, NOW)
        with pytest.raises(error, match=message):
            reassign(session, SYSTEM, selection, to, NOW)


def test_an_agent_cannot_reassign(demo: Database) -> None:
    with demo.transaction() as session:
        sanne = actor_for_login(session, "sanne")
        start = latest_change_id(session)
        for call in (preview_reassign, reassign):
            with pytest.raises(PermissionDeniedError, match="Only a supervisor"):
                call(session, sanne, ReassignFilter(from_agent="daan"), ["sanne"], NOW)
    with demo.transaction() as session:
        assert changes_since(session, start) == []


# --------------------------------------------------------------------------- CLI


def _url(database: Database) -> str:
    return database.url.render_as_string(hide_password=False)


def test_cli_reassign_dry_run_then_apply(
    demo: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _url(demo)
    argv = ["reassign", "--database", url, "--from", "sanne", "--to", "daan,eva"]
    assert main([*argv, "--dry-run", "--as", "marieke"]) == 0
    out = capsys.readouterr().out
    assert "customers move from Sanne de Vries to Daan Bakker and Eva Janssen." in out
    assert "Dry run: nothing was moved." in out
    count = int(out.split()[0])
    with demo.transaction() as session:
        sanne = actor_for_login(session, "sanne")
        assert (
            session.scalar(
                select(func.count())
                .select_from(Customer)
                .where(Customer.assigned_agent_id == sanne.agent_id, Customer.status == "open")
            )
            == count
        )
    assert main([*argv, "--as", "marieke", "--postcode-from", "1000", "--postcode-to", "9999"]) == 0
    out = capsys.readouterr().out
    assert "Moved" in out
    assert main([*argv, "--first-time"]) == 0
    assert "No customers match; nothing to move." in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "status", "message"),
    [
        (["reassign", "--from", "sanne", "--to", "daan", "--as", "sanne"], 1, "Only a supervisor"),
        (["reassign", "--to", "daan"], 2, "Say which customers to move"),
        (["reassign", "--from", "sanne"], 2, "required: --to"),
        (["reassign", "--from", "sanne", "--to", "daan,"], 2, "not a list of logins"),
        (["reassign", "--from", "sanne", "--to", "nobody"], 1, "no agent with login 'nobody'"),
        (
            ["reassign", "--from", "sanne", "--to", "daan", "--postcode-from", "12"],
            2,
            "four digits",
        ),
        (
            ["reassign", "--from", "sanne", "--to", "daan", "--min-days-past-due", "-1"],
            2,
            "negative",
        ),
        (
            ["reassign", "--from", "sanne", "--to", "daan", "--segment", "pirates"],
            2,
            "invalid choice",
        ),
        (
            ["reassign", "--to", "daan", "--postcode-from", "3000", "--postcode-to", "2000"],
            1,
            "put the lower number first",
        ),
        (["team", "--frobnicate"], 2, "Unrecognized arguments"),
    ],
)
def test_cli_bad_input_gives_one_clear_sentence(
    demo: Database,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    status: int,
    message: str,
) -> None:
    assert main([*argv, "--database", _url(demo)]) == status
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_cli_team_overview(demo: Database, capsys: pytest.CaptureFixture[str]) -> None:
    url = _url(demo)
    assert main(["team", "--database", url, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [a["login"] for a in data["agents"]][-1] == "marieke"
    with demo.transaction() as session:
        listed = {a.login: a for a in list_agents(session, datetime.now(UTC))}
        assert data["stale_contact_customers"] == stale_contact_customers(
            session, datetime.now(UTC)
        )
        assert data["customers_without_next_step"] == customers_without_next_step(session)
        assert data["pending_approval"] == pending_approval_count(session)
    for agent in data["agents"]:
        assert agent["assigned"] == listed[agent["login"]].assigned
    assert main(["team", "--database", url]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:3] == ["LOGIN", "NAME", "QUEUE"]
    assert "Arrangements waiting for approval:" in out


# --------------------------------------------------------------------------- kept rate

MIX_HEADER = (
    "customer_number,first_name,last_name,language,segment,mobile,phone,email,street,"
    "house_number,postcode,city,agent,claim_reference,claim_description,principal,due_date\n"
)


def _mix_customers(agent_of: dict[str, str]) -> str:
    return MIX_HEADER + "".join(
        f"{number},Kim,Klant {number},nl,consumer,,,,Dorpsstraat,4,1234 AB,Ede,{agent},"
        f"INV-{number},Energy,500.00,2026-06-01\n"
        for number, agent in agent_of.items()
    )


@pytest.fixture
def promise_mix(database: Database, tmp_path: Path) -> tuple[Database, datetime]:
    """A known mix of promises, relative to now (the CLI reads the real clock).

    Sanne, in the last 30 days: 800001 kept (paid in full), 800002 broken, 800003 kept
    (two payments), 800004 still running; and 800001 kept 40 days ago (outside).
    Daan: 800005 broken, taken just after the period began (inside), 800006 broken,
    taken just before it began (outside). Marieke took none.
    """
    now = datetime.now(UTC).replace(microsecond=0)
    today = now.date()
    with database.transaction() as session:
        load_demo(session, customers=1, agents=2, seed=1, today=today - timedelta(days=300))
    path = tmp_path / "mix.csv"
    agents = {f"80000{n}": "sanne" if n <= 4 else "daan" for n in range(1, 7)}
    path.write_text(_mix_customers(agents), encoding="utf-8")
    with database.transaction() as session:
        import_customers(session, SYSTEM, path, now - timedelta(days=60))

    def day(offset: int, hour: int = 10) -> datetime:
        return datetime.combine(today + timedelta(days=offset), time(hour), tzinfo=UTC)

    period_start = datetime.combine(today - timedelta(days=29), time(0), tzinfo=UTC)
    with database.transaction() as session:
        ids = {n: i for n, i in session.execute(select(Customer.customer_number, Customer.id))}
        sanne, daan = actor_for_login(session, "sanne"), actor_for_login(session, "daan")

        def promise(who: Actor, number: str, made: datetime, by_offset: int) -> None:
            record_promise(
                session,
                who,
                ids[number],
                amount_cents=10000,
                due_date=today + timedelta(days=by_offset),
                now=made,
            )

        def pay(number: str, amount: int, offset: int) -> None:
            receive_payments(
                session,
                SYSTEM,
                [
                    PaymentInput(
                        ids[number], amount, today + timedelta(days=offset), f"P{number}{offset}"
                    )
                ],
                day(offset, 12),
            )

        promise(sanne, "800001", day(-40), -35)
        pay("800001", 10000, -36)
        promise(sanne, "800001", day(-20), -15)
        pay("800001", 10000, -16)
        promise(sanne, "800002", day(-20), -15)
        promise(sanne, "800003", day(-10), -5)
        pay("800003", 5000, -9)
        pay("800003", 5000, -6)
        promise(sanne, "800004", day(-2), 5)
        promise(daan, "800005", period_start + timedelta(minutes=30), -25)
        promise(daan, "800006", period_start - timedelta(minutes=30), -25)
        resolve_due_promises(session, today, day(0, 0))
    return database, now


def test_the_kept_rate_per_agent_counts_the_promises_of_the_period(
    promise_mix: tuple[Database, datetime],
) -> None:
    database, now = promise_mix
    with database.transaction() as session:
        statuses = Counter(session.scalars(select(PromiseToPay.status)).all())
        assert statuses == {"kept": 3, "broken": 3, "open": 1}
        stats = {a.login: a for a in team_overview(session, now, tz=UTC)}
        sanne, daan, marieke = stats["sanne"], stats["daan"], stats["marieke"]
        assert (sanne.promises_made, sanne.promises_kept, sanne.promises_broken) == (4, 2, 1)
        assert sanne.promise_kept_rate == pytest.approx(2 / 3)
        assert (daan.promises_made, daan.promises_kept, daan.promises_broken) == (1, 0, 1)
        assert daan.promise_kept_rate == 0.0
        assert (marieke.promises_made, marieke.promise_kept_rate) == (0, None)
        # A longer period takes in the older ones; a shorter one only the recent.
        longer = {a.login: a for a in team_overview(session, now, tz=UTC, promise_days=60)}
        assert (longer["sanne"].promises_made, longer["sanne"].promises_kept) == (5, 3)
        assert (longer["daan"].promises_made, longer["daan"].promises_broken) == (2, 2)
        shorter = {a.login: a for a in team_overview(session, now, tz=UTC, promise_days=3)}
        assert (shorter["sanne"].promises_made, shorter["sanne"].promise_kept_rate) == (1, None)
        with pytest.raises(ValidationError, match="at least one day"):
            team_overview(session, now, promise_days=0)


def test_cli_team_shows_the_kept_rate(
    promise_mix: tuple[Database, datetime], capsys: pytest.CaptureFixture[str]
) -> None:
    database, _now = promise_mix
    url = _url(database)
    assert main(["team", "--database", url, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    agents = {a["login"]: a for a in data["agents"]}
    assert data["promise_days"] == 30
    sanne = agents["sanne"]
    assert {k: sanne[k] for k in ("promises_made", "promises_kept", "promises_broken")} == {
        "promises_made": 4,
        "promises_kept": 2,
        "promises_broken": 1,
    }
    assert sanne["promise_kept_rate"] == 0.6667
    assert agents["marieke"]["promise_kept_rate"] is None
    # The fields that were there stay.
    assert {"queue_size", "assigned", "attempts_today", "promises_today"} <= set(sanne)
    assert main(["team", "--database", url, "--json", "--promise-days", "60"]) == 0
    longer = {a["login"]: a for a in json.loads(capsys.readouterr().out)["agents"]}
    assert longer["sanne"]["promise_kept_rate"] == 0.75
    assert main(["team", "--database", url]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[-1] == "KEPT"
    (line,) = [row for row in out.splitlines() if row.startswith("sanne")]
    assert line.split()[-1] == "67%"
    assert "taken in the last 30 days" in out
    assert main(["team", "--database", url, "--promise-days", "0"]) == 2
    assert "between 1 and 3660 days" in capsys.readouterr().err
