"""The work queue as a lazy table model (Anki's browser table pattern).

The model holds only the ordered customer ids; rows are fetched a page at a time on
the database worker when the view first asks for them. Sorting and filtering change
the query (``QueueScope``) and reload the ids: there is no proxy over all rows, so a
100,000-customer view costs one id list plus the page on screen.

Besides the plain ``DisplayRole`` text, every cell offers the parts of a two-line row
(``PRIMARY_ROLE`` … ``TONE_ROLE``) that ``queue_delegate.QueueDelegate`` paints: the
customer's name and number on top with the reason in words below, the arrears with
days past due below, the next step with its time below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from sqlalchemy.orm import Session

from agent_desk.domain.queue import Reason, days_past_due
from agent_desk.i18n import N_
from agent_desk.services.queue import QueueRow, QueueScope, QueueSort, queue_ids, queue_rows
from agent_desk.ui.labels import NEXT_STEPS, TIMES_OF_DAY, Words
from agent_desk.ui.worker import DatabaseWorker

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

# The parts of a two-line row, for the delegate (plain strings; None when absent).
PRIMARY_ROLE = Qt.ItemDataRole.UserRole + 1  # top line: name, amount, step
SECONDARY_ROLE = Qt.ItemDataRole.UserRole + 2  # top line, muted: the customer number
DETAIL_ROLE = Qt.ItemDataRole.UserRole + 3  # second line, muted: why now, days, when
MARK_ROLE = Qt.ItemDataRole.UserRole + 4  # an icon before the second line
TONE_ROLE = Qt.ItemDataRole.UserRole + 5  # the mark's meaning: "accent", "warn", "muted"
CARE_ROLE = Qt.ItemDataRole.UserRole + 6  # vulnerable customer: a discreet marker

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
    loaded = Signal()  # the id list was (re)loaded
    page_loaded = Signal(int)

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
        self._ids: list[int] = []
        self._rows: dict[int, QueueRow] = {}
        self._requested: set[int] = set()
        self._generation = 0
        self.loading = False

    # -- loading -----------------------------------------------------------------

    def reload(self, scope: QueueScope | None = None) -> None:
        """Fetch the ids (and the first page) again, e.g. after a change or a new sort."""
        if scope is not None:
            self.scope = scope
        self._generation += 1
        generation, scope_now, now = self._generation, self.scope, self._clock()
        actor_id, size = self._actor_id, self._page_size

        def task(session: Session) -> tuple[list[int], list[QueueRow]]:
            ids = queue_ids(session, scope_now, now, actor_id)
            return ids, queue_rows(session, ids[:size], now)

        self.loading = True
        self._worker.submit(
            task,
            lambda result: self._ids_loaded(generation, *result),
            busy=self._words.tr("Loading the queue…"),
        )

    def _ids_loaded(self, generation: int, ids: list[int], first: list[QueueRow]) -> None:
        if generation != self._generation:
            return
        self.beginResetModel()
        self._ids = ids
        self._rows = {row.customer_id: row for row in first}
        self._requested = {0} if first else set()
        self.endResetModel()
        self.loading = False
        self.loaded.emit()

    def _request_page(self, page: int) -> None:
        if page in self._requested:
            return
        self._requested.add(page)
        generation, now = self._generation, self._clock()
        ids = self._ids[page * self._page_size : (page + 1) * self._page_size]
        self._worker.submit(
            lambda session: queue_rows(session, ids, now),
            lambda rows: self._page_loaded(generation, page, rows),
        )

    def _page_loaded(self, generation: int, page: int, rows: list[QueueRow]) -> None:
        if generation != self._generation:
            return
        self._rows.update({row.customer_id: row for row in rows})
        first = page * self._page_size
        last = min(len(self._ids), first + self._page_size) - 1
        if last >= first:
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(COLUMNS) - 1))
        self.page_loaded.emit(page)

    # -- lookups -----------------------------------------------------------------

    def customer_id(self, row: int) -> int | None:
        return self._ids[row] if 0 <= row < len(self._ids) else None

    def row_of(self, customer_id: int) -> int | None:
        try:
            return self._ids.index(customer_id)
        except ValueError:
            return None

    def queue_row(self, row: int) -> QueueRow | None:
        customer_id = self.customer_id(row)
        return self._rows.get(customer_id) if customer_id is not None else None

    def ids(self) -> list[int]:
        return list(self._ids)

    # -- Qt model ----------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._ids)

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
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._ids):
            return None
        column = index.column()
        if role == Qt.ItemDataRole.TextAlignmentRole:
            horizontal = (
                Qt.AlignmentFlag.AlignRight if column == COL_ARREARS else Qt.AlignmentFlag.AlignLeft
            )
            return horizontal | Qt.AlignmentFlag.AlignVCenter
        if role not in _TEXT_ROLES:
            return None
        row = self._rows.get(self._ids[index.row()])
        if row is None:
            self._request_page(index.row() // self._page_size)
            placeholder = role in (Qt.ItemDataRole.DisplayRole, PRIMARY_ROLE)
            return "…" if column == COL_CUSTOMER and placeholder else None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._cell(row, column)
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
        return self._part(row, column, role)

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
