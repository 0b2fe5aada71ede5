"""The work queue as a lazy table model (Anki's browser table pattern).

The model holds a row count and the pages the view asked for; each page is fetched
on the database worker by keyset (``services.queue_pages``): after the last row of
the page above, or before the first row of the page below, so scrolling costs one
index seek per page whatever the size of the queue. Only a jump far from every page
held (the scroll bar dragged) walks the index by offset once. The count starts as an
estimate (shown with the first page) and is replaced by the exact count, read
after it, when the queue is small enough to count (``COUNT_CAP``); a far bigger one
keeps its estimate until the pages reach its end. Pages far from the screen are
dropped, so memory follows the screen too. A row's cells are formatted once, when
it first shows (``cell``, ``CELL_ROLE``): a repaint only looks them up.
Sorting and filtering change the query (``QueueScope``): there is no proxy over all
rows.

Besides the plain ``DisplayRole`` text, every cell offers the parts of a two-line row
(``PRIMARY_ROLE`` … ``TONE_ROLE``) that ``queue_delegate.QueueDelegate`` paints: the
customer's name and number on top with the reason in words below, the arrears with
days past due below, the next step with its time below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from agent_desk.domain.queue import Reason, days_past_due
from agent_desk.domain.queue_view import QueueRow, QueueScope, QueueSort
from agent_desk.i18n import N_
from agent_desk.ui.labels import NEXT_STEPS, TIMES_OF_DAY, Words
from agent_desk.ui.worker import DatabaseWorker

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from agent_desk.services.queue_pages import QueuePage

Index = QModelIndex | QPersistentModelIndex

COLUMNS = (N_("Customer"), N_("Why now"), N_("Arrears"), N_("Next step"), N_("Best time"))
COL_CUSTOMER, COL_WHY, COL_ARREARS, COL_NEXT, COL_BEST = range(5)
# Clicking a header sorts by this key; "why now" is the queue's own priority order.
SORT_BY_COLUMN = {
    COL_CUSTOMER: QueueSort.NAME,
    COL_WHY: QueueSort.PRIORITY,
    COL_ARREARS: QueueSort.ARREARS,
    COL_NEXT: QueueSort.NEXT_STEP,
    COL_BEST: QueueSort.PRIORITY,
}
PAGE_SIZE = 200
KEPT_PAGES = 30  # pages held at most; the farthest from the one asked for go first
# Counted exactly up to this many rows; above it the estimate stays (marked ≈) until
# the pages reach the end, so a million-row count never holds up the one worker.
COUNT_CAP = 50_000
# An estimate this far above the cap is not counted at all: the capped count could
# only say "more than COUNT_CAP", and reading COUNT_CAP rows right after the first
# page would compete with painting it (the cost that grew with the portfolio).
REFINE_BELOW = 4 * COUNT_CAP

# The parts of a two-line row, for the delegate (plain strings; None when absent).
PRIMARY_ROLE = Qt.ItemDataRole.UserRole + 1  # top line: name, amount, step
SECONDARY_ROLE = Qt.ItemDataRole.UserRole + 2  # top line, muted: the customer number
DETAIL_ROLE = Qt.ItemDataRole.UserRole + 3  # second line, muted: why now, days, when
MARK_ROLE = Qt.ItemDataRole.UserRole + 4  # an icon before the second line
TONE_ROLE = Qt.ItemDataRole.UserRole + 5  # the mark's meaning: "accent", "warn", "muted"
CARE_ROLE = Qt.ItemDataRole.UserRole + 6  # vulnerable customer: a discreet marker
# All of the above at once, as one ``Cell``: what the delegate paints, in one call.
CELL_ROLE = Qt.ItemDataRole.UserRole + 7

_DAYS_PAST_DUE = "{days} days past due"
# Why-now messages (see domain.queue.reasons) -> (icon, tone). Never colour alone:
# the icon always sits beside the words.
REASON_MARKS: dict[str, tuple[str, str]] = {
    "callback {time}": ("☎", "accent"),
    "check promise to pay": ("✓", "accent"),
    "remind of next instalment": ("◷", "accent"),
    "remind: instalment {number} due {day}": ("◷", "accent"),
    "called in": ("↩", "accent"),
    "broken arrangement": ("⚠", "warn"),
    "missed instalment": ("⚠", "warn"),
    "first time in arrears": ("⚑", "accent"),
    "contact details out of date": ("✎", "warn"),
    _DAYS_PAST_DUE: ("◷", "muted"),
}


@dataclass(frozen=True, slots=True)
class Cell:
    """One cell as painted: its parts formatted once, when its row first shows.

    A plain class (not a tuple), so Qt hands the very object to the delegate."""

    display: str
    primary: str | None = None
    secondary: str | None = None
    detail: str | None = None
    mark: str | None = None
    tone: str | None = None
    care: str | None = None
    right: bool = False
    loading: bool = False


LOADING = Cell("…", "…", loading=True)  # the customer column of a row not fetched yet
PENDING = Cell("", loading=True)  # its other columns

_ALIGNMENTS = tuple(
    (Qt.AlignmentFlag.AlignRight if column == COL_ARREARS else Qt.AlignmentFlag.AlignLeft)
    | Qt.AlignmentFlag.AlignVCenter
    for column in range(len(COLUMNS))
)
# role -> the Cell attribute that answers it
_CELL_PARTS = {
    int(Qt.ItemDataRole.DisplayRole): "display",
    int(PRIMARY_ROLE): "primary",
    int(SECONDARY_ROLE): "secondary",
    int(DETAIL_ROLE): "detail",
    int(MARK_ROLE): "mark",
    int(TONE_ROLE): "tone",
    int(CARE_ROLE): "care",
}
_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
_ALIGNMENT_ROLE = int(Qt.ItemDataRole.TextAlignmentRole)
_CELL_ROLE = int(CELL_ROLE)

_TEXT_ROLES = frozenset(
    {
        Qt.ItemDataRole.DisplayRole,
        Qt.ItemDataRole.ToolTipRole,
        Qt.ItemDataRole.AccessibleTextRole,
        Qt.ItemDataRole.AccessibleDescriptionRole,
        PRIMARY_ROLE,
        SECONDARY_ROLE,
        DETAIL_ROLE,
        MARK_ROLE,
        TONE_ROLE,
        CARE_ROLE,
    }
)


class QueueModel(QAbstractTableModel):
    loaded = Signal()  # the first page (and a first count) was (re)loaded
    page_loaded = Signal(int)
    counted = Signal(int)  # the exact count replaced the estimate

    def __init__(
        self,
        worker: DatabaseWorker,
        words: Words,
        clock: Callable[[], datetime],
        scope: QueueScope,
        actor_id: int | None,
        page_size: int = PAGE_SIZE,
    ) -> None:
        super().__init__()
        self._worker = worker
        self._words = words
        self._clock = clock
        self.scope = scope
        self._actor_id = actor_id
        self._page_size = page_size
        self._count = 0
        self._pages: dict[int, QueuePage] = {}
        # The painted cells of the rows shown so far, per page (dropped with the page).
        self._cells: dict[int, list[tuple[Cell, ...] | None]] = {}
        self._requested: set[int] = set()
        self._generation = 0
        self.loading = False
        self.count_is_exact = True

    # -- loading -----------------------------------------------------------------

    def reload(self, scope: QueueScope | None = None) -> None:
        """Fetch the first page (and a count) again, e.g. after a change or a new sort."""
        if scope is not None:
            self.scope = scope
        self._generation += 1
        generation, scope_now, now = self._generation, self.scope, self._clock()
        actor_id, size = self._actor_id, self._page_size

        def task(session: Session) -> tuple[QueuePage, int | None]:
            from agent_desk.services.queue_pages import queue_estimate, queue_page

            page = queue_page(session, scope_now, now, actor_id, limit=size)
            if page.next_cursor is None:
                return page, None  # all of it: the count is exact
            return page, queue_estimate(session, scope_now, now, actor_id)

        self.loading = True
        self._worker.submit(
            task,
            lambda result: self._first_loaded(generation, *result),
            busy=self._words.tr("Loading the queue…"),
        )

    def _first_loaded(self, generation: int, page: QueuePage, estimate: int | None) -> None:
        if generation != self._generation:
            return
        self.beginResetModel()
        self._pages = {0: page} if page.rows else {}
        self._cells = {}
        self._requested = {0} if page.rows else set()
        if estimate is None:
            self._count, self.count_is_exact = len(page.rows), True
        else:
            self._count, self.count_is_exact = max(estimate, len(page.rows) + 1), False
        self.endResetModel()
        self.loading = False
        self.loaded.emit()
        if estimate is not None and estimate <= REFINE_BELOW:
            self._refine_count(generation)

    def _refine_count(self, generation: int) -> None:
        from agent_desk.services.queue_pages import queue_count

        scope_now, now, actor_id = self.scope, self._clock(), self._actor_id
        self._worker.submit(
            lambda session: queue_count(session, scope_now, now, actor_id, cap=COUNT_CAP),
            lambda count: self._counted(generation, count),
        )

    def _counted(self, generation: int, count: int) -> None:
        if generation != self._generation:
            return
        if count > COUNT_CAP:  # more than we count: keep the estimate (at least this)
            self._set_count(max(self._count, count))
        else:
            self.count_is_exact = True
            self._set_count(count)
        self.counted.emit(count)

    def _set_count(self, count: int) -> None:
        if count > self._count:
            self.beginInsertRows(QModelIndex(), self._count, count - 1)
            self._count = count
            self.endInsertRows()
        elif count < self._count:
            self.beginRemoveRows(QModelIndex(), count, self._count - 1)
            self._count = count
            for page in [p for p in self._pages if p * self._page_size >= count]:
                del self._pages[page]
                self._cells.pop(page, None)
                self._requested.discard(page)
            self.endRemoveRows()

    def _request_page(self, page: int) -> None:
        if page in self._requested:
            return
        self._requested.add(page)
        generation, scope, now, actor_id = (
            self._generation,
            self.scope,
            self._clock(),
            self._actor_id,
        )
        size = self._page_size
        above, below = self._pages.get(page - 1), self._pages.get(page + 1)
        if above is not None and above.next_cursor is not None:
            cursor = above.next_cursor

            def task(session: Session) -> QueuePage:
                from agent_desk.services.queue_pages import queue_page

                return queue_page(session, scope, now, actor_id, after=cursor, limit=size)
        elif below is not None and below.previous_cursor is not None:
            cursor = below.previous_cursor

            def task(session: Session) -> QueuePage:
                from agent_desk.services.queue_pages import queue_page

                return queue_page(session, scope, now, actor_id, before=cursor, limit=size)
        else:  # a jump: walk the index to it once; its neighbours seek from it

            def task(session: Session) -> QueuePage:
                from agent_desk.services.queue_pages import queue_page

                return queue_page(session, scope, now, actor_id, offset=page * size, limit=size)

        self._worker.submit(task, lambda result: self._page_loaded(generation, page, result))

    def _page_loaded(self, generation: int, page: int, result: QueuePage) -> None:
        if generation != self._generation:
            return
        self._pages[page] = result
        self._cells.pop(page, None)
        self._forget_far_pages(page)
        first = page * self._page_size
        if result.next_cursor is None:
            self._set_count(first + len(result.rows))  # the end: now the count is exact
            self.count_is_exact = True
        elif first + self._page_size >= self._count:
            self._set_count(first + self._page_size + 1)  # more than estimated
        last = min(self._count, first + self._page_size) - 1
        if last >= first:
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(COLUMNS) - 1))
        self.page_loaded.emit(page)

    def _forget_far_pages(self, near: int) -> None:
        if len(self._pages) <= KEPT_PAGES:
            return
        for page in sorted(self._pages, key=lambda p: abs(p - near), reverse=True):
            if len(self._pages) <= KEPT_PAGES:
                break
            del self._pages[page]
            self._cells.pop(page, None)
            self._requested.discard(page)

    # -- lookups -----------------------------------------------------------------

    def customer_id(self, row: int) -> int | None:
        found = self.queue_row(row)
        return found.customer_id if found is not None else None

    def row_of(self, customer_id: int) -> int | None:
        for page, held in self._pages.items():
            for offset, row in enumerate(held.rows):
                if row.customer_id == customer_id:
                    return page * self._page_size + offset
        return None

    def queue_row(self, row: int) -> QueueRow | None:
        if not 0 <= row < self._count:
            return None
        held = self._pages.get(row // self._page_size)
        if held is None:
            return None
        offset = row % self._page_size
        return held.rows[offset] if offset < len(held.rows) else None

    def ids(self) -> list[int]:
        """The ids of the rows held now, in order (not the whole queue)."""
        return [row.customer_id for page in sorted(self._pages) for row in self._pages[page].rows]

    # -- Qt model ----------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._words.tr(COLUMNS[section])
        if role == Qt.ItemDataRole.TextAlignmentRole and section == COL_ARREARS:
            return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        if role == Qt.ItemDataRole.InitialSortOrderRole:
            # The biggest arrears first; everything else A→Z / soonest first.
            descending = section == COL_ARREARS
            return Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._words.tr(
                "Click to sort; click again to reverse, a third time for priority order."
            )
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        return _FLAGS if index.isValid() else Qt.ItemFlag.NoItemFlags

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        number = index.row()
        if not 0 <= number < self._count or not index.isValid():
            return None
        column = index.column()
        if role == _CELL_ROLE:
            return self.cell(number, column)
        part = _CELL_PARTS.get(role)
        if part is not None:
            cell = self.cell(number, column)
            if cell.loading:
                wanted = part in ("display", "primary") and column == COL_CUSTOMER
                return "…" if wanted else None
            return getattr(cell, part)
        if role == _ALIGNMENT_ROLE:
            return _ALIGNMENTS[column] if 0 <= column < len(_ALIGNMENTS) else None
        if role not in _TEXT_ROLES:
            return None
        row = self.queue_row(number)
        if row is None:
            self._request_page(number // self._page_size)
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.summary(row)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            # The row is painted, so a screen reader gets it in words: the customer
            # column says the whole row, the others their own cell.
            if column == COL_CUSTOMER:
                return self.summary(row).replace("\n", ". ")
            return self._cell(row, column)
        if role == Qt.ItemDataRole.AccessibleDescriptionRole:
            return " · ".join(reason.text(self._words.tr) for reason in row.reasons) or None
        return None

    def cell(self, number: int, column: int) -> Cell:
        """The painted parts of one cell, formatted the first time its row shows."""
        page, offset = divmod(number, self._page_size)
        cells = self._cells.get(page)
        if cells is not None and offset < len(cells):
            found = cells[offset]
            if found is not None:
                return found[column]
        held = self._pages.get(page)
        if held is None or offset >= len(held.rows):
            if held is None:
                self._request_page(page)
            return LOADING if column == COL_CUSTOMER else PENDING
        if cells is None:
            cells = self._cells[page] = [None] * len(held.rows)
        made = self._make_cells(held.rows[offset])
        cells[offset] = made
        return made[column]

    def _make_cells(self, row: QueueRow) -> tuple[Cell, ...]:
        made = []
        for column in range(len(COLUMNS)):
            made.append(
                Cell(
                    self._cell(row, column),
                    primary=self._part(row, column, PRIMARY_ROLE),
                    secondary=self._part(row, column, SECONDARY_ROLE),
                    detail=self._part(row, column, DETAIL_ROLE),
                    mark=self._part(row, column, MARK_ROLE),
                    tone=self._part(row, column, TONE_ROLE),
                    care=self._part(row, column, CARE_ROLE),
                    right=column == COL_ARREARS,
                )
            )
        return tuple(made)

    def _part(self, row: QueueRow, column: int, role: int) -> str | None:
        """One part of the two-line row the delegate paints."""
        words = self._words
        if column == COL_CUSTOMER:
            reasons = self._why(row)
            if role == PRIMARY_ROLE:
                return row.name
            if role == SECONDARY_ROLE:
                return row.customer_number
            if role == DETAIL_ROLE:
                return " · ".join(reason.text(words.tr) for reason in reasons) or None
            if role == CARE_ROLE:
                return words.tr("vulnerable: take care") if row.vulnerable else None
            if reasons and role in (MARK_ROLE, TONE_ROLE):
                mark, tone = REASON_MARKS.get(reasons[0].message, ("", "muted"))
                return mark if role == MARK_ROLE else tone
            return None
        if column == COL_ARREARS:
            if role == PRIMARY_ROLE:
                return words.money(row.arrears_cents)
            if role == DETAIL_ROLE:
                days = self.days_overdue(row)
                return words.tr.n("{days} day", "{days} days", days, days=days) if days else None
            return None
        if column == COL_NEXT:
            if role == PRIMARY_ROLE:
                return words.code(NEXT_STEPS, row.next_step_kind) or None
            if role == DETAIL_ROLE and row.next_step_due_at is not None:
                return words.moment(row.next_step_due_at)
            return None
        if column in (COL_WHY, COL_BEST) and role == PRIMARY_ROLE:
            return self._cell(row, column) or None
        return None

    @staticmethod
    def _why(row: QueueRow) -> tuple[Reason, ...]:
        """The reasons in words; days past due only when there is nothing else to say
        (the arrears column shows the days anyway)."""
        other = tuple(reason for reason in row.reasons if reason.message != _DAYS_PAST_DUE)
        return other or row.reasons

    def days_overdue(self, row: QueueRow) -> int:
        if row.oldest_due_date is None:
            return 0
        return days_past_due(row.oldest_due_date, self._clock().date())

    def summary(self, row: QueueRow) -> str:
        """Everything about one row in words (the tooltip of every cell)."""
        words = self._words
        lines = [f"{row.name} · {row.customer_number}"]
        if row.reasons:
            why = ", ".join(reason.text(words.tr) for reason in row.reasons)
            lines.append(words.tr("Why now: {reasons}", reasons=why))
        lines.append(words.tr("Arrears: {amount}", amount=words.money(row.arrears_cents)))
        step = self._cell(row, COL_NEXT)
        if step:
            lines.append(words.tr("Next step: {step}", step=step))
        if row.best_time:
            best = words.code(TIMES_OF_DAY, row.best_time)
            lines.append(words.tr("Best time to reach: {time}", time=best))
        if row.vulnerable:
            lines.append(words.tr("vulnerable: take care"))
        return "\n".join(lines)

    def _cell(self, row: QueueRow, column: int) -> str:
        words = self._words
        if column == COL_CUSTOMER:
            return f"{row.name} · {row.customer_number}"
        if column == COL_WHY:
            return ", ".join(reason.text(words.tr) for reason in row.reasons)
        if column == COL_ARREARS:
            return words.money(row.arrears_cents)
        if column == COL_NEXT:
            if not row.next_step_kind:
                return ""
            label = words.code(NEXT_STEPS, row.next_step_kind)
            if row.next_step_due_at is None:
                return label
            return f"{label} · {words.moment(row.next_step_due_at)}"
        if column == COL_BEST:
            return words.code(TIMES_OF_DAY, row.best_time)
        return ""

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        key = SORT_BY_COLUMN.get(column, QueueSort.PRIORITY)
        descending = order == Qt.SortOrder.DescendingOrder
        if key is self.scope.sort and descending == self.scope.descending:
            return
        self.reload(replace(self.scope, sort=key, descending=descending))

    def search(self, text: str) -> None:
        if text.strip() != self.scope.search:
            self.reload(replace(self.scope, search=text.strip()))
