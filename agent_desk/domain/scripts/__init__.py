"""Call scripts: the format, its reader and checker, the chooser and the runner.

Scripts are data (YAML files in ``resources/scripts/<lang>/<id>.yaml``, described in
``resources/scripts/README.md``). The package turns them into immutable
:class:`Script` objects and checks the rules a supervisor must not break when editing
them, most importantly *identity before disclosure*: nothing about money or debt may
be said before a step marked ``identity_confirmed: true``, and *ask only what the desk
can check*: a step that asks the caller to identify lists its ``checks`` (the details
the desk holds and shows the agent to compare with), and says what it asks instead
(``if_not_stored``) for a customer whose file lacks one of them.

One job a module:

- :mod:`.vocabulary` — what a script may say, ask and record (placeholders, outcome
  codes, identity checks, fields);
- :mod:`.model` — the immutable script, step and choice, and a file's problems;
- :mod:`.reader` — one script's YAML text into a :class:`Script`;
- :mod:`.checker` — the rules a readable script must keep;
- :mod:`.library` — a whole set: by language and id, checked as one;
- :mod:`.render` — a step's texts filled in for one customer;
- :mod:`.chooser` — which script fits the customer, and why;
- :mod:`.runner` — one walk through a script and what it recorded.

All of it is pure: reading the files from disk is
:mod:`agent_desk.services.script_files`. The names below are re-exported for
callers that take the package as one; new code imports from the module.
"""

from __future__ import annotations

from agent_desk.domain.scripts.checker import check_script, reachable_steps
from agent_desk.domain.scripts.chooser import (
    PRICE_TRIGGERS,
    ChoiceReason,
    CustomerSituation,
    ScriptChoice,
    choose_script,
)
from agent_desk.domain.scripts.library import ScriptLibrary, check_texts
from agent_desk.domain.scripts.model import (
    Choice,
    IdentityQuestion,
    Script,
    ScriptFormatError,
    ScriptProblem,
    Step,
)
from agent_desk.domain.scripts.reader import parse_script
from agent_desk.domain.scripts.render import (
    RenderedChoice,
    RenderedStep,
    ScriptContext,
    identity_question,
    placeholders_in,
    render_step,
    render_text,
)
from agent_desk.domain.scripts.runner import (
    ScriptOutcome,
    ScriptRun,
    parse_day,
    parse_field_value,
)
from agent_desk.domain.scripts.vocabulary import (
    ACTIONS,
    DISCLOSURE_PLACEHOLDERS,
    DISCLOSURE_WORDS,
    IDENTITY_CHECKS,
    LANGUAGES,
    NOT_ON_FILE_WORDS,
    OUTCOME_CODES,
    PLACEHOLDERS,
    PRE_IDENTITY_FIELDS,
    PRE_IDENTITY_OUTCOMES,
    RECORD_FIELDS,
    REQUIRED_SCRIPT_IDS,
    FieldKind,
    IdentityCheck,
    RecordValue,
    checks_asked,
    not_on_file_asked,
)

__all__ = [
    "ACTIONS",
    "DISCLOSURE_PLACEHOLDERS",
    "DISCLOSURE_WORDS",
    "IDENTITY_CHECKS",
    "LANGUAGES",
    "NOT_ON_FILE_WORDS",
    "OUTCOME_CODES",
    "PLACEHOLDERS",
    "PRE_IDENTITY_FIELDS",
    "PRE_IDENTITY_OUTCOMES",
    "PRICE_TRIGGERS",
    "RECORD_FIELDS",
    "REQUIRED_SCRIPT_IDS",
    "Choice",
    "ChoiceReason",
    "CustomerSituation",
    "FieldKind",
    "IdentityCheck",
    "IdentityQuestion",
    "RecordValue",
    "RenderedChoice",
    "RenderedStep",
    "Script",
    "ScriptChoice",
    "ScriptContext",
    "ScriptFormatError",
    "ScriptLibrary",
    "ScriptOutcome",
    "ScriptProblem",
    "ScriptRun",
    "Step",
    "check_script",
    "check_texts",
    "checks_asked",
    "choose_script",
    "identity_question",
    "not_on_file_asked",
    "parse_day",
    "parse_field_value",
    "parse_script",
    "placeholders_in",
    "reachable_steps",
    "render_step",
    "render_text",
]
