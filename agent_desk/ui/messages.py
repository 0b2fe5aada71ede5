"""A domain error's sentence in the desk's language.

The domain raises ``ValidationError`` with an English template and its values
(``"'{value}' is not a valid phone number…", value="0612"``); ``Translator.error``
translates the template through the catalogue and fills in the values, so no sentence
has to be matched back into its parts. (This module used to hold regular-expression
"shapes" for that; they are gone.) ``explain`` stays for callers that pass the error:
hand it the exception, not ``str(error)``.
"""

from __future__ import annotations

from agent_desk.i18n import Translator


def explain(tr: Translator, error: BaseException | str) -> str:
    """``error`` in the desk's language (a plain string is looked up as a message id)."""
    if isinstance(error, BaseException):
        return tr.error(error)
    return tr(error)
