"""The queue column: two-line rows that read at a glance, no sideways scrolling,
sorting by header click (in SQL), search, and a calm empty state."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from agent_desk.models import Agent
from agent_desk.services.database import Database
from agent_desk.services.queue import QueueScope, QueueSort
from agent_desk.ui.app_window import DeskWindow
from agent_desk.ui.queue_delegate import painted_text, row_height
from agent_desk.ui.queue_model import (
    COL_ARREARS,
    COL_BEST,
    COL_CUSTOMER,
    COL_NEXT,
    COL_WHY,
    DETAIL_ROLE,
    MARK_ROLE,
    QueueModel,
)
from agent_desk.ui.queue_panel import MIN_CUSTOMER_WIDTH, QueuePanel

WAIT = 20_000


def idle(qtbot: QtBot, window: DeskWindow) -> None:
    qtbot.waitUntil(lambda: window.worker.pending == 0, timeout=WAIT)


def click_header(qtbot: QtBot, panel: QueuePanel, column: int) -> None:
    header = panel.view.horizontalHeader()
    x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    with qtbot.waitSignal(panel.model.loaded, timeout=WAIT):
        qtbot.mouseClick(
            header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2)
        )


def test_each_row_says_who_how_much_and_why(window: DeskWindow) -> None:
    model = window.queue_model
    for row in range(min(model.rowCount(), 40)):
        data = model.queue_row(row)
        assert data is not None
        top, bottom = painted_text(model.index(row, COL_CUSTOMER))
        assert top == f"{data.name} · {data.customer_number}"
        first = data.reasons[0].text(window.tr_)
        # The first reason in words; "N days past due" only when there is nothing else
        # (the arrears column shows the days anyway).
        if "days past due" in first:
            assert first in bottom
        else:
            assert bottom.split(" ", 1)[1].startswith(first)
            assert model.index(row, COL_CUSTOMER).data(MARK_ROLE)  # an icon beside it
        amount, days = painted_text(model.index(row, COL_ARREARS))
        assert amount == window.words.money(data.arrears_cents) and "€" in amount
        assert days.endswith("days")
        tooltip = model.index(row, COL_ARREARS).data(Qt.ItemDataRole.ToolTipRole)
        assert data.name in tooltip and "Why now:" in tooltip and amount in tooltip
    callback = next(
        row
        for row in range(model.rowCount())
        if "callback" in str(model.index(row, COL_CUSTOMER).data(DETAIL_ROLE))
    )
    assert model.index(callback, COL_CUSTOMER).data(MARK_ROLE) == "☎"
    assert painted_text(model.index(callback, COL_NEXT))[0] == "call back"


def test_rows_have_one_fixed_height_and_no_sideways_scrolling(
    qtbot: QtBot, window: DeskWindow
) -> None:
    window.resize(1440, 900)
    window.show()
    qtbot.waitUntil(lambda: window.width() == 1440, timeout=WAIT)
    panel = window.queue_panel
    view = panel.view
    QApplication.processEvents()
    rows = view.verticalHeader()
    assert rows.sectionResizeMode(0) == rows.ResizeMode.Fixed
    assert rows.defaultSectionSize() == row_height(view.font())
    assert {view.rowHeight(r) for r in range(10)} == {row_height(view.font())}
    assert view.isColumnHidden(COL_WHY)  # the customer column says why, on line two
    window.splitter.setSizes([700, 500, 240])  # a wide queue shows every column
    QApplication.processEvents()
    shown = [c for c in range(panel.model.columnCount()) if not view.isColumnHidden(c)]
    assert shown == [COL_CUSTOMER, COL_ARREARS, COL_NEXT, COL_BEST]
    assert sum(view.columnWidth(c) for c in shown) <= view.viewport().width()
    assert not view.horizontalScrollBar().isVisible()
    assert view.columnWidth(COL_CUSTOMER) >= MIN_CUSTOMER_WIDTH
    # Even with the queue column dragged as narrow as it goes.
    window.splitter.setSizes([1, 2000, 200])
    QApplication.processEvents()
    # Best time, then next step give way (the tooltip and screen-reader text keep them).
    shown = [c for c in range(panel.model.columnCount()) if not view.isColumnHidden(c)]
    assert shown == [COL_CUSTOMER, COL_ARREARS]
    assert sum(view.columnWidth(c) for c in shown) <= view.viewport().width()
    assert not view.horizontalScrollBar().isVisible()
    assert view.columnWidth(COL_CUSTOMER) >= MIN_CUSTOMER_WIDTH


def test_the_header_sorts_in_the_query_and_comes_back_to_priority(
    qtbot: QtBot, window: DeskWindow, qtmodeltester: ModelTester
) -> None:
    panel, model = window.queue_panel, window.queue_model
    priority = model.ids()
    assert len(priority) > 20
    assert not panel.priority_link.isVisibleTo(panel)
    click_header(qtbot, panel, COL_ARREARS)  # biggest first on the first click
    idle(qtbot, window)
    assert model.scope.sort is QueueSort.ARREARS and model.scope.descending
    amounts = [r.arrears_cents for r in (model.queue_row(i) for i in range(50)) if r]
    assert len(amounts) == len(priority) and amounts == sorted(amounts, reverse=True)
    assert panel.priority_link.isVisibleTo(panel)
    qtmodeltester.check(model)
    click_header(qtbot, panel, COL_ARREARS)
    idle(qtbot, window)
    amounts = [r.arrears_cents for r in (model.queue_row(i) for i in range(50)) if r]
    assert amounts == sorted(amounts)
    click_header(qtbot, panel, COL_ARREARS)  # third click: the queue's own order
    assert model.scope.sort is QueueSort.PRIORITY and model.ids() == priority
    assert not panel.priority_link.isVisibleTo(panel)
    click_header(qtbot, panel, COL_CUSTOMER)
    assert model.scope.sort is QueueSort.NAME and not model.scope.descending
    assert model.ids() != priority and sorted(model.ids()) == sorted(priority)
    with qtbot.waitSignal(model.loaded, timeout=WAIT):
        panel.priority_link.linkActivated.emit("priority")
    assert model.ids() == priority


def test_search_filters_in_the_query_and_says_when_no_one_matches(
    qtbot: QtBot, window: DeskWindow
) -> None:
    panel, model = window.queue_panel, window.queue_model
    total = model.rowCount()
    # A name typed with plain keys (the offscreen platform types no "Ø").
    names = [row.name.split()[-1] for row in map(model.queue_row, range(total)) if row]
    last_name = next(name for name in names if name.isascii())
    with qtbot.waitSignal(model.loaded, timeout=WAIT):
        qtbot.keyClicks(panel.search, last_name)
    idle(qtbot, window)
    assert 0 < model.rowCount() < total
    assert panel.title.text().endswith(f"({model.rowCount()})")
    for row in range(model.rowCount()):
        found = model.queue_row(row)
        assert found is not None and last_name.lower() in found.name.lower()
    with qtbot.waitSignal(model.loaded, timeout=WAIT):
        panel.search.setText("Zzyzx-nobody")
    assert model.rowCount() == 0
    assert panel.showing_empty_state
    assert panel.empty.text() == "No one in the queue matches “Zzyzx-nobody”."
    with qtbot.waitSignal(model.loaded, timeout=WAIT):
        panel.search.clear()
    assert model.rowCount() == total and not panel.showing_empty_state


@pytest.fixture
def empty_panel(qtbot: QtBot, window: DeskWindow, database: Database) -> Iterator[QueuePanel]:
    with database.transaction() as session:
        supervisor = session.scalar(select(Agent.id).where(Agent.login == "marieke"))
    assert supervisor is not None  # the demo supervisor has no customers of her own
    model = QueueModel(
        window.worker, window.words, window.clock, QueueScope(agent_id=supervisor), supervisor
    )
    panel = QueuePanel(model, window.tr_, window.tr_("My queue"))
    qtbot.addWidget(panel)
    with qtbot.waitSignal(model.loaded, timeout=WAIT):
        model.reload()
    yield panel


def test_an_empty_queue_says_so_calmly(empty_panel: QueuePanel) -> None:
    assert empty_panel.model.rowCount() == 0
    assert empty_panel.showing_empty_state
    assert empty_panel.empty.text() == "Your queue is empty — well done."
    assert empty_panel.title.text() == "My queue (0)"
