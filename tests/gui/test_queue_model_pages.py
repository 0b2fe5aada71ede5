"""The desk's queue model reads pages by keyset: after a jump, scrolling up and down
gives exactly the rows of the queue's order, and the estimate becomes the exact count."""

from __future__ import annotations

from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from agent_desk.services.database import Database
from agent_desk.services.queue import queue_ids
from agent_desk.ui.app_window import DeskWindow
from agent_desk.ui.queue_model import COL_CUSTOMER, QueueModel

WAIT = 20_000


def test_jump_then_scroll_both_ways_matches_the_queue_order(
    qtbot: QtBot, window: DeskWindow, database: Database, qtmodeltester: ModelTester
) -> None:
    scope = window.queue_model.scope
    model = QueueModel(
        window.worker, window.words, window.clock, scope, window.actor.agent_id, page_size=4
    )
    with qtbot.waitSignal(model.counted, timeout=WAIT):
        model.reload()
    with database.transaction() as session:
        expected = queue_ids(session, scope, window.clock(), window.actor.agent_id)
    assert model.count_is_exact and model.rowCount() == len(expected) > 20
    # A jump to row 21 (page 5): read by offset; then page 4 (before it) and page 6
    # (after it) by keyset from that page.
    for row, page in ((21, 5), (17, 4), (25, 6)):
        with qtbot.waitSignal(model.page_loaded, timeout=WAIT) as loaded:
            model.index(row, COL_CUSTOMER).data()
        assert loaded.args == [page]
    for row in range(16, 28):
        assert model.customer_id(row) == expected[row]
    assert model.row_of(expected[18]) == 18
    qtmodeltester.check(model)
