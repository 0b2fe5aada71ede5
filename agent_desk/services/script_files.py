"""Reading call scripts from disk: one file, a ``<lang>/<id>.yaml`` folder, or the
whole set as a checked :class:`ScriptLibrary`. The only part of the scripts that
touches files; the format, reader and checker are in :mod:`agent_desk.domain.scripts`."""

from __future__ import annotations

from pathlib import Path

from agent_desk.domain.scripts.library import ScriptLibrary, check_texts
from agent_desk.domain.scripts.model import Script, ScriptFormatError, ScriptProblem
from agent_desk.domain.scripts.reader import parse_script
from agent_desk.domain.scripts.vocabulary import LANGUAGES


def load_script_file(
    path: Path, *, language: str | None = None
) -> tuple[Script | None, list[ScriptProblem]]:
    """Read and check one script file."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None, [ScriptProblem(str(path), None, "the file is not UTF-8 text")]
    except OSError as error:
        return None, [ScriptProblem(str(path), None, f"cannot read the file: {error.strerror}")]
    return parse_script(text, path=str(path), language=language, expected_id=path.stem)


def check_directory(directory: Path) -> tuple[ScriptLibrary, list[ScriptProblem]]:
    """Read every ``<lang>/<id>.yaml`` under ``directory`` and check the whole set.

    Besides each file's own rules: both languages exist, they hold the same script
    ids, and every script the chooser needs is there (:func:`check_texts`).
    """
    problems: list[ScriptProblem] = []
    texts: dict[str, dict[str, tuple[str, str]]] = {}
    for language in LANGUAGES:
        folder = directory / language
        if not folder.is_dir():
            continue
        by_id = texts.setdefault(language, {})
        for odd in sorted(folder.iterdir()):
            if odd.suffix in (".yml", ".toml", ".json"):
                problems.append(ScriptProblem(str(odd), None, "script files must end in .yaml"))
        for path in sorted(folder.glob("*.yaml")):
            try:
                by_id[path.stem] = (str(path), path.read_text(encoding="utf-8"))
            except UnicodeDecodeError:
                problems.append(ScriptProblem(str(path), None, "the file is not UTF-8 text"))
            except OSError as error:
                problems.append(
                    ScriptProblem(str(path), None, f"cannot read the file: {error.strerror}")
                )
    library, found = check_texts(texts, root=str(directory))
    return library, problems + found


def load_library(directory: Path) -> ScriptLibrary:
    """Load a whole script set; raises :class:`ScriptFormatError` if anything is wrong."""
    library, problems = check_directory(directory)
    if problems:
        raise ScriptFormatError(problems)
    return library
