"""The CLI's subcommands are an explicit list (a freezer sees them) and each is real."""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path

import pytest

import agent_desk
from agent_desk import cli
from agent_desk.cli import COMMANDS, build_parser, command_modules, main
from agent_desk.cli._common import DeskArgumentParser

CLI_DIR = Path(cli.__file__).resolve().parent
ROOT = CLI_DIR.parents[1]


def test_the_explicit_list_names_every_cmd_module_present_and_no_other() -> None:
    present = sorted(f"agent_desk.cli.{p.stem}" for p in CLI_DIR.glob("cmd_*.py"))
    assert sorted(command_modules()) == present


def _registered(module_name: str) -> set[str]:
    parser = DeskArgumentParser(prog="agent-desk")
    subparsers = parser.add_subparsers(dest="command")
    importlib.import_module(module_name).register(subparsers)
    return set(subparsers.choices)


@pytest.mark.parametrize("module_name", sorted(set(COMMANDS.values())))
def test_each_module_registers_exactly_the_commands_the_list_gives_it(module_name: str) -> None:
    listed = {name for name, module in COMMANDS.items() if module == module_name}
    assert _registered(module_name) == listed


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert f"    {name} " in out or f"    {name}\n" in out, name


def test_only_the_module_of_the_command_being_run_is_registered() -> None:
    def commands(argv: list[str]) -> set[str]:
        parser = build_parser(argv)
        action = next(a for a in parser._actions if a.dest == "command")
        return set(action.choices or {})

    assert commands(["--lang", "en", "--demo"]) == set()  # the desk opens: no command module
    assert commands(["--database", "sqlite:///x.db", "queue", "--agent", "sanne"]) == {"queue"}
    assert commands(["plan", "--help"]) == {"plan", "fees", "interest"}  # one module, three
    assert commands(["--agent", "queue"]) == set()  # "queue" is the value of --agent here
    assert commands(["nonsense"]) == set(COMMANDS)  # so argparse can list the valid ones


def test_an_unknown_command_is_one_sentence_listing_the_valid_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["nonsense"]) == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'nonsense'" in err
    assert "'queue'" in err and "'letters'" in err


def test_version_prints_the_version_of_the_package(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"agent-desk {agent_desk.__version__}"


def test_the_package_version_is_the_one_in_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["version"] == agent_desk.__version__
