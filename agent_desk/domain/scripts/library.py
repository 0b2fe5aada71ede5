"""A whole script set: the loaded scripts by language and id, and the checks of the
set as one (both languages, the same ids, the scripts the chooser needs)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from agent_desk.domain.scripts.model import Script, ScriptProblem
from agent_desk.domain.scripts.reader import parse_script
from agent_desk.domain.scripts.vocabulary import LANGUAGES, REQUIRED_SCRIPT_IDS
from agent_desk.errors import NotFoundError


class ScriptLibrary:
    """All loaded scripts, by language and id."""

    def __init__(self, scripts: Iterable[Script] = ()) -> None:
        self._scripts: dict[str, dict[str, Script]] = {}
        for script in scripts:
            self._scripts.setdefault(script.language, {})[script.id] = script

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted(self._scripts))

    def for_language(self, language: str) -> Mapping[str, Script]:
        return dict(self._scripts.get(language, {}))

    def ids(self, language: str) -> tuple[str, ...]:
        return tuple(sorted(self._scripts.get(language, {})))

    def get(self, script_id: str, language: str) -> Script:
        try:
            return self._scripts[language][script_id]
        except KeyError:
            raise NotFoundError(
                "There is no '{language}' call script '{script_id}'.",
                language=language,
                script_id=script_id,
            ) from None

    def __iter__(self) -> Iterator[Script]:
        for language in sorted(self._scripts):
            yield from (self._scripts[language][k] for k in sorted(self._scripts[language]))

    def __len__(self) -> int:
        return sum(len(by_id) for by_id in self._scripts.values())


def check_texts(
    texts: Mapping[str, Mapping[str, tuple[str, str]]], *, root: str
) -> tuple[ScriptLibrary, list[ScriptProblem]]:
    """Check a whole script set given as ``{language: {id: (where, text)}}``: each
    script's own rules, both languages, the same ids, the required scripts. The one
    checker for the shipped files and for a team's scripts in the database."""
    problems: list[ScriptProblem] = []
    scripts: list[Script] = []
    for language in LANGUAGES:
        if language not in texts:
            problems.append(
                ScriptProblem(
                    f"{root}/{language}", None, f"the '{language}' scripts folder is missing"
                )
            )
            continue
        for script_id, (where, text) in sorted(texts[language].items()):
            script, found = parse_script(text, path=where, language=language, expected_id=script_id)
            problems.extend(found)
            if script is not None:
                scripts.append(script)
    present = [lang for lang in LANGUAGES if lang in texts]
    for language in present:
        for other in present:
            if other == language:
                continue
            for script_id, (where, _text) in sorted(texts[language].items()):
                if script_id not in texts[other]:
                    problems.append(
                        ScriptProblem(
                            where, 1, f"there is no '{other}' version of script '{script_id}'"
                        )
                    )
        for script_id in REQUIRED_SCRIPT_IDS:
            if script_id not in texts[language]:
                problems.append(
                    ScriptProblem(
                        f"{root}/{language}",
                        None,
                        f"the required script '{script_id}' is missing",
                    )
                )
    return ScriptLibrary(scripts), problems
