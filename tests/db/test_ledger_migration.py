"""Migration 0003 turns existing claims and arrangements into ledger entries without
changing what anyone owes; the models and the migrations describe the same schema."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import URL

from agent_desk.models import Base, Customer, LedgerEntry
from agent_desk.services import ledger
from agent_desk.services.balance import figures
from agent_desk.services.database import Database
from agent_desk.services.migrate import alembic_config, upgrade_to_head

AGREED = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    fresh_pg: Callable[[str], AbstractContextManager[URL]],
) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
        yield engine
        engine.dispose()
        return
    with fresh_pg("agent_desk_migrate") as url:
        engine = create_engine(url)
        yield engine
        engine.dispose()


def _upgrade(engine: Engine, revision: str) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _old_data(engine: Engine) -> None:
    """Data as revision 0002 kept it: principal and paid_cents on the claims, costs and
    interest only on the arrangement."""
    at = AGREED if engine.dialect.name == "postgresql" else AGREED.replace(tzinfo=None)
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO agent (id, login, display_name, role, active, created_at, version) "
                "VALUES (1, 'sanne', 'Sanne', 'agent', true, :at, 1)"
            ),
            {"at": at},
        )
        for cid, number in ((1, "A"), (2, "B"), (3, "C")):
            c.execute(
                text(
                    "INSERT INTO customer (id, customer_number, first_name, last_name, language, "
                    "segment, status, vulnerable, arrears_cents, first_time_arrears, "
                    "broken_arrangement, missed_instalment, queue_bucket, created_at, version) "
                    "VALUES (:id, :n, 'X', 'Y', 'nl', 'consumer', 'open', false, 0, false, false, "
                    "false, 4, :at, 1)"
                ),
                {"id": cid, "n": number, "at": at},
            )
        claims = [
            # id, customer, principal, paid, due, settled
            (1, 1, 30_000, 5_000, date(2026, 8, 1), None),
            (2, 1, 20_000, 0, date(2026, 9, 1), None),
            (3, 2, 40_000, 0, date(2026, 8, 1), None),
            (4, 3, 10_000, 10_000, date(2026, 6, 1), date(2026, 7, 1)),
        ]
        for cid, customer, principal, paid, due, settled in claims:
            c.execute(
                text(
                    "INSERT INTO claim (id, customer_id, reference, description, principal_cents, "
                    "paid_cents, due_date, settled_on, version) "
                    "VALUES (:id, :c, :ref, '', :p, :paid, :due, :settled, 1)"
                ),
                {"id": cid, "c": customer, "ref": f"INV-{cid}", "p": principal, "paid": paid,
                 "due": due, "settled": settled},
            )  # fmt: skip
        arrangements = [
            # id, customer, status, costs, interest, total
            (1, 1, "active", 4_000, 500, 49_500),
            (2, 2, "pending_approval", 5_500, 300, 45_800),
        ]
        for aid, customer, status, costs, interest, total in arrangements:
            c.execute(
                text(
                    "INSERT INTO arrangement (id, customer_id, agent_id, created_at, frequency, "
                    "principal_cents, costs_cents, interest_cents, costs_waived, interest_waived, "
                    "total_cents, status, version) VALUES (:id, :c, 1, :at, 'monthly', :p, :costs, "
                    ":interest, false, false, :total, :status, 1)"
                ),
                {"id": aid, "c": customer, "at": at, "p": total - costs - interest,
                 "costs": costs, "interest": interest, "total": total, "status": status},
            )  # fmt: skip
            c.execute(
                text(
                    "INSERT INTO instalment (arrangement_id, number, due_date, amount_cents, "
                    "paid_cents, status, version) VALUES (:a, 1, :due, :amount, 0, 'open', 1)"
                ),
                {"a": aid, "due": date(2026, 12, 1), "amount": total},
            )


def test_migration_books_what_was_owed_without_changing_it(empty_engine: Engine) -> None:
    _upgrade(empty_engine, "0002")
    _old_data(empty_engine)
    upgrade_to_head(empty_engine)
    database = Database(empty_engine.url)
    try:
        with database.transaction() as session:
            books = ledger.load_books(session, [1, 2, 3])
            # A: 450.00 of principal open and the active arrangement's 45.00: its total.
            assert books[1].outstanding == 49_500
            assert sum(c.costs for c in books[1].claims.values()) == 4_000
            assert sum(c.interest for c in books[1].claims.values()) == 500
            # The costs were spread in proportion to what was open (250 and 200), the
            # cent left over on the oldest claim.
            assert sorted(c.costs for c in books[1].claims.values()) == [1_777, 2_223]
            # The interest the arrangement computed up to the day it was agreed is not
            # counted again, today or later: the claims it covers accrue nothing more.
            later = figures(books[1], date(2027, 3, 1))
            assert later.total("outstanding_interest") == 500
            assert later.outstanding == 49_500
            # B: a pending arrangement made no costs owed: principal only.
            assert books[2].outstanding == 40_000
            # C: paid, nothing owed; the payment is on the books.
            assert books[3].outstanding == 0
            assert books[3].claims[4].paid == 10_000
            arrears = dict(session.execute(select(Customer.id, Customer.arrears_cents)).all())
            assert arrears == {1: 49_500, 2: 40_000, 3: 0}
            entries = session.scalar(select(func.count()).select_from(LedgerEntry))
            assert entries == 4 + 1 + 1 + 2 * 2  # principals, payments, costs and interest
    finally:
        database.dispose()


def test_models_and_migrations_agree(empty_engine: Engine) -> None:
    upgrade_to_head(empty_engine)
    with empty_engine.connect() as connection:
        dialect = connection.dialect.name

        def on_this_engine(obj: object, *_args: object) -> bool:
            # An index made for one engine only (``Index.ddl_if(dialect=...)``).
            only = getattr(obj, "_ddl_if", None)
            return only is None or only.dialect in (None, dialect)

        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": on_this_engine}
        )
        assert compare_metadata(context, Base.metadata) == []
