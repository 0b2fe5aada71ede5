"""F4 arrangement calculator and the supervisor's approvals, through the real widgets."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select

from agent_desk.app import DeskApp
from agent_desk.domain.arrangement_plan import Owed
from agent_desk.domain.codes import ArrangementStatus
from agent_desk.domain.team_day import local_day
from agent_desk.models import Arrangement, Customer, DemandNotice, Instalment
from agent_desk.services.arrangements import arrangement_owed
from agent_desk.services.balance import customer_balance
from agent_desk.services.database import Database
from agent_desk.ui.app_window import DeskWindow
from agent_desk.ui.dialogs.approvals import ApprovalsDialog
from agent_desk.ui.dialogs.arrangement import ArrangementDialog, Mode
from agent_desk.ui.prompter import RecordingPrompter
from agent_desk.ui.settings import DeskSettings

WAIT = 20_000


def idle(qtbot: QtBot, window: DeskWindow) -> None:
    qtbot.waitUntil(lambda: window.worker.pending == 0, timeout=WAIT)


def customer_owing(database: Database, at_least: int, *, letter: bool | None = None) -> int:
    """A customer owing at least ``at_least`` cents with no arrangement at all
    (``letter``: only those with / without costs a 14-day letter made owed)."""
    with database.transaction() as session:
        with_arrangement = select(Arrangement.customer_id)
        query = (
            select(Customer.id)
            .where(Customer.arrears_cents >= at_least, Customer.id.not_in(with_arrangement))
            .order_by(Customer.id)
            .limit(1)
        )
        with_costs = select(DemandNotice.customer_id).where(DemandNotice.status == "costs_booked")
        if letter is True:
            query = query.where(Customer.id.in_(with_costs))
        elif letter is False:
            query = query.where(Customer.id.not_in(with_costs))
        customer_id = session.scalar(query)
    assert customer_id is not None
    return int(customer_id)


def team_today() -> date:
    """The day the desk counts in (the team's, as the dialog and the books do; not the
    machine's, which differs from it between midnight in Amsterdam and midnight UTC)."""
    return local_day(datetime.now(UTC))


def books(database: Database, customer_id: int) -> Owed:
    with database.transaction() as session:
        return arrangement_owed(session, customer_id, team_today())


def open_calculator(
    qtbot: QtBot,
    window: DeskWindow,
    database: Database,
    at_least: int = 150_000,
    *,
    letter: bool | None = None,
) -> ArrangementDialog:
    customer_id = customer_owing(database, at_least, letter=letter)
    with qtbot.waitSignal(window.file_shown, timeout=WAIT):
        window.open_customer(customer_id)
    idle(qtbot, window)
    assert window.actions_.arrangement.isEnabled()
    window.actions_.arrangement.trigger()
    dialog = window.arrangement_dialog
    assert isinstance(dialog, ArrangementDialog)
    assert dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.owed is not None, timeout=WAIT)  # read on the worker
    return dialog


def plain(dialog: ArrangementDialog, principal: int = 100_000) -> None:
    """Round figures without costs or interest, as if the books said so, so the schedule
    is easy to check (saving them is refused: the books say otherwise)."""
    dialog.set_owed(Owed(principal=principal))


def money(cents: int) -> str:
    return f"€{cents // 100:,}.{cents % 100:02d}"


def test_the_amount_is_read_from_the_books_and_cannot_be_typed(
    qtbot: QtBot, window: DeskWindow, database: Database
) -> None:
    dialog = open_calculator(qtbot, window, database, letter=False)
    file = window.current_file()
    assert file is not None
    owed = books(database, file.id)
    assert owed.costs == 0 and owed.interest > 0
    assert isinstance(dialog.amount, QLabel)  # read-only: no typing the amount
    assert dialog.findChild(QLineEdit, "amount") is None
    assert dialog.amount.text() == money(owed.total)
    assert dialog.principal_part.text() == money(owed.principal)
    assert dialog.costs_part.text() == "none"
    assert dialog.costs_note.text() == "no 14-day letter has run out"
    assert dialog.interest_part.text() == money(owed.interest)
    assert dialog.interest_note.text().startswith("since ")
    assert not dialog.waive_costs.isEnabled()
    assert dialog.waive_costs.text() == "No collection costs"
    assert dialog.waive_interest.isEnabled()
    rows = dialog.schedule_rows()
    assert len(rows) == 6  # the default count
    assert all("€" in amount for _, _, amount in rows)
    item = dialog.schedule.item(0, 2)
    assert item is not None and item.textAlignment() & Qt.AlignmentFlag.AlignRight
    assert dialog.start.date().day() == 1
    assert dialog.total_value.text() == money(owed.total)
    assert dialog.costs_value.text() == "—"


def test_costs_after_a_letter_are_shown_and_can_be_waived(
    qtbot: QtBot, window: DeskWindow, database: Database
) -> None:
    dialog = open_calculator(qtbot, window, database, 50_000, letter=True)
    file = window.current_file()
    assert file is not None
    owed = books(database, file.id)
    assert owed.costs > 0
    assert dialog.costs_part.text() == money(owed.costs)
    assert "unpaid 14-day letter" in dialog.costs_note.text()
    assert dialog.waive_costs.isEnabled()
    assert dialog.costs_value.text() == money(owed.costs)
    assert dialog.total_value.text() == money(owed.total)
    qtbot.mouseClick(dialog.waive_costs, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(dialog.recalculated, timeout=WAIT):
        pass
    assert dialog.costs_value.text() == "waived"
    assert dialog.total_value.text() == money(owed.total - owed.costs)


def test_the_schedule_follows_the_typing(
    qtbot: QtBot, window: DeskWindow, database: Database
) -> None:
    dialog = open_calculator(qtbot, window, database)
    plain(dialog)
    dialog.count.selectAll()
    with qtbot.waitSignal(dialog.recalculated, timeout=WAIT):
        qtbot.keyClicks(dialog.count, "4")  # no button: the debounce recalculates
    rows = dialog.schedule_rows()
    assert [amount for _, _, amount in rows] == ["€250.00"] * 4

    dialog.set_mode(Mode.AMOUNT)
    with qtbot.waitSignal(dialog.recalculated, timeout=WAIT):
        qtbot.keyClicks(dialog.per_instalment, "150.00")
    amounts = [amount for _, _, amount in dialog.schedule_rows()]
    assert amounts == ["€150.00"] * 6 + ["€100.00"]
    assert "7 instalments of €150.00, the last €100.00" in dialog.headline.text()
    assert "✓ Within policy" in dialog.policy_line.text()

    dialog.down_payment.setText("100")
    dialog.recalculate()
    rows = dialog.schedule_rows()
    assert rows[0][0] == "down payment" and rows[0][2] == "€100.00"
    assert sum(int(a.strip("€").replace(",", "").replace(".", "")) for _, _, a in rows) == 100_000


def test_capacity_plans_never_above_what_the_customer_can_pay(
    qtbot: QtBot, window: DeskWindow, database: Database
) -> None:
    dialog = open_calculator(qtbot, window, database)
    plain(dialog)
    dialog.set_mode(Mode.CAPACITY)
    dialog.income.setText("1450")
    dialog.expenses.setText("1300")
    dialog.recalculate()
    amounts = [a for _, _, a in dialog.schedule_rows()]
    assert amounts == ["€142.86"] * 6 + ["€142.84"]
    assert "Can pay €150.00 a month" in dialog.capacity_line.text()
    assert "✓ Fits the customer's capacity" in dialog.fit_line.text()

    dialog.set_mode(Mode.COUNT)
    dialog.count.setValue(2)  # 500 a month: above capacity
    dialog.recalculate()
    assert "€350.00 above what the customer can pay" in dialog.fit_line.text()
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    assert "above what the customer can pay" in dialog.error_text("capacity")
    assert dialog.isVisible()


def test_validation_messages_sit_next_to_their_fields(
    qtbot: QtBot, window: DeskWindow, database: Database
) -> None:
    dialog = open_calculator(qtbot, window, database)
    plain(dialog)
    dialog.set_mode(Mode.AMOUNT)
    dialog.per_instalment.setText("twaalf")
    dialog.recalculate()
    assert "not an amount" in dialog.error_text("per_instalment")
    assert dialog.schedule_rows() == []
    assert not dialog.save.isEnabled()

    dialog.set_mode(Mode.COUNT)
    dialog.count.setValue(0)
    dialog.recalculate()
    assert dialog.error_text("per_instalment") == ""
    assert "at least one instalment" in dialog.error_text("instalments")

    dialog.count.setValue(6)
    dialog.down_payment.setText("1000")
    dialog.recalculate()
    assert "down payment must be less than the total of €1,000.00" in dialog.error_text(
        "down_payment"
    )

    dialog.down_payment.clear()
    dialog.count.setValue(100)
    dialog.recalculate()
    breach = dialog.error_text("instalments")
    assert "100 instalments: the policy allows at most 60" in breach
    assert "later than the policy's 24 months" in breach
    assert "Outside policy" in dialog.policy_line.text()
    assert dialog.reason.isVisible()
    assert dialog.error_text("amount") == ""


def test_agreeing_within_policy_saves_and_shows_the_instalments(
    qtbot: QtBot, window: DeskWindow, database: Database
) -> None:
    dialog = open_calculator(qtbot, window, database)
    file = window.current_file()
    assert file is not None
    owed = books(database, file.id)
    dialog.count.setValue(5)
    qtbot.mouseClick(dialog.waive_interest, Qt.MouseButton.LeftButton)
    dialog.recalculate()
    assert dialog.interest_value.text() == "waived"
    with qtbot.waitSignal(window.file_shown, timeout=WAIT):
        qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    idle(qtbot, window)
    assert not dialog.isVisible()
    with database.transaction() as session:
        arrangement = session.scalars(
            select(Arrangement).where(Arrangement.customer_id == file.id)
        ).one()
        assert arrangement.status == ArrangementStatus.ACTIVE.value
        count = session.scalar(
            select(func.count()).where(Instalment.arrangement_id == arrangement.id)
        )
        assert count == 5
        assert arrangement.interest_waived
        assert arrangement.total_cents == owed.principal + owed.costs
        balance = customer_balance(session, file.id, team_today())
        assert balance.outstanding == arrangement.total_cents  # the waiver is on the books
    panel = window.customer_panel
    texts = [panel.timeline.item(r, 1).text() for r in range(panel.timeline.rowCount())]
    assert any("arrangement active" in t and "5 instalments" in t for t in texts)
    assert panel.instalments.isVisible()
    assert panel.instalments.states() == ["due"] * 5
    assert "0 of 5 paid" in panel.instalments.summary.text()
    assert "instalment reminder" in panel.next_step.text()
    assert "Arrangement agreed" in window.statusBar().currentMessage()


def test_figures_that_are_not_the_books_are_refused_and_read_again(
    qtbot: QtBot, window: DeskWindow, database: Database
) -> None:
    dialog = open_calculator(qtbot, window, database)
    file = window.current_file()
    assert file is not None
    owed = books(database, file.id)
    plain(dialog)  # what a stale or tampered desk would send
    with qtbot.waitSignal(dialog.figures_loaded, timeout=WAIT):
        qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()
    assert "amounts changed since you calculated" in dialog.notice.text()
    assert dialog.owed == owed  # read again from the books
    assert dialog.amount.text() == money(owed.total)
    with database.transaction() as session:
        assert not session.scalars(
            select(Arrangement).where(Arrangement.customer_id == file.id)
        ).all()
    with qtbot.waitSignal(window.file_shown, timeout=WAIT):
        qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    idle(qtbot, window)
    assert not dialog.isVisible()


def test_outside_policy_needs_a_reason_then_waits_for_a_supervisor(
    qtbot: QtBot, window: DeskWindow, database: Database, prompter: RecordingPrompter
) -> None:
    dialog = open_calculator(qtbot, window, database)
    file = window.current_file()
    assert file is not None
    dialog.count.setValue(100)
    dialog.recalculate()
    assert dialog.save.text() == "Ask supervisor approval"
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    assert "outside policy" in dialog.error_text("approval_reason")
    assert dialog.isVisible()
    assert "100 instalments" in dialog.error_text("instalments")  # still beside its field
    dialog.reason.setPlainText("Only AOW income; a small amount for a long time keeps it going.")
    with qtbot.waitSignal(window.file_shown, timeout=WAIT):
        qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    idle(qtbot, window)
    assert not dialog.isVisible()
    assert prompter.messages[-1][1] == "Waiting for a supervisor"
    with database.transaction() as session:
        arrangement = session.scalars(
            select(Arrangement).where(Arrangement.customer_id == file.id)
        ).one()
        assert arrangement.status == ArrangementStatus.PENDING_APPROVAL.value
        assert "Only AOW income" in (arrangement.approval_needed_reason or "")
    assert "waiting for approval" in window.customer_panel.instalments.summary.text()


def test_a_second_arrangement_is_refused_plainly(
    qtbot: QtBot, window: DeskWindow, database: Database
) -> None:
    dialog = open_calculator(qtbot, window, database)
    with qtbot.waitSignal(window.file_shown, timeout=WAIT):
        qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    idle(qtbot, window)
    window.actions_.arrangement.trigger()
    again = window.arrangement_dialog
    assert isinstance(again, ArrangementDialog) and again is not dialog
    assert "already has an arrangement" in again.notice.text()
    qtbot.waitUntil(lambda: again.owed is not None, timeout=WAIT)
    assert not again.save.isEnabled()
    again.reject()


@pytest.fixture
def supervisor_desk(
    qtbot: QtBot, database: Database, prompter: RecordingPrompter, styled: None
) -> Iterator[DeskApp]:
    desk = DeskApp(
        database, lang="en", agent_login="marieke", prompter=prompter, settings=DeskSettings()
    )
    desk.start()
    qtbot.waitUntil(lambda: desk.window is not None, timeout=WAIT)
    assert desk.window is not None
    qtbot.waitUntil(lambda: desk.window is not None and not desk.window.queue_model.loading)
    qtbot.waitUntil(lambda: desk.worker.pending == 0, timeout=WAIT)
    yield desk
    if desk.window is not None:
        desk.window.close()
    desk.shutdown()


def pending_plan(qtbot: QtBot, window: DeskWindow, database: Database, reason: str) -> int:
    dialog = open_calculator(qtbot, window, database)
    file = window.current_file()
    assert file is not None
    dialog.count.setValue(90)
    dialog.recalculate()
    dialog.reason.setPlainText(reason)
    with qtbot.waitSignal(window.file_shown, timeout=WAIT):
        qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    idle(qtbot, window)
    return file.id


def test_the_agent_has_no_approvals_action(window: DeskWindow) -> None:
    assert not window.actions_.approvals.isVisible()
    assert window.open_approvals() is None
    assert all(text != "Approvals" for _, text in window.shortcuts())


def test_a_supervisor_approves_and_declines_with_a_note(
    qtbot: QtBot, supervisor_desk: DeskApp, database: Database
) -> None:
    window = supervisor_desk.window
    assert window is not None
    first = pending_plan(qtbot, window, database, "Long illness; income is low but stable.")
    second_id = pending_plan(qtbot, window, database, "Self-employed, income varies by season.")

    assert window.actions_.approvals.isVisible()
    window.actions_.approvals.trigger()
    approvals = window.approvals_dialog
    assert isinstance(approvals, ApprovalsDialog)
    qtbot.waitUntil(lambda: not approvals.loading, timeout=WAIT)
    assert len(approvals.items) == 2
    assert approvals.table.rowCount() == 2
    chosen = approvals.current()
    assert chosen is not None and chosen.customer_id == first
    assert "Long illness" in approvals.reason.text()
    assert "the policy allows at most 60" in approvals.why.text()

    qtbot.mouseClick(approvals.approve, Qt.MouseButton.LeftButton)  # no note yet
    assert "Give a reason" in approvals.note_error.text()
    assert len(approvals.items) == 2

    approvals.note.setPlainText("Approved: payslips checked.")
    with qtbot.waitSignal(approvals.loaded, timeout=WAIT):
        qtbot.mouseClick(approvals.approve, Qt.MouseButton.LeftButton)
    assert len(approvals.items) == 1
    assert approvals.items[0].customer_id == second_id
    approvals.note.setPlainText("Declined: ask for a budget plan from debt help first.")
    with qtbot.waitSignal(approvals.loaded, timeout=WAIT):
        qtbot.mouseClick(approvals.decline, Qt.MouseButton.LeftButton)
    assert approvals.items == []
    assert approvals.empty.isVisible()
    idle(qtbot, window)
    with database.transaction() as session:
        statuses = dict(
            session.execute(
                select(Arrangement.customer_id, Arrangement.status).where(
                    Arrangement.customer_id.in_([first, second_id])
                )
            ).all()
        )
    assert statuses == {
        first: ArrangementStatus.ACTIVE.value,
        second_id: ArrangementStatus.DECLINED.value,
    }
    # The declined customer's file (on screen) shows the decline and a review step.
    panel = window.customer_panel
    assert panel.file is not None and panel.file.id == second_id
    assert "arrangement declined" in panel.instalments.summary.text()
    assert "review" in panel.next_step.text()
