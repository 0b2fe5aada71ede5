"""Render the desk's main screens offscreen to PNG for the README.

    python scripts/screenshots.py [--out docs]

Uses a throw-away demo database in a temporary folder (``AGENT_DESK_DATA_DIR``), so
no real settings or data are touched.

The offscreen platform is given a real screen size (a JSON ``configfile``), so the
desk is laid out as on that screen. The desk and its dialogs are taken on a 1366×768
laptop screen; the laptop set (``screenshot-desk-1366x768-{en,nl}.png`` and
``screenshot-desk-1920x1080-150-nl.png``, 1920×1080 at 150 % scaling) is taken by child
processes, one per screen (``--laptop WxH --scale F --lang L``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

# The offscreen platform with one screen of the size shot (its default is 800×800).
_SIZE = sys.argv[sys.argv.index("--laptop") + 1] if "--laptop" in sys.argv else "1366x768"
_CONFIG = Path(tempfile.mkdtemp(prefix="agent-desk-screen-")) / "screen.json"
_CONFIG.write_text(
    json.dumps(
        {
            "screens": [
                {
                    "name": "laptop",
                    "x": 0,
                    "y": 0,
                    "width": int(_SIZE.split("x")[0]),
                    "height": int(_SIZE.split("x")[1]),
                    "logicalDpi": 96,
                    "logicalBaseDpi": 96,
                    "dpr": 1,
                }
            ]
        }
    ),
    encoding="utf-8",
)
if os.environ.get("QT_QPA_PLATFORM", "offscreen").startswith("offscreen"):
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={_CONFIG}"
os.environ["AGENT_DESK_DATA_DIR"] = tempfile.mkdtemp(prefix="agent-desk-shots-")

from PySide6.QtCore import QCoreApplication  # noqa: E402 (after the platform is chosen)
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402 (after the platform is chosen)

from agent_desk.app import DeskApp, style_application  # noqa: E402 (after the platform is chosen)
from agent_desk.demo import load_demo  # noqa: E402 (after the platform is chosen)
from agent_desk.domain.codes import Outcome  # noqa: E402 (after the platform is chosen)
from agent_desk.services.database import Database  # noqa: E402 (after the platform is chosen)
from agent_desk.ui.app_window import DeskWindow  # noqa: E402 (after the platform is chosen)
from agent_desk.ui.dialogs.arrangement import ArrangementDialog, Mode  # noqa: E402 (after the platform is chosen)
from agent_desk.ui.dialogs.log_contact import LogContactDialog  # noqa: E402 (after the platform is chosen)
from agent_desk.ui.prompter import RecordingPrompter  # noqa: E402 (after the platform is chosen)


def wait_until(condition: Callable[[], object], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the desk did not get there in time")
        QCoreApplication.processEvents()
        time.sleep(0.01)
    for _ in range(20):
        QCoreApplication.processEvents()


def save(widget: QWidget, path: Path) -> None:
    widget.grab().save(str(path))
    print(f"wrote {path}")


def shoot(database: Database, lang: str, out: Path) -> None:
    desk = DeskApp(database, lang=lang, prompter=RecordingPrompter())
    desk.start()
    wait_until(lambda: desk.picker is not None and desk.picker.isVisible())
    assert desk.picker is not None
    for row in range(desk.picker.list.count()):
        if "Sanne" in desk.picker.list.item(row).text():
            desk.picker.list.setCurrentRow(row)
    save(desk.picker, out / f"screenshot-agent-picker-{lang}.png")
    desk.picker.start.click()
    wait_until(lambda: desk.window is not None and not desk.window.queue_model.loading)
    window = desk.window
    assert isinstance(window, DeskWindow)
    window.resize(1366, 768)
    window.actions_.next_customer.trigger()
    wait_until(lambda: window.current_file() is not None and window.worker.pending == 0)
    save(window, out / f"screenshot-desk-{lang}.png")

    window.actions_.log_contact.trigger()
    dialog = window.open_dialog
    assert isinstance(dialog, LogContactDialog)
    dialog.choose(dialog.outcome, Outcome.REACHED.value)
    dialog.note.setPlainText(
        "Klant verwacht salaris op de 25e." if lang == "nl" else "Expects salary on the 25th."
    )
    dialog.save.click()
    wait_until(lambda: window.worker.pending == 0 and dialog.error_text("next_step"))
    save(dialog, out / f"screenshot-log-contact-{lang}.png")
    dialog.reject()

    window.actions_.promise.trigger()
    promise = window.open_dialog
    assert promise is not None
    wait_until(lambda: promise.isVisible())
    save(promise, out / f"screenshot-promise-{lang}.png")
    promise.reject()
    shoot_find(window, lang, out)
    shoot_arrangement(database, window, lang, out)
    shoot_letter(database, window, lang, out)
    shoot_send_message(window, lang, out)
    shoot_script_and_verification(database, window, lang, out)
    window.releasing_on_close = True
    window.close()
    desk.shutdown()


def shoot_find(window: DeskWindow, lang: str, out: Path) -> None:
    """Ctrl+K: a name typed without accents finds the customers who have them."""
    dialog = window.find_customer()
    dialog.query.setText("huseyin" if lang == "en" else "celik")
    wait_until(lambda: dialog.results.count() > 0 and window.worker.pending == 0)
    save(dialog, out / f"screenshot-find-{lang}.png")
    dialog.reject()


def _customers_for_plan(database: Database, count: int = 1, skip: int = 0) -> list[int]:
    """Customers with a few claims and a realistic amount, without an arrangement."""
    from sqlalchemy import func, select

    from agent_desk.models import Arrangement, Claim, Customer

    with database.transaction() as session:
        claims = (
            select(Claim.customer_id)
            .group_by(Claim.customer_id)
            .having(func.count() >= 2)
            .scalar_subquery()
        )
        found = session.scalars(
            select(Customer.id)
            .where(
                Customer.arrears_cents.between(90_000, 160_000),
                Customer.id.in_(claims),
                Customer.id.not_in(select(Arrangement.customer_id)),
            )
            .order_by(Customer.id)
            .offset(skip)
            .limit(count)
        ).all()
    assert len(found) == count
    return [int(i) for i in found]


def shoot_arrangement(database: Database, window: DeskWindow, lang: str, out: Path) -> None:
    window.open_customer(_customers_for_plan(database)[0])
    wait_until(lambda: window.worker.pending == 0)
    window.actions_.arrangement.trigger()
    dialog = window.arrangement_dialog
    assert isinstance(dialog, ArrangementDialog)
    wait_until(lambda: dialog.owed is not None)  # the figures come from the books
    dialog.income.setText("1685,00" if lang == "nl" else "1685.00")
    dialog.expenses.setText("1510,00" if lang == "nl" else "1510.00")
    dialog.set_mode(Mode.AMOUNT)
    dialog.per_instalment.setText("150")
    dialog.waive_interest.setChecked(True)
    dialog.recalculate()
    wait_until(lambda: dialog.isVisible())
    save(dialog, out / f"screenshot-arrangement-{lang}.png")
    dialog.reject()


def shoot_letter(database: Database, window: DeskWindow, lang: str, out: Path) -> None:
    """F6 with the preview of an arrangement confirmation, in the customer's language."""
    from sqlalchemy import select

    from agent_desk.models import Arrangement, Customer

    with database.transaction() as session:
        customer_id = session.scalars(
            select(Customer.id)
            .join(Arrangement, Arrangement.customer_id == Customer.id)
            .where(Customer.language == lang, Customer.paused_until.is_(None))
            .order_by(Customer.id)
            .limit(1)
        ).first()
    assert customer_id is not None
    window.open_customer(customer_id)
    wait_until(
        lambda: (
            (file := window.current_file()) is not None
            and file.id == customer_id
            and window.worker.pending == 0
        )
    )
    window.actions_.letter.trigger()
    dialog = window.letters_dialog
    assert dialog is not None
    wait_until(lambda: dialog.preview.page_count() > 0 and dialog.save_button.isEnabled())
    save(dialog, out / f"screenshot-letter-preview-{lang}.png")
    dialog.reject()


def shoot_send_message(window: DeskWindow, lang: str, out: Path) -> None:
    """Ctrl+M: an SMS with its preview and part count (issue 14)."""
    from agent_desk.ui.dialogs.send_message import SendMessageDialog

    window.send_message_action.trigger()
    dialog = window.send_message_dialog
    assert isinstance(dialog, SendMessageDialog)
    wait_until(lambda: dialog.send_button.isEnabled() or dialog.error.isVisible())
    save(dialog, out / f"screenshot-send-sms-{lang}.png")
    dialog.reject()


def shoot_approvals(database: Database, out: Path) -> None:
    """Two plans outside policy waiting for Marieke (the demo's supervisor)."""
    from datetime import date, datetime, timedelta

    from agent_desk.domain.arrangement_plan import Mode as PlanMode
    from agent_desk.domain.arrangement_plan import Terms
    from agent_desk.domain.arrangements import Frequency
    from agent_desk.models import Customer
    from agent_desk.services.actor import actor_for_login
    from agent_desk.services.arrangements import agree_arrangement

    now = datetime.now().astimezone()
    first = (date(now.year, now.month, 1) + timedelta(days=40)).replace(day=1)
    reasons = (
        (72, "Only AOW income after her husband died; a small amount for longer keeps it up."),
        (66, "Self-employed, income varies by season; the budget coach agreed to this amount."),
    )
    customers = _customers_for_plan(database, len(reasons), skip=1)
    with database.transaction() as session:
        sanne = actor_for_login(session, "sanne")
        for customer_id, (count, reason) in zip(customers, reasons, strict=True):
            customer = session.get(Customer, customer_id)
            assert customer is not None
            agree_arrangement(
                session,
                sanne,
                customer_id,
                terms=Terms(
                    PlanMode.COUNT, first, Frequency.MONTHLY, count=count, waive_interest=True
                ),
                now=now,
                approval_reason=reason,
            )
            session.flush()
    desk = DeskApp(database, lang="en", agent_login="marieke", prompter=RecordingPrompter())
    desk.start()
    wait_until(lambda: desk.window is not None and not desk.window.queue_model.loading)
    window = desk.window
    assert isinstance(window, DeskWindow)
    dialog = window.open_approvals()
    assert dialog is not None
    wait_until(lambda: not dialog.loading and window.worker.pending == 0)
    dialog.note.setPlainText("Approved: payslip and budget plan checked.")
    save(dialog, out / "screenshot-approvals-en.png")
    dialog.reject()
    window.releasing_on_close = True
    window.close()
    desk.shutdown()


def shoot_supervisor(database: Database, out: Path) -> None:
    """Marieke's team view (figures, table, charts) and a reassign preview."""
    from agent_desk.ui.dialogs.reassign import ReassignDialog

    desk = DeskApp(database, lang="en", agent_login="marieke", prompter=RecordingPrompter())
    desk.start()
    wait_until(lambda: desk.window is not None and not desk.window.queue_model.loading)
    window = desk.window
    assert isinstance(window, DeskWindow)
    team = window.supervisor.open_team_view()
    assert team is not None
    wait_until(lambda: not team.loading and window.worker.pending == 0)
    save(team, out / "screenshot-team-en.png")
    team.reject()
    dialog = window.supervisor.open_reassign()
    assert isinstance(dialog, ReassignDialog)
    wait_until(lambda: bool(dialog.agents) and window.worker.pending == 0)
    dialog.choose_from("sanne")
    dialog.min_days.setValue(30)
    dialog.choose_targets(["daan", "eva"])
    dialog.refresh_preview()
    wait_until(lambda: dialog.preview is not None and window.worker.pending == 0)
    save(dialog, out / "screenshot-reassign-en.png")
    dialog.reject()
    audit = window.supervisor.open_audit()  # the details in words, not JSON
    assert audit is not None
    wait_until(lambda: not audit.loading and window.worker.pending == 0)
    save(audit, out / "screenshot-audit-en.png")
    audit.reject()
    window.releasing_on_close = True
    window.close()
    desk.shutdown()


def shoot_team_rules(database: Database, out: Path) -> None:
    """Marieke's team-rules screen with a refused policy, and the rates warning."""
    from agent_desk.ui.dialogs.team_rules import TeamRulesDialog

    desk = DeskApp(database, lang="en", agent_login="marieke", prompter=RecordingPrompter())
    desk.start()
    wait_until(lambda: desk.window is not None and not desk.window.queue_model.loading)
    window = desk.window
    assert isinstance(window, DeskWindow)
    wait_until(lambda: window.worker.pending == 0 and window.rates_label.isVisibleTo(window))
    save(window, out / "screenshot-rates-warning-en.png")
    window.open_team_rules()
    dialog = window.team_rules_dialog
    assert isinstance(dialog, TeamRulesDialog)
    wait_until(lambda: dialog.documents.count() > 0 and window.worker.pending == 0)
    wait_until(lambda: "max_term_months" in dialog.editor.toPlainText())
    dialog.editor.setPlainText(
        dialog.editor.toPlainText().replace("max_term_months = 24", "max_term_months = 0")
    )
    dialog.reason.setText("shorter plans")
    dialog.save()
    wait_until(lambda: window.worker.pending == 0 and dialog.problem.text() != "")
    save(dialog, out / "screenshot-team-rules-en.png")
    dialog.reject()
    window.releasing_on_close = True
    window.close()
    desk.shutdown()


def shoot_script_and_verification(
    database: Database, window: DeskWindow, lang: str, out: Path
) -> None:
    """The script panel at a step with typed fields, then F7 with a wrong number."""
    from PySide6.QtWidgets import QLineEdit, QPushButton
    from sqlalchemy import select

    from agent_desk.models import Customer
    from agent_desk.ui.dialogs.verification import VerificationDialog

    with database.transaction() as session:
        customer_id = session.scalars(
            select(Customer.id)
            .where(
                Customer.language == lang,
                Customer.first_time_arrears.is_(True),
                Customer.vulnerable.is_(False),
                Customer.paused_until.is_(None),
            )
            .order_by(Customer.id)
            .limit(1)
        ).one()
    window.open_customer(customer_id)
    wait_until(lambda: window.worker.pending == 0 and window.script_host.run is not None)
    host = window.script_host
    host.switch_script("first_time_arrears")
    host.choose("1")
    wait_until(lambda: True)
    save(window, out / f"screenshot-script-identity-{lang}.png")
    host.choose("1")
    host.forward()
    host.choose("1")
    host.inputs["promise_amount"].setText("150,00" if lang == "nl" else "150.00")
    host.inputs["promise_date"].setText("28-02-2031")
    host._commit_inputs(strict=False)
    wait_until(lambda: True)
    wait_until(lambda: True)
    save(window, out / f"screenshot-script-{lang}.png")

    window.actions_.verify.trigger()
    wait_until(
        lambda: (
            window.recorder.verification_dialog is not None
            and window.recorder.verification_dialog.isVisible()
        )
    )
    dialog = window.recorder.verification_dialog
    assert isinstance(dialog, VerificationDialog)
    save(dialog, out / f"screenshot-verification-intro-{lang}.png")
    dialog.go_next()
    wait_until(lambda: True)
    buttons = [b for b in dialog.findChildren(QPushButton, "correctButton") if b.isVisible()]
    if buttons:
        buttons[0].click()
        wait_until(lambda: True)
        edits = [e for e in dialog.findChildren(QLineEdit, "correct_value") if e.isVisible()]
        edits[0].setText("06-123")
        next(b for b in dialog.findChildren(QPushButton, "correctApply") if b.isVisible()).click()
        wait_until(lambda: True)
    save(dialog, out / f"screenshot-verification-{lang}.png")
    dialog.reject()


def shoot_team_mode(database: Database, out: Path) -> None:
    """The sign-in dialog for the team server and the desk while the connection is down."""
    from sqlalchemy.engine import make_url

    from agent_desk.i18n import Translator
    from agent_desk.ui.dialogs.next_step import NextStepDialog
    from agent_desk.ui.dialogs.note import NoteDialog
    from agent_desk.ui.dialogs.pause import PauseInput
    from agent_desk.ui.dialogs.sign_in import SignInDialog

    url = make_url("postgresql+psycopg://sanne@desk.example.nl/collections")
    problem = (
        "The server at desk.example.nl:5432 refused user 'sanne': check the password "
        "('agent-desk login') or ask your supervisor for access."
    )
    sign_in = SignInDialog(Translator("en"), url, problem=problem)
    sign_in.show()
    wait_until(sign_in.isVisible)
    save(sign_in, out / "screenshot-sign-in-en.png")
    sign_in.reject()

    desk = DeskApp(database, lang="en", agent_login="sanne", prompter=RecordingPrompter())
    desk.start()
    wait_until(lambda: desk.window is not None and not desk.window.queue_model.loading)
    window = desk.window
    assert isinstance(window, DeskWindow)
    window.resize(1366, 768)
    window.actions_.next_customer.trigger()
    wait_until(lambda: window.current_file() is not None and window.worker.pending == 0)
    wait_until(lambda: window.live_sync.listener is not None)
    window.live_sync.stop()  # as if the VPN dropped: the listener would report this
    window.live_sync.set_online(False)
    file = window.current_file()
    assert file is not None
    window.offline.keep_note(file.id, "Starts a new job on 1 December.")
    window.offline.keep_pause(
        file.id,
        file.version,
        PauseInput(window.clock().date() + timedelta(days=30), "waiting for income support"),
    )
    window._kept_offline(file.id)
    window.set_connected(False)  # what the stopped listener would have reported
    wait_until(lambda: "Offline" in window.connection_label.text())
    save(window, out / "screenshot-offline-en.png")

    note = window.recorder.note()
    assert isinstance(note, NoteDialog)
    note.text.setPlainText("Prefers to be called after 18:00; works day shifts.")
    wait_until(note.isVisible)
    save(note, out / "screenshot-note-en.png")
    note.reject()
    step = window.recorder.next_step()
    assert isinstance(step, NextStepDialog)
    step.kind.setCurrentIndex(step.kind.findData("letter"))
    step.note.setText("send the 14-day letter first")
    wait_until(step.isVisible)
    save(step, out / "screenshot-next-step-en.png")
    step.reject()
    window.offline.outbox._connection.execute("DELETE FROM operation")  # not for real
    window.close()
    desk.shutdown()


LAPTOPS = (("1366x768", "1", "en"), ("1366x768", "1", "nl"), ("1920x1080", "1.5", "nl"))


def shoot_laptop(database: Database, lang: str, size: str, scale: str, out: Path) -> None:
    """The desk as it opens on this screen (never resized by hand), with a customer."""
    desk = DeskApp(database, lang=lang, agent_login="sanne", prompter=RecordingPrompter())
    desk.start()
    wait_until(lambda: desk.window is not None and not desk.window.queue_model.loading)
    window = desk.window
    assert isinstance(window, DeskWindow)
    window.fit_to_screen()
    window.actions_.next_customer.trigger()
    wait_until(lambda: window.current_file() is not None and window.worker.pending == 0)
    window.queue_panel.view.setFocus()
    wait_until(lambda: True)
    suffix = f"{size}-{round(float(scale) * 100)}" if scale != "1" else size
    save(window, out / f"screenshot-desk-{suffix}-{lang}.png")
    window.close()
    desk.shutdown()


def laptop_shots(out: Path, customers: int) -> None:
    import subprocess

    for size, scale, lang in LAPTOPS:
        env = dict(os.environ, QT_SCALE_FACTOR=scale)
        env.pop("QT_QPA_PLATFORM", None)
        command = [sys.executable, __file__, "--out", str(out), "--customers", str(customers)]
        command += ["--laptop", size, "--scale", scale, "--lang", lang]
        subprocess.run(command, env=env, check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "docs")
    parser.add_argument("--customers", type=int, default=1500)
    parser.add_argument("--only", choices=["team", "rules", "laptop"], help="only these screens")
    parser.add_argument("--laptop", help="(child) the desk on a WxH screen")
    parser.add_argument("--scale", default="1", help="(child) QT_SCALE_FACTOR in use")
    parser.add_argument("--lang", default="en", help="(child) the desk's language")
    args = parser.parse_args()
    if args.only == "laptop" or (args.laptop is None and args.only is None):
        laptop_shots(args.out, min(args.customers, 600))
        if args.only == "laptop":
            return 0
    args.out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)
    style_application(app)
    path = Path(os.environ["AGENT_DESK_DATA_DIR"]) / "shots.sqlite3"
    database = Database(f"sqlite:///{path}")
    database.upgrade()
    with database.transaction() as session:
        load_demo(session, customers=args.customers, seed=42)
    if args.only == "rules":
        shoot_team_rules(database, args.out)
    if args.laptop:
        shoot_laptop(database, args.lang, args.laptop, args.scale, args.out)
        database.dispose()
        return 0
    if args.only == "team":
        shoot_team_mode(database, args.out)
        database.dispose()
        return 0
    for lang in ("en", "nl"):
        shoot(database, lang, args.out)
    shoot_approvals(database, args.out)
    shoot_supervisor(database, args.out)
    shoot_team_rules(database, args.out)
    shoot_team_mode(database, args.out)
    database.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
