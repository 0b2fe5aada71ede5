"""Preparing the database at start-up: the schema brought up to date, and the demo
filled only where the caller gives a fill and the database holds no customer yet."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agent_desk.demo import load_demo
from agent_desk.models import Customer
from agent_desk.services.database import Database
from agent_desk.services.startup import prepare_database


def test_without_a_fill_a_new_database_is_brought_up_and_reported_empty(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'real.sqlite3'}")
    state = prepare_database(database)
    assert database.is_current()
    assert state.empty and state.customers == 0 and not state.loaded_demo


def test_the_fill_runs_once_on_an_empty_database_and_never_over_customers(
    tmp_path: Path,
) -> None:
    database = Database(f"sqlite:///{tmp_path / 'demo.sqlite3'}")
    calls: list[int] = []

    def fill(session: Session) -> None:
        calls.append(1)
        load_demo(session, customers=40)

    first = prepare_database(database, fill=fill)
    assert calls == [1] and first.loaded_demo
    assert first.customers == 40 and not first.empty
    second = prepare_database(database, fill=fill)
    assert calls == [1], "a database with customers is never filled again"
    assert not second.loaded_demo and second.customers == 40


def test_a_fill_that_fails_leaves_no_half_written_demo(database: Database) -> None:
    def fill(session: Session) -> None:
        load_demo(session, customers=30)
        raise RuntimeError("the disk is full")

    with pytest.raises(RuntimeError, match="disk is full"):
        prepare_database(database, fill=fill)
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 0
