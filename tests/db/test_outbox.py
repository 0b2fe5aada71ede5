"""The offline outbox: durable, replayed in order, exactly once, conflicts kept for review."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from agent_desk.demo import load_demo
from agent_desk.domain.codes import Channel, Direction, NextStepKind, Outcome
from agent_desk.errors import UsageError, ValidationError
from agent_desk.models import (
    AuditEvent,
    ChangeLog,
    ContactAttempt,
    Customer,
    NextStep,
    Note,
    PromiseToPay,
)
from agent_desk.services import activity
from agent_desk.services.activity import NextStepInput, log_contact_attempt, set_pause
from agent_desk.services.actor import Actor, actor_for_login
from agent_desk.services.database import Database
from agent_desk.services.outbox import OperationStatus, Outbox, OutboxOperation

TODAY = date(2026, 11, 23)
NOW = datetime.combine(TODAY, time(15, 0), tzinfo=UTC)


def _now() -> datetime:
    return NOW + timedelta(minutes=30)


@pytest.fixture
def demo(database: Database) -> Database:
    with database.transaction() as session:
        load_demo(session, customers=30, agents=2, seed=5, today=TODAY)
    return database


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(tmp_path / "outbox" / "desk-outbox.sqlite3")
    yield box
    box.close()


def _sanne(database: Database) -> Actor:
    with database.transaction() as session:
        return actor_for_login(session, "sanne")


def _customers(database: Database, actor: Actor, count: int) -> list[tuple[int, int]]:
    """(id, version) of the agent's customers with arrears, as the desk last saw them."""
    with database.transaction() as session:
        rows = session.execute(
            select(Customer.id, Customer.version)
            .where(Customer.assigned_agent_id == actor.agent_id, Customer.arrears_cents > 10000)
            .order_by(Customer.id)
            .limit(count)
        ).all()
    assert len(rows) == count
    return [(int(r[0]), int(r[1])) for r in rows]


def _offline_work(outbox: Outbox, actor: Actor, customers: list[tuple[int, int]]) -> list[str]:
    """What an agent does while offline: a call, a note, a promise and a next step."""
    (first, v1), (second, v2) = customers[0], customers[1]
    ops = [
        outbox.enqueue_contact_attempt(
            customer_id=first,
            base_version=v1,
            agent_login=actor.login,
            now=NOW,
            channel=Channel.PHONE,
            direction=Direction.OUTBOUND,
            outcome=Outcome.REACHED,
            note="spoke to customer while offline",
            next_step=NextStepInput(NextStepKind.CALLBACK, NOW + timedelta(days=2)),
        ),
        outbox.enqueue_note(
            customer_id=first, agent_login=actor.login, now=NOW + timedelta(seconds=1), text="n1"
        ),
        # Same customer, same version the desk saw: the agent's own chain.
        outbox.enqueue_promise(
            customer_id=first,
            base_version=v1,
            agent_login=actor.login,
            now=NOW + timedelta(seconds=2),
            amount_cents=5000,
            due_date=TODAY + timedelta(days=7),
        ),
        outbox.enqueue_next_step(
            customer_id=second,
            base_version=v2,
            agent_login=actor.login,
            now=NOW + timedelta(seconds=3),
            step=NextStepInput(NextStepKind.LETTER, NOW + timedelta(days=3), "send letter"),
        ),
    ]
    return [op.operation_id for op in ops]


def _counts(database: Database, actor: Actor, customer_ids: list[int]) -> dict[str, int]:
    with database.transaction() as session:

        def count(model: type, *where: object) -> int:
            statement = select(func.count()).select_from(model).where(*where)  # type: ignore[arg-type]
            return int(session.scalar(statement) or 0)

        return {
            "attempts": count(ContactAttempt, ContactAttempt.operation_id.is_not(None)),
            "notes": count(Note, Note.operation_id.is_not(None)),
            "promises": count(PromiseToPay, PromiseToPay.operation_id.is_not(None)),
            "steps": count(
                NextStep,
                NextStep.created_by_id == actor.agent_id,
                NextStep.customer_id.in_(customer_ids),
            ),
            "audit": count(
                AuditEvent,
                AuditEvent.agent_id == actor.agent_id,
                AuditEvent.customer_id.in_(customer_ids),
            ),
        }


EXPECTED = {"attempts": 1, "notes": 1, "promises": 1, "steps": 3, "audit": 4}


def test_the_outbox_file_is_durable_and_survives_reopening(outbox: Outbox) -> None:
    mode = outbox._connection.execute("PRAGMA journal_mode").fetchone()
    sync = outbox._connection.execute("PRAGMA synchronous").fetchone()
    assert mode == ("wal",) and sync == (2,)  # 2 = FULL
    op = outbox.enqueue_note(customer_id=7, agent_login="sanne", now=NOW, text="kept")
    outbox.close()
    with Outbox(outbox.path) as again:
        (kept,) = again.pending("sanne")
        assert kept.operation_id == op.operation_id and kept.payload == {"text": "kept"}
        assert kept.created_at == NOW and kept.status is OperationStatus.PENDING
        assert len(kept.operation_id) == 36  # uuid4


def test_malformed_operations_are_refused_before_saying_saved(outbox: Outbox) -> None:
    with pytest.raises(UsageError, match="does not keep"):
        outbox.enqueue(
            "phone_call", customer_id=1, payload={}, base_version=1, agent_login="a", now=NOW
        )
    with pytest.raises(UsageError, match="malformed"):
        outbox.enqueue(
            "promise",
            customer_id=1,
            payload={"amount_cents": "12", "due_date": "2026-12-01"},
            base_version=1,
            agent_login="a",
            now=NOW,
        )
    with pytest.raises(UsageError, match="malformed"):
        outbox.enqueue(
            "contact_attempt",
            customer_id=1,
            payload={"channel": "fax"},
            base_version=1,
            agent_login="a",
            now=NOW,
        )
    assert outbox.all() == []


def test_replay_applies_each_operation_once_in_order(demo: Database, outbox: Outbox) -> None:
    sanne = _sanne(demo)
    customers = _customers(demo, sanne, 2)
    ids = _offline_work(outbox, sanne, customers)
    before = _counts(demo, sanne, [c for c, _ in customers])
    progress: list[tuple[int, int, str]] = []
    result = outbox.replay(
        demo, sanne, _now, on_progress=lambda i, n, op: progress.append((i, n, op.operation_id))
    )
    assert (result.applied, result.conflicts, result.failed, result.offline) == (4, 0, 0, False)
    assert progress == [(i + 1, 4, op_id) for i, op_id in enumerate(ids)]
    after = _counts(demo, sanne, [c for c, _ in customers])
    assert {k: after[k] - before[k] for k in after} == EXPECTED
    done = outbox.all()
    assert [op.status for op in done] == [OperationStatus.DONE] * 4
    assert all(op.result_id and op.applied_at for op in done)
    with demo.transaction() as session:
        attempt = session.scalar(
            select(ContactAttempt).where(ContactAttempt.operation_id == ids[0])
        )
        assert attempt is not None and attempt.at == NOW  # when the call happened
        customer = session.get(Customer, customers[0][0])
        assert customer is not None and customer.next_step_kind == "promise_check"
    # Replaying again does nothing; even forgetting that it was done doubles nothing.
    assert outbox.replay(demo, sanne, _now).applied == 0
    outbox._connection.execute("UPDATE operation SET status = 'pending'")
    again = outbox.replay(demo, sanne, _now)
    assert (again.applied, again.conflicts) == (4, 0)
    assert _counts(demo, sanne, [c for c, _ in customers]) == after
    assert [op.result_id for op in outbox.all()] == [op.result_id for op in done]


@pytest.mark.parametrize(("batch_size", "in_database_unmarked"), [(1, "notes"), (2, "promises")])
def test_a_crash_between_commit_and_marking_done_doubles_nothing(
    demo: Database,
    outbox: Outbox,
    monkeypatch: pytest.MonkeyPatch,
    batch_size: int,
    in_database_unmarked: str,
) -> None:
    sanne = _sanne(demo)
    customers = _customers(demo, sanne, 2)
    _offline_work(outbox, sanne, customers)
    before = _counts(demo, sanne, [c for c, _ in customers])
    original = Outbox._flush_marks
    calls = {"n": 0}

    class Crash(Exception):
        pass

    def crash_on_second(self: Outbox, ops: list[OutboxOperation]) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise Crash  # the second batch committed; the outbox never heard
        original(self, ops)

    monkeypatch.setattr(Outbox, "_flush_marks", crash_on_second)
    with pytest.raises(Crash):
        outbox.replay(demo, sanne, _now, batch_size=batch_size)
    monkeypatch.setattr(Outbox, "_flush_marks", original)
    statuses = [op.status for op in outbox.all()]
    marked = batch_size  # the first batch
    assert statuses == [OperationStatus.DONE] * marked + [OperationStatus.PENDING] * (4 - marked)
    partial = _counts(demo, sanne, [c for c, _ in customers])
    # The second batch (op 2, or ops 3 and 4) is in the database, though not marked.
    assert partial[in_database_unmarked] - before[in_database_unmarked] == 1
    result = outbox.replay(demo, sanne, _now)
    assert (result.applied, result.conflicts, result.failed) == (4 - marked, 0, 0)
    after = _counts(demo, sanne, [c for c, _ in customers])
    assert {k: after[k] - before[k] for k in after} == EXPECTED


@pytest.mark.parametrize(("batch_size", "committed"), [(2, 2), (50, 0)])
def test_a_process_killed_mid_replay_loses_and_doubles_nothing(
    demo: Database, outbox: Outbox, batch_size: int, committed: int
) -> None:
    sanne = _sanne(demo)
    customers = _customers(demo, sanne, 2)
    _offline_work(outbox, sanne, customers)
    before = _counts(demo, sanne, [c for c, _ in customers])
    script = textwrap.dedent(
        """
        import os, sys
        from datetime import UTC, datetime
        from agent_desk.services import activity
        from agent_desk.services.actor import actor_for_login
        from agent_desk.services.database import Database
        from agent_desk.services.outbox import Outbox

        database = Database(sys.argv[1])
        with database.transaction() as session:
            actor = actor_for_login(session, "sanne")
        box = Outbox(sys.argv[2])

        def killed(*args, **kwargs):
            os._exit(9)  # killed in the third operation: no cleanup, no commit

        activity.record_promise = killed
        box.replay(database, actor, lambda: datetime.now(UTC), batch_size=int(sys.argv[3]))
        """
    )
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    url = demo.url.render_as_string(hide_password=False)
    killed = subprocess.run(
        [sys.executable, "-c", script, url, str(outbox.path), str(batch_size)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert killed.returncode == 9, killed.stderr
    # Only whole committed batches reached the database, and they are marked done; the
    # batch being applied was lost with the process (all of it, also what came before
    # the kill) and is still pending.
    partial = _counts(demo, sanne, [c for c, _ in customers])
    assert partial["attempts"] - before["attempts"] == (1 if committed else 0)
    assert partial["notes"] - before["notes"] == (1 if committed else 0)
    assert partial["promises"] == before["promises"]
    statuses = [op.status for op in outbox.all()]
    assert statuses == [OperationStatus.DONE] * committed + [OperationStatus.PENDING] * (
        4 - committed
    )
    result = outbox.replay(demo, sanne, _now)
    assert (result.applied, result.conflicts, result.failed) == (4 - committed, 0, 0)
    after = _counts(demo, sanne, [c for c, _ in customers])
    assert {k: after[k] - before[k] for k in after} == EXPECTED


def test_a_stale_operation_goes_to_the_review_list_and_is_resolved(
    demo: Database, outbox: Outbox
) -> None:
    sanne = _sanne(demo)
    (first, v1), (second, v2) = _customers(demo, sanne, 2)
    call = outbox.enqueue_contact_attempt(
        customer_id=first,
        base_version=v1,
        agent_login="sanne",
        now=NOW,
        channel=Channel.PHONE,
        direction=Direction.OUTBOUND,
        outcome=Outcome.REFUSED,
        note="typed offline",
        next_step=NextStepInput(NextStepKind.RETRY, NOW + timedelta(days=1)),
    )
    promise = outbox.enqueue_promise(
        customer_id=second,
        base_version=v2,
        agent_login="sanne",
        now=NOW,
        amount_cents=2500,
        due_date=TODAY + timedelta(days=3),
    )
    # A note on a customer that no longer exists (merged away meanwhile): refused on replay.
    empty_note = outbox.enqueue_note(customer_id=999_999, agent_login="sanne", now=NOW, text="hi")
    later = outbox.enqueue_note(customer_id=first, agent_login="sanne", now=NOW, text="after")
    # Meanwhile a supervisor changes both customers.
    with demo.transaction() as session:
        marieke = actor_for_login(session, "marieke")
        for customer_id in (first, second):
            log_contact_attempt(
                session,
                marieke,
                customer_id,
                channel=Channel.PHONE,
                direction=Direction.INBOUND,
                outcome=Outcome.CALLBACK_REQUESTED,
                note="customer called in",
                next_step=NextStepInput(NextStepKind.CALLBACK, NOW + timedelta(hours=2)),
                now=NOW,
            )
    result = outbox.replay(demo, sanne, _now)
    assert (result.applied, result.conflicts, result.failed) == (1, 2, 1)
    assert result.needs_review
    review = {op.operation_id: op for op in outbox.conflicts("sanne")}
    assert set(review) == {call.operation_id, promise.operation_id, empty_note.operation_id}
    assert review[call.operation_id].status is OperationStatus.CONFLICT
    assert "colleague changed this customer" in (review[call.operation_id].error or "")
    assert review[empty_note.operation_id].status is OperationStatus.FAILED
    assert review[call.operation_id].payload["note"] == "typed offline"  # text kept
    assert outbox.get(later.operation_id).status is OperationStatus.DONE  # type: ignore[union-attr]
    # The agent decides: the call goes on top of the colleague's change, the rest goes.
    outbox.resolve(call.operation_id, "retry_on_latest")
    outbox.resolve(promise.operation_id, "discard")
    outbox.resolve(empty_note.operation_id, "discard")
    with pytest.raises(UsageError, match="retry_on_latest or discard"):
        outbox.resolve(call.operation_id, "merge")
    with pytest.raises(UsageError, match="Only a conflict"):
        outbox.resolve(later.operation_id, "discard")
    again = outbox.replay(demo, sanne, _now)
    assert (again.applied, again.conflicts, again.failed) == (1, 0, 0)
    assert outbox.conflicts() == []
    counts = outbox.counts()
    assert counts == {OperationStatus.DONE: 2, OperationStatus.DISCARDED: 2}
    with demo.transaction() as session:
        refused = session.scalar(
            select(ContactAttempt).where(ContactAttempt.operation_id == call.operation_id)
        )
        assert refused is not None and refused.outcome == "refused"
        assert (
            session.scalar(
                select(func.count())
                .select_from(PromiseToPay)
                .where(PromiseToPay.operation_id == promise.operation_id)
            )
            == 0
        )


def test_replay_while_still_offline_keeps_everything_pending(
    demo: Database, outbox: Outbox
) -> None:
    sanne = _sanne(demo)
    customers = _customers(demo, sanne, 2)
    _offline_work(outbox, sanne, customers)
    unreachable = Database("postgresql://postgres@127.0.0.1:1/nothing")
    try:
        result = outbox.replay(unreachable, sanne, _now)
    finally:
        unreachable.dispose()
    assert result.offline and result.remaining == 4 and result.applied == 0
    assert result.error and "Cannot reach the database server" in result.error
    assert [op.status for op in outbox.all()] == [OperationStatus.PENDING] * 4
    # Another agent's operations in the same file are not replayed as Sanne.
    outbox.enqueue_note(customer_id=customers[0][0], agent_login="daan", now=NOW, text="daan's")
    assert outbox.replay(demo, sanne, _now).applied == 4
    assert [op.agent_login for op in outbox.pending()] == ["daan"]


# --------------------------------------------------------------------------- batches


def _colleague_changes(database: Database, customer_id: int) -> None:
    """A supervisor logs a call on the customer: its version moves on."""
    with database.transaction() as session:
        marieke = actor_for_login(session, "marieke")
        log_contact_attempt(
            session,
            marieke,
            customer_id,
            channel=Channel.PHONE,
            direction=Direction.INBOUND,
            outcome=Outcome.CALLBACK_REQUESTED,
            note="customer called in",
            next_step=NextStepInput(NextStepKind.CALLBACK, NOW + timedelta(hours=2)),
            now=NOW,
        )


def _drop_connection(session: Session) -> None:
    """The connection dies under the running statement (VPN gone, server restarted)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
    raise OperationalError("SELECT 1", {}, sqlite3.OperationalError("disk I/O error"))


def _replayed_notes(database: Database, customer_id: int) -> list[str]:
    with database.transaction() as session:
        return list(
            session.scalars(
                select(Note.text)
                .where(Note.customer_id == customer_id, Note.operation_id.is_not(None))
                .order_by(Note.at)
            )
        )


def test_a_refused_operation_in_the_middle_of_a_batch_leaves_only_itself_out(
    demo: Database, outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One batch, one transaction: a stale promise and a note the database refuses sit
    between operations that must all be applied, exactly once."""
    sanne = _sanne(demo)
    (first, v1), (second, v2) = _customers(demo, sanne, 2)
    call = outbox.enqueue_contact_attempt(
        customer_id=first,
        base_version=v1,
        agent_login="sanne",
        now=NOW,
        channel=Channel.PHONE,
        direction=Direction.OUTBOUND,
        outcome=Outcome.REACHED,
        note="before",
        next_step=NextStepInput(NextStepKind.CALLBACK, NOW + timedelta(days=2)),
    )
    stale = outbox.enqueue_promise(
        customer_id=second,
        base_version=v2,
        agent_login="sanne",
        now=NOW + timedelta(seconds=1),
        amount_cents=2500,
        due_date=TODAY + timedelta(days=3),
    )
    outbox.enqueue_note(
        customer_id=first,
        agent_login="sanne",
        now=NOW + timedelta(seconds=2),
        text="refused by the database",
    )
    outbox.enqueue_note(
        customer_id=first, agent_login="sanne", now=NOW + timedelta(seconds=3), text="after"
    )
    step = outbox.enqueue_next_step(  # on the version the call produced (the agent's chain)
        customer_id=first,
        base_version=v1,
        agent_login="sanne",
        now=NOW + timedelta(seconds=4),
        step=NextStepInput(NextStepKind.LETTER, NOW + timedelta(days=3), "send letter"),
    )
    _colleague_changes(demo, second)
    real_add_note = activity.add_note

    def add_note(
        session: Session,
        actor: Actor,
        customer_id: int,
        text: str,
        now: datetime,
        operation_id: str | None = None,
    ) -> int:
        if text == "refused by the database":
            session.add(Note(customer_id=-1, agent_id=actor.agent_id, at=now, text=text))
            session.flush()  # no customer -1: the database refuses the statement
        return real_add_note(session, actor, customer_id, text, now, operation_id)

    monkeypatch.setattr(activity, "add_note", add_note)
    result = outbox.replay(demo, sanne, _now)  # all five in one batch
    assert (result.applied, result.conflicts, result.failed) == (3, 1, 1)
    assert [op.status for op in outbox.all()] == [
        OperationStatus.DONE,
        OperationStatus.CONFLICT,
        OperationStatus.FAILED,
        OperationStatus.DONE,
        OperationStatus.DONE,
    ]

    def applied() -> tuple[int, int, list[str], int, int]:
        with demo.transaction() as session:
            attempt_ids = list(
                session.scalars(
                    select(ContactAttempt.id).where(
                        ContactAttempt.operation_id == call.operation_id
                    )
                )
            )
            promises = session.scalar(
                select(func.count())
                .select_from(PromiseToPay)
                .where(PromiseToPay.operation_id == stale.operation_id)
            )
            steps = session.scalar(
                select(func.count())
                .select_from(NextStep)
                .where(NextStep.customer_id == first, NextStep.created_at == step.created_at)
            )
            logged = session.scalar(
                select(func.count())
                .select_from(ChangeLog)
                .where(ChangeLog.table_name == "contact_attempt", ChangeLog.row_id.in_(attempt_ids))
            )
        notes = _replayed_notes(demo, first)
        return len(attempt_ids), int(promises or 0), notes, int(steps or 0), int(logged or 0)

    # The call, the later note and the step once each (and the call in the change
    # log once); nothing of the promise or of the refused note.
    assert applied() == (1, 0, ["after"], 1, 1)
    # Forgetting the "done" marks doubles nothing; the review list stays as it was.
    outbox._connection.execute("UPDATE operation SET status = 'pending' WHERE status = 'done'")
    again = outbox.replay(demo, sanne, _now)
    assert (again.applied, again.conflicts, again.failed) == (3, 0, 0)
    assert applied() == (1, 0, ["after"], 1, 1)
    assert len(outbox.conflicts()) == 2


@pytest.mark.parametrize("conflict_first", [False, True])
def test_a_connection_drop_in_the_middle_of_a_batch_leaves_that_batch_pending(
    demo: Database, outbox: Outbox, monkeypatch: pytest.MonkeyPatch, conflict_first: bool
) -> None:
    """Batches of three. The connection drops in the second batch after one of its
    operations went through (in the open transaction only): the whole batch stays
    pending, and the next replay applies it exactly once. With a stale operation first
    in that batch, the drop meets the batch being applied again with savepoints."""
    sanne = _sanne(demo)
    (first, v1), (second, v2) = _customers(demo, sanne, 2)
    at = iter(NOW + timedelta(seconds=n) for n in range(10))

    def note(text: str) -> None:
        outbox.enqueue_note(customer_id=first, agent_login="sanne", now=next(at), text=text)

    note("one")
    call = outbox.enqueue_contact_attempt(
        customer_id=first,
        base_version=v1,
        agent_login="sanne",
        now=next(at),
        channel=Channel.PHONE,
        direction=Direction.OUTBOUND,
        outcome=Outcome.NO_ANSWER,
        note="",
        next_step=NextStepInput(NextStepKind.RETRY, NOW + timedelta(days=1)),
    )
    note("two")
    promise = outbox.enqueue_promise(  # second batch
        customer_id=second,
        base_version=v2,
        agent_login="sanne",
        now=next(at),
        amount_cents=2500,
        due_date=TODAY + timedelta(days=3),
    )
    note("three")
    note("drop")
    note("four")  # third batch
    if conflict_first:
        _colleague_changes(demo, second)
    real_add_note = activity.add_note

    def add_note(
        session: Session,
        actor: Actor,
        customer_id: int,
        text: str,
        now: datetime,
        operation_id: str | None = None,
    ) -> int:
        if text == "drop":
            _drop_connection(session)
        return real_add_note(session, actor, customer_id, text, now, operation_id)

    monkeypatch.setattr(activity, "add_note", add_note)
    result = outbox.replay(demo, sanne, _now, batch_size=3)
    assert result.offline and result.error
    # The stale promise is not judged yet either: it was in the lost batch.
    assert (result.applied, result.conflicts, result.failed, result.remaining) == (3, 0, 0, 4)
    statuses = [op.status for op in outbox.all()]
    assert statuses == [OperationStatus.DONE] * 3 + [OperationStatus.PENDING] * 4
    assert _replayed_notes(demo, first) == ["one", "two"]  # "three" went with the batch

    monkeypatch.setattr(activity, "add_note", real_add_note)  # the connection is back
    again = outbox.replay(demo, sanne, _now, batch_size=3)
    assert (again.applied, again.conflicts, again.failed, again.offline) == (
        (3, 1, 0, False) if conflict_first else (4, 0, 0, False)
    )
    assert _replayed_notes(demo, first) == ["one", "two", "three", "drop", "four"]
    with demo.transaction() as session:
        calls = session.scalar(
            select(func.count())
            .select_from(ContactAttempt)
            .where(ContactAttempt.operation_id == call.operation_id)
        )
        promises = session.scalar(
            select(func.count())
            .select_from(PromiseToPay)
            .where(PromiseToPay.operation_id == promise.operation_id)
        )
    assert (calls, promises) == (1, 0 if conflict_first else 1)


# --- pauses and stand-alone next steps; offline saves checked before "saved" ---


def _sanne_and_customer(database: Database) -> tuple[Actor, int, int]:
    with database.transaction() as session:
        sanne = actor_for_login(session, "sanne")
        row = session.execute(
            select(Customer.id, Customer.version)
            .where(Customer.assigned_agent_id == sanne.agent_id, Customer.paused_until.is_(None))
            .order_by(Customer.id)
            .limit(1)
        ).one()
    return sanne, int(row[0]), int(row[1])


def _pause_state(database: Database, actor: Actor, customer_id: int) -> dict[str, object]:
    with database.transaction() as session:
        customer = session.get(Customer, customer_id)
        assert customer is not None
        steps = session.scalar(
            select(func.count())
            .select_from(NextStep)
            .where(NextStep.customer_id == customer_id, NextStep.created_by_id == actor.agent_id)
        )
        pauses = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.customer_id == customer_id, AuditEvent.action == "pause")
        )
        return {
            "until": customer.paused_until,
            "reason": customer.pause_reason,
            "next_step": customer.next_step_kind,
            "steps": steps,
            "pause_events": pauses,
            "version": customer.version,
        }


def test_an_offline_pause_is_applied_once_with_its_review_step(
    demo: Database, outbox: Outbox
) -> None:
    sanne, customer_id, version = _sanne_and_customer(demo)
    before = _pause_state(demo, sanne, customer_id)
    until = TODAY + timedelta(days=30)
    outbox.enqueue_pause(
        customer_id=customer_id,
        base_version=version,
        agent_login=sanne.login,
        now=NOW,
        until=until,
        reason="  waiting for the debt counsellor  ",
    )
    # A call logged after the pause, on the version the desk saw before going offline:
    # the agent's own chain, not a conflict.
    outbox.enqueue_contact_attempt(
        customer_id=customer_id,
        base_version=version,
        agent_login=sanne.login,
        now=NOW + timedelta(minutes=1),
        channel=Channel.PHONE,
        direction=Direction.OUTBOUND,
        outcome=Outcome.REACHED,
        note="told them the pause is set",
        next_step=NextStepInput(NextStepKind.REVIEW, datetime.combine(until, time(9), UTC)),
    )
    result = outbox.replay(demo, sanne, _now)
    assert (result.applied, result.conflicts, result.failed) == (2, 0, 0)
    state = _pause_state(demo, sanne, customer_id)
    assert state["until"] == until
    assert state["reason"] == "waiting for the debt counsellor"
    assert state["steps"] == before["steps"] + 2  # type: ignore[operator]
    assert state["pause_events"] == before["pause_events"] + 1  # type: ignore[operator]
    # Forgetting that it was done and replaying again doubles nothing.
    outbox._connection.execute("UPDATE operation SET status = 'pending'")
    again = outbox.replay(demo, sanne, _now)
    assert (again.applied, again.conflicts, again.failed) == (2, 0, 0)
    assert _pause_state(demo, sanne, customer_id) == state


def test_an_offline_pause_on_a_stale_file_goes_to_review(demo: Database, outbox: Outbox) -> None:
    sanne, customer_id, version = _sanne_and_customer(demo)
    with demo.transaction() as session:  # a colleague pauses for a week meanwhile
        marieke = actor_for_login(session, "marieke")
        set_pause(
            session,
            marieke,
            customer_id,
            until=TODAY + timedelta(days=7),
            reason="colleague: customer asked for a week",
            now=NOW,
        )
    op = outbox.enqueue_pause(
        customer_id=customer_id,
        base_version=version,
        agent_login=sanne.login,
        now=NOW + timedelta(minutes=5),
        until=TODAY + timedelta(days=14),
        reason="hospital stay",
    )
    result = outbox.replay(demo, sanne, _now)
    assert (result.applied, result.conflicts) == (0, 1)
    (kept,) = outbox.conflicts(sanne.login)
    assert kept.operation_id == op.operation_id and kept.status is OperationStatus.CONFLICT
    assert _pause_state(demo, sanne, customer_id)["until"] == TODAY + timedelta(days=7)
    outbox.resolve(op.operation_id, "retry_on_latest")
    assert outbox.replay(demo, sanne, _now).applied == 1
    assert _pause_state(demo, sanne, customer_id)["until"] == TODAY + timedelta(days=14)


def test_an_offline_next_step_on_its_own_replaces_the_open_one(
    demo: Database, outbox: Outbox
) -> None:
    sanne, customer_id, version = _sanne_and_customer(demo)
    due = NOW + timedelta(days=2, hours=1)
    outbox.enqueue_next_step(
        customer_id=customer_id,
        base_version=version,
        agent_login=sanne.login,
        now=NOW,
        step=NextStepInput(NextStepKind.LETTER, due, "send the 14-day letter"),
    )
    assert outbox.replay(demo, sanne, _now).applied == 1
    with demo.transaction() as session:
        open_steps = session.scalars(
            select(NextStep).where(NextStep.customer_id == customer_id, NextStep.done_at.is_(None))
        ).all()
        assert [(s.kind, s.due_at, s.note) for s in open_steps] == [
            ("letter", due, "send the 14-day letter")
        ]
        customer = session.get(Customer, customer_id)
        assert customer is not None and customer.next_step_kind == "letter"


@pytest.mark.parametrize(
    ("kind", "payload", "field"),
    [
        (
            "contact_attempt",
            {"channel": "phone", "direction": "outbound", "outcome": "no_answer", "note": ""},
            "next_step",
        ),
        ("next_step", {"kind": "callback", "due_at": "2026-11-20T09:00:00+00:00"}, "next_step_due"),
        ("note", {"text": "   "}, "note"),
        ("note", {"text": "x" * 4001}, "note"),
        ("promise", {"amount_cents": 0, "due_date": "2026-11-30"}, "amount"),
        ("promise", {"amount_cents": 100, "due_date": "2026-11-01"}, "due_date"),
        ("promise", {"amount_cents": 100, "due_date": "2027-06-01"}, "due_date"),
        ("pause", {"until": "2026-12-20", "reason": " "}, "reason"),
        ("pause", {"until": "2026-11-23", "reason": "ill"}, "until"),
        ("pause", {"until": "2027-11-23", "reason": "ill"}, "until"),
    ],
)
def test_offline_saves_are_checked_like_online_ones_and_nothing_is_kept(
    outbox: Outbox, kind: str, payload: dict[str, object], field: str
) -> None:
    if kind == "contact_attempt":
        payload = {**payload, "next_step": None}
    with pytest.raises(ValidationError) as refused:
        outbox.enqueue(
            kind,
            customer_id=1,
            payload=payload,
            base_version=1,
            agent_login="sanne",
            now=NOW,
        )
    assert refused.value.field == field
    assert outbox.all() == []


def test_ending_a_pause_offline_needs_no_reason(demo: Database, outbox: Outbox) -> None:
    sanne, customer_id, version = _sanne_and_customer(demo)
    before = _pause_state(demo, sanne, customer_id)
    outbox.enqueue_pause(
        customer_id=customer_id,
        base_version=version,
        agent_login=sanne.login,
        now=NOW,
        until=TODAY + timedelta(days=10),
        reason="sick",
    )
    outbox.enqueue_pause(
        customer_id=customer_id,
        base_version=version,
        agent_login=sanne.login,
        now=NOW + timedelta(minutes=2),
        until=None,
        reason="",
    )
    result = outbox.replay(demo, sanne, _now)
    assert (result.applied, result.conflicts, result.failed) == (2, 0, 0)
    state = _pause_state(demo, sanne, customer_id)
    assert state["until"] is None
    assert state["pause_events"] == before["pause_events"] + 2  # type: ignore[operator]
