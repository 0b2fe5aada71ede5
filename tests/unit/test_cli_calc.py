"""The calculator commands: JSON contract, readable output, and exit 2 on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from agent_desk.cli import main
from agent_desk.domain.policy import load_default_policy


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exit_:  # argparse errors
        code = exit_.code if isinstance(exit_.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code, out, err = run(capsys, *argv, "--json")
    assert (code, err) == (0, "")
    return json.loads(out)


def test_plan_by_amount_per_instalment(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(
        capsys, "plan", "--amount", "1000.00", "--per-instalment", "150.00", "--start", "2027-01-31"
    )
    assert data["total"] == "1000.00"
    assert data["count"] == 7
    assert data["end"] == "2027-07-31"
    assert [i["amount"] for i in data["instalments"]] == ["150.00"] * 6 + ["100.00"]
    assert data["instalments"][:3] == [
        {"number": 1, "due": "2027-01-31", "amount": "150.00"},
        {"number": 2, "due": "2027-02-28", "amount": "150.00"},
        {"number": 3, "due": "2027-03-31", "amount": "150.00"},
    ]
    assert data["needs_approval"] is False and data["breaches"] == []


def test_plan_with_down_payment_and_frequency(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(
        capsys,
        "plan",
        "--amount",
        "1000",
        "--instalments",
        "3",
        "--start",
        "2027-01-31",
        "--frequency",
        "four-weekly",
        "--down-payment",
        "100.00",
    )
    assert [(i["number"], i["due"], i["amount"]) for i in data["instalments"]] == [
        (0, "2027-01-31", "100.00"),
        (1, "2027-02-28", "300.00"),
        (2, "2027-03-28", "300.00"),
        (3, "2027-04-25", "300.00"),
    ]
    assert data["count"] == 4


def test_plan_by_capacity_stays_within_it(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(
        capsys, "plan", "--amount", "1000.01", "--capacity", "300", "--start", "2027-01-31"
    )
    amounts = [i["amount"] for i in data["instalments"]]
    assert amounts == ["250.01", "250.01", "250.01", "249.98"]


def test_plan_capacity_is_a_month_as_in_the_desk(capsys: pytest.CaptureFixture[str]) -> None:
    """150.00 a month is 69.23 per two weeks (150 x 12 / 26, rounded down), as in F4."""
    data = run_json(
        capsys,
        "plan",
        "--amount",
        "300",
        "--capacity",
        "150",
        "--frequency",
        "fortnightly",
        "--start",
        "2027-01-31",
    )
    amounts = [i["amount"] for i in data["instalments"]]
    assert amounts == ["60.00"] * 5
    assert data["instalments"][1]["due"] == "2027-02-14"


def test_plan_table_without_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "plan", "--amount", "1000", "--instalments", "3", "--start", "2027-01-31"
    )
    assert code == 0 and err == ""
    assert "2027-03-31" in out and "333.34" in out and "2027-02-28" in out


def test_plan_outside_policy_needs_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    too_many = str(load_default_policy().max_instalments + 1)
    argv = ["plan", "--amount", "100000", "--instalments", too_many, "--start", "2027-01-31"]
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert "policy allows at most" in err and "--outside-policy" in err
    data = run_json(capsys, *argv, "--outside-policy")
    assert data["needs_approval"] is True
    assert "instalments" in [b["field"] for b in data["breaches"]]


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--amount", "-5", "--instalments", "3"], "cannot be negative"),
        (["--amount", "0", "--instalments", "3"], "more than zero"),
        (["--amount", "abc", "--instalments", "3"], "is not an amount"),
        (["--amount", "10.0015", "--instalments", "3"], "more than two decimals"),
        (["--amount", "100", "--instalments", "three"], "not a whole number"),
        (["--amount", "100", "--instalments", "0"], "at least 1"),
        (["--amount", "100", "--per-instalment", "-1"], "cannot be negative"),
        (["--amount", "100", "--capacity", "0"], "more than zero"),
        (
            ["--amount", "100", "--instalments", "2", "--down-payment", "100"],
            "less than the total",
        ),
        (["--amount", "100", "--instalments", "2", "--start", "2027-02-30"], "not a valid date"),
        (["--amount", "100", "--instalments", "2", "--per-instalment", "5"], "not allowed with"),
        (["--amount", "100", "--instalments", "2", "--frequency", "daily"], "invalid choice"),
    ],
)
def test_plan_bad_input_exits_2_with_one_sentence(
    capsys: pytest.CaptureFixture[str], argv: list[str], fragment: str
) -> None:
    if "--start" not in argv:
        argv = [*argv, "--start", "2027-01-31"]
    code, out, err = run(capsys, "plan", *argv, "--json")
    assert code == 2
    assert out == ""
    assert fragment in err
    assert err.count("\n") == 1 and err.startswith("agent-desk")


def test_fees_bik(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "fees", "bik", "--principal", "2500.00", "--on", "2027-01-01")
    assert data == {"principal": "2500.00", "costs": "375.00", "vat": "0.00", "total": "2875.00"}


def test_fees_bik_several_claims_with_vat(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, "fees", "bik", "--principal", "150", "--principal", "150", "--vat")
    assert data == {"principal": "300.00", "costs": "45.00", "vat": "9.45", "total": "354.45"}


def test_fees_bik_bad_principal(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "fees", "bik", "--principal", "1.234,5x")
    assert code == 2 and out == "" and "not an amount" in err


def test_fees_without_kind_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "fees")
    assert code == 2 and "KIND" in err


def test_interest(capsys: pytest.CaptureFixture[str]) -> None:
    # No database at hand: the shipped table, confirmed until 2024-12-31, so a period
    # in 2025 is computed but provisional (a warning on stderr, exit 0).
    code, out, err = run(
        capsys,
        "interest",
        "--principal",
        "300.00",
        "--from",
        "2025-01-01",
        "--to",
        "2025-04-01",
        "--json",
    )
    assert code == 0
    assert "warning: provisional" in err and "confirmed only until 2024-12-31" in err
    data = json.loads(out)
    assert data["provisional_from"] == "2025-01-01"
    assert data["principal"] == "300.00" and data["interest"] == "4.44"
    assert data["periods"] == [
        {
            "from": "2025-01-01",
            "to": "2025-04-01",
            "days": 90,
            "rate": "0.06",
            "base": "300.00",
            "interest": "4.44",
        }
    ]


def test_interest_splits_at_rate_changes(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(
        capsys, "interest", "--principal", "1000", "--from", "2023-06-01", "--to", "2023-08-01"
    )
    assert [p["rate"] for p in data["periods"]] == ["0.04", "0.06"]
    assert data["interest"] == "8.39"
    assert data["provisional_from"] is None  # 2023 is confirmed: no warning (run_json)


def test_interest_partly_past_confirmed_is_provisional_from_that_day(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(
        capsys, "interest", "--principal", "1000", "--from", "2024-12-01", "--to", "2026-12-01"
    )
    assert code == 0 and "Interest" in out
    assert "the interest from 2025-01-01 on uses the last known rate" in err


def test_interest_backwards_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys, "interest", "--principal", "300", "--from", "2025-04-01", "--to", "2025-01-01"
    )
    assert code == 2 and out == "" and "before the start date" in err


def test_plan_as_a_real_process() -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "agent_desk",
            "plan",
            "--amount",
            "1000.00",
            "--per-instalment",
            "150.00",
            "--start",
            "2027-01-31",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    data = json.loads(completed.stdout)
    assert sum(int(i["amount"].replace(".", "")) for i in data["instalments"]) == 100_000
    assert data["end"] == "2027-07-31"
