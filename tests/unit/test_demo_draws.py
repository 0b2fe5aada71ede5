"""The demo generator draws its random numbers faster but exactly as before (issue 17):
the same calls on the random generator, so the same seed gives the same demo."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, date, datetime, time

from agent_desk.demo.generator import Batch, Generator, _weighted
from agent_desk.demo.loader import GIVEN_IDS

TODAY = date(2026, 3, 2)


def test_below_is_what_randrange_and_choice_draw() -> None:
    public, fast = random.Random(5), random.Random(5)
    below = fast._randbelow  # type: ignore[attr-defined]
    seq = "ABCDEFGHJKLMNPRTVWXZ"
    for start, stop in [(0, 3), (1, 250), (10_000_000, 99_999_999), (20, 150), (95, 600)]:
        for _ in range(200):
            assert public.randrange(start, stop) == start + below(stop - start)
            assert public.choice(seq) == seq[below(len(seq))]
    assert public.random() == fast.random()


def test_weighted_is_choices_with_the_same_draw() -> None:
    population, weights = ["a", "b", "c", "d"], [0.45, 0.2, 0.3, 0.05]
    pick = _weighted(population, weights)
    public, fast = random.Random(9), random.Random(9)
    for _ in range(1000):
        assert public.choices(population, weights)[0] == pick(fast.random)
    assert public.random() == fast.random()


def test_the_generated_rows_are_the_demo_as_it_was() -> None:
    """A digest of 400 customers' rows, taken from the generator before it was made
    faster: any change to the demo's content (or to the draws) shows here."""
    now = datetime.combine(TODAY, time(8, 30), tzinfo=UTC)
    generator = Generator(random.Random(7), TODAY, now, [1, 2, 3], 4)
    generator.ids = {model: 1 for model in GIVEN_IDS}
    batch = Batch()
    for index in range(400):
        generator.customer(batch, index + 1, index)
    digest = hashlib.sha256()
    for model in sorted(batch.rows, key=lambda m: m.__tablename__):
        for row in batch.rows[model]:
            digest.update(repr((model.__tablename__, sorted(row.items()))).encode())
    assert digest.hexdigest() == (
        "393a56a6b730ddd67a5a6e6cbe190fa14a7175d5e97520ea2b8d1919dc22159b"
    )


def test_the_sqlite_text_of_a_time_is_what_the_column_type_writes() -> None:
    from datetime import timedelta, timezone

    from sqlalchemy.dialects import sqlite

    from agent_desk.demo.loader import _utc_text
    from agent_desk.models.base import UTCDateTime

    dialect = sqlite.dialect()
    process = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    assert process is not None
    to_text = _utc_text(process)
    for value in [
        datetime(2026, 3, 2, 8, 30, tzinfo=UTC),
        datetime(2026, 3, 2, 8, 30, 1, 5, tzinfo=UTC),
        datetime(1999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
        datetime(2026, 3, 2, 9, 30, tzinfo=timezone(timedelta(hours=1))),
    ]:
        assert to_text(value) == process(value)
