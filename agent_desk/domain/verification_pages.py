"""What each page of the contact check (F7) offers, decided here, not in the widget.

``domain.verification.VerificationFlow`` holds the decisions; this module answers the
questions the wizard's pages ask about it:

* which step of how many a page is (:func:`step_position`);
* how many details are out of date, for the intro (:func:`freshness_count`);
* which kinds a page lets the agent add, the likeliest first (:data:`ADD_KINDS`);
* whether "the customer will not go through these" is still offered (:func:`can_refuse_all`);
* which channel the file shows as preferred (:func:`shown_channel`): the customer's own
  setting, else the channel of the contact point the file marks preferred;
* which channel to save (:func:`channel_to_save`): none when the agent left the shown
  one as it was, so saving does not move "preferred" to another number.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from agent_desk.domain.verification import (
    Channel,
    ContactKind,
    ContactPreferences,
    FlowStep,
    ItemView,
    VerificationFlow,
)

__all__ = [
    "ADD_KINDS",
    "CHANNEL_OF_KIND",
    "PAGE_ORDER",
    "MarkedPoint",
    "can_refuse_all",
    "channel_to_save",
    "freshness_count",
    "shown_channel",
    "step_position",
]

#: The wizard's pages in order (``DONE`` is no page).
PAGE_ORDER: tuple[FlowStep, ...] = (
    FlowStep.INTRO,
    FlowStep.PHONES,
    FlowStep.EMAILS,
    FlowStep.ADDRESSES,
    FlowStep.DATE_OF_BIRTH,
    FlowStep.PREFERENCES,
    FlowStep.SUMMARY,
)
#: What a contact page lets the agent add; the first is chosen (a new number is mostly a mobile).
ADD_KINDS: dict[FlowStep, tuple[ContactKind, ...]] = {
    FlowStep.PHONES: (ContactKind.MOBILE, ContactKind.PHONE),
    FlowStep.EMAILS: (ContactKind.EMAIL,),
    FlowStep.ADDRESSES: (ContactKind.ADDRESS,),
}
#: The channel a contact point of a kind is reached by.
CHANNEL_OF_KIND: dict[str, Channel] = {
    ContactKind.MOBILE.value: Channel.PHONE,
    ContactKind.PHONE.value: Channel.PHONE,
    ContactKind.EMAIL.value: Channel.EMAIL,
    ContactKind.ADDRESS.value: Channel.LETTER,
}


class MarkedPoint(Protocol):
    """A contact point as the customer file shows it."""

    @property
    def kind(self) -> str: ...

    @property
    def preferred(self) -> bool: ...

    @property
    def invalid(self) -> bool: ...


def step_position(step: FlowStep) -> tuple[int, int] | None:
    """(number, total) of a page, from 1; None for a step that is no page."""
    if step not in PAGE_ORDER:
        return None
    return PAGE_ORDER.index(step) + 1, len(PAGE_ORDER)


def freshness_count(flow: VerificationFlow) -> tuple[int, int]:
    """(out of date or never checked, all) of the details the check goes through."""
    items = flow.items(FlowStep.SUMMARY)
    return sum(1 for view in items if view.stale), len(items)


def can_refuse_all(items: Sequence[ItemView]) -> bool:
    """A page can be refused as a whole while something on it is undecided."""
    return any(view.decision is None for view in items)


def shown_channel(preferences: ContactPreferences, points: Iterable[MarkedPoint]) -> str | None:
    """The one preferred channel, as the file shows it: the customer's setting, else
    the channel of the valid contact point the file marks "(preferred)"."""
    if preferences.preferred_channel:
        return preferences.preferred_channel.value
    for point in points:
        if point.preferred and not point.invalid and point.kind in CHANNEL_OF_KIND:
            return CHANNEL_OF_KIND[point.kind].value
    return None


def channel_to_save(
    chosen: str | None, loaded: str | None, preferences: ContactPreferences
) -> str | None:
    """The chosen channel; None when it is the file's, shown and not changed: saving
    then leaves it as it is (choosing it anew could move "preferred" to another
    number)."""
    if chosen == loaded and preferences.preferred_channel is None:
        return None
    return str(chosen) if chosen else None
