from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agent_desk.cli import main
from agent_desk.resources import resource_path

SHIPPED = resource_path("scripts")


def test_check_shipped_scripts_is_clean(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scripts", "check"]) == 0
    out = capsys.readouterr().out
    assert "All 18 call scripts are fine (en, nl)." in out


def test_check_reports_line_precise_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "scripts"
    shutil.copytree(SHIPPED, copy)
    target = copy / "en" / "first_time_arrears.yaml"
    lines = target.read_text(encoding="utf-8").splitlines()
    number = next(i for i, line in enumerate(lines) if line.strip() == "someone_else:") + 1
    lines.insert(number, "    say: Is {first_nam} at home? They are in arrears.")
    lines = [line for line in lines if "say: Thank you. When would be a good time" not in line]
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (copy / "nl" / "repeat_arrears.yaml").unlink()

    assert main(["scripts", "check", str(copy)]) == 1
    captured = capsys.readouterr()
    out = captured.out.splitlines()
    where = f"{target}:{number + 1}:"
    assert any(line.startswith(where) and "unknown placeholder {first_nam}" in line for line in out)
    assert any("may not say 'arrears'" in line for line in out)
    assert any("there is no 'nl' version of script 'repeat_arrears'" in line for line in out)
    assert "problems found" in captured.err


def test_check_missing_directory_is_bad_usage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scripts", "check", str(tmp_path / "nope")]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_scripts_without_action_is_bad_usage(capsys: pytest.CaptureFixture[str]) -> None:
    try:
        code = main(["scripts"])
    except SystemExit as exit_:  # older main() let argparse exit
        code = exit_.code  # type: ignore[assignment]
    assert code == 2
    assert "required: ACTION" in capsys.readouterr().err


def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scripts", "list", "--lang", "nl"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 9 and all(line.startswith("nl  ") for line in out)
    assert any("first_time_arrears" in line and "Eerste betaalachterstand" in line for line in out)
    assert main(["scripts", "list"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 18


def test_list_with_broken_scripts_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / "scripts"
    shutil.copytree(SHIPPED, copy)
    (copy / "en" / "inbound_call.yaml").write_text("id: [\n", encoding="utf-8")
    assert main(["scripts", "list", str(copy)]) == 1
    assert "scripts check" in capsys.readouterr().err
