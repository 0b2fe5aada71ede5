"""The contact-verification flow: a UI-independent state machine, like a wizard.

After identity is confirmed, the desk asks whether the customer's contact data is
still right when any of it is older than the policy interval (or was never checked).
The agent asks the customer to *state* each item; nothing is read out. Every
decision is kept in memory; :meth:`VerificationFlow.finish` returns plain change
records that a service applies in one transaction, so nothing is saved half.

The date of birth is checked here too (its own page): it is what call scripts ask
to confirm identity, so the desk must hold it; its rule is ``date_of_birth``'s.

One module on purpose, over the ~600 lines a room should hold: the flow is one state
machine (``VerificationFlow``, about half the file) and the records it returns; the
steps share the flow's state and its page order, and the dialog drives it as a
whole, so splitting it would only scatter one job.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from agent_desk.domain.contact_validation import (
    PostalAddress,
    normalise_email,
    normalise_mobile,
    normalise_phone,
    validate_address,
)
from agent_desk.domain.date_of_birth import parse_date_of_birth
from agent_desk.domain.team_day import local_day
from agent_desk.errors import Phrase, ValidationError
from agent_desk.i18n import N_

SOURCE_CUSTOMER_ON_CALL = "customer stated on call"

#: What the intro page tells the agent (not to be read out as is).
INTRO_TEXT = {
    "nl": (
        "Vraag de klant om zijn telefoonnummers, e-mailadres en adres zelf te noemen. "
        "Lees de gegevens die we hebben niet voor."
    ),
    "en": (
        "Ask the customer to state their phone numbers, e-mail address and postal "
        "address. Do not read out the details we hold."
    ),
}
DEFAULT_INTERVAL_DAYS = 90


class ContactKind(StrEnum):
    PHONE = "phone"
    MOBILE = "mobile"
    EMAIL = "email"
    ADDRESS = "address"


class Channel(StrEnum):
    PHONE = "phone"
    SMS = "sms"
    WHATSAPP = "whatsapp"
    EMAIL = "email"
    LETTER = "letter"


class TimeOfDay(StrEnum):
    MORNING = "morning"
    AFTERNOON = "afternoon"
    EVENING = "evening"


class FlowStep(StrEnum):
    INTRO = "intro"
    PHONES = "phones"
    EMAILS = "emails"
    ADDRESSES = "addresses"
    DATE_OF_BIRTH = "date_of_birth"
    PREFERENCES = "preferences"
    SUMMARY = "summary"
    DONE = "done"


class Decision(StrEnum):
    CONFIRMED = "confirmed"
    CORRECTED = "corrected"
    ADDED = "added"
    MARKED_INVALID = "marked_invalid"
    REFUSED = "refused"


#: Which kinds each wizard page handles.
STEP_KINDS: dict[FlowStep, tuple[ContactKind, ...]] = {
    FlowStep.PHONES: (ContactKind.PHONE, ContactKind.MOBILE),
    FlowStep.EMAILS: (ContactKind.EMAIL,),
    FlowStep.ADDRESSES: (ContactKind.ADDRESS,),
}
_ORDER = (
    FlowStep.INTRO,
    FlowStep.PHONES,
    FlowStep.EMAILS,
    FlowStep.ADDRESSES,
    FlowStep.DATE_OF_BIRTH,
    FlowStep.PREFERENCES,
    FlowStep.SUMMARY,
)


@dataclass(frozen=True)
class ContactPoint:
    """A stored phone number, e-mail address or postal address of the customer."""

    id: int
    kind: ContactKind
    value: str
    verified_at: datetime | None = None
    invalid: bool = False
    address: PostalAddress | None = None


@dataclass(frozen=True)
class VerificationPolicy:
    interval_days: int = DEFAULT_INTERVAL_DAYS


@dataclass(frozen=True)
class ContactPreferences:
    preferred_channel: Channel | None = None
    best_times: frozenset[TimeOfDay] = frozenset()
    consent_sms: bool | None = None
    consent_whatsapp: bool | None = None


def is_stale(point: ContactPoint, now: datetime, policy: VerificationPolicy) -> bool:
    """Never verified, or verified more than ``interval_days`` calendar days ago (the
    team's days, as the team view's count: ``services.team.stale_cutoff``)."""
    if point.verified_at is None:
        return True
    return (local_day(now) - local_day(point.verified_at)).days > policy.interval_days


def stale_points(
    points: Iterable[ContactPoint], now: datetime, policy: VerificationPolicy | None = None
) -> list[ContactPoint]:
    policy = policy or VerificationPolicy()
    return [p for p in points if not p.invalid and is_stale(p, now, policy)]


def needs_verification(
    points: Sequence[ContactPoint], now: datetime, policy: VerificationPolicy | None = None
) -> bool:
    """Whether to prompt: any usable point is stale, or there is no usable point at all."""
    usable = [p for p in points if not p.invalid]
    return not usable or bool(stale_points(usable, now, policy))


@dataclass(frozen=True)
class ContactChange:
    """One decision to apply; ``verified_at`` is ``None`` unless the customer confirmed."""

    decision: Decision
    kind: ContactKind
    point_id: int | None
    value: str
    previous_value: str | None
    address: PostalAddress | None
    reason: str | None
    refused: bool
    verified_at: datetime | None
    verified_by: str
    recorded_at: datetime
    source: str = SOURCE_CUSTOMER_ON_CALL


@dataclass(frozen=True)
class PreferencesChange:
    preferences: ContactPreferences
    recorded_at: datetime
    recorded_by: str
    source: str = SOURCE_CUSTOMER_ON_CALL


@dataclass(frozen=True)
class DateOfBirthChange:
    """The date of birth the customer stated: the same as on file (``CONFIRMED``), a
    different one (``CORRECTED``) or the first one the desk holds (``ADDED``)."""

    decision: Decision
    value: date
    recorded_at: datetime
    recorded_by: str
    source: str = SOURCE_CUSTOMER_ON_CALL


@dataclass(frozen=True)
class DateOfBirthView:
    """What the date-of-birth page shows: is one on file, and what was stated."""

    on_file: date | None
    stated: date | None
    decision: Decision | None


@dataclass(frozen=True)
class VerificationResult:
    changes: list[ContactChange]
    preferences: PreferencesChange
    date_of_birth: DateOfBirthChange | None = None


@dataclass(frozen=True)
class FlowError:
    """The last rejected input: shown beside ``field`` of the item ``point_id``."""

    message: str
    field: str | None
    point_id: int | None


@dataclass
class _Item:
    """A contact point as it stands in the flow (existing or added)."""

    handle: int
    kind: ContactKind
    original: ContactPoint | None
    decision: Decision | None = None
    value: str = ""
    address: PostalAddress | None = None
    reason: str | None = None


@dataclass(frozen=True)
class ItemView:
    """What a wizard page shows for one contact point."""

    handle: int
    kind: ContactKind
    current_value: str
    new_value: str | None
    decision: Decision | None
    stale: bool
    reason: str | None


@dataclass
class VerificationFlow:
    """The wizard's state. Methods raise :class:`ValidationError` and leave ``error`` set.

    Existing points are addressed by their id; added points by the negative handle
    :meth:`add` returns.
    """

    points: Sequence[ContactPoint]
    agent: str
    now: datetime
    policy: VerificationPolicy = field(default_factory=VerificationPolicy)
    preferences: ContactPreferences = field(default_factory=ContactPreferences)
    #: The date of birth on file (``None``: the desk has none yet).
    date_of_birth: date | None = field(default=None, repr=False)
    step: FlowStep = FlowStep.INTRO
    error: FlowError | None = None
    _birth_stated: date | None = field(default=None, init=False, repr=False)
    _items: dict[int, _Item] = field(default_factory=dict, init=False, repr=False)
    _next_handle: int = field(default=-1, init=False, repr=False)
    _result: VerificationResult | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        for point in self.points:
            if point.invalid:
                continue  # already known to be wrong: nothing to ask
            if point.id < 0:
                raise ValueError("contact point ids must not be negative")
            self._items[point.id] = _Item(point.id, point.kind, point)

    # -- reading
    @property
    def needed(self) -> bool:
        return needs_verification(list(self.points), self.now, self.policy)

    def items(self, step: FlowStep | None = None) -> list[ItemView]:
        kinds = STEP_KINDS.get(step or self.step, tuple(ContactKind))
        return [self._view(item) for item in self._items.values() if item.kind in kinds]

    def _view(self, item: _Item) -> ItemView:
        original = item.original
        return ItemView(
            handle=item.handle,
            kind=item.kind,
            current_value=original.value if original else "",
            new_value=item.value or None,
            decision=item.decision,
            stale=original is None or is_stale(original, self.now, self.policy),
            reason=item.reason,
        )

    @property
    def can_go_back(self) -> bool:
        return self.step not in (FlowStep.INTRO, FlowStep.DONE)

    # -- navigation
    def next(self) -> FlowStep:
        self._guard_open()
        if self.step is FlowStep.SUMMARY:
            raise self._fail("Use finish to save the verification.", None)
        if self.step in STEP_KINDS:
            self._check_page_complete(self.step)
        if self.step is FlowStep.PREFERENCES:
            self._check_preferences(self.preferences)
        self.error = None
        self.step = _ORDER[_ORDER.index(self.step) + 1]
        return self.step

    def back(self) -> FlowStep:
        self._guard_open()
        if self.step is FlowStep.INTRO:
            raise self._fail("This is the first step.", None)
        self.error = None
        self.step = _ORDER[_ORDER.index(self.step) - 1]
        return self.step

    # -- decisions on a contact point
    def confirm(self, handle: int) -> None:
        item = self._existing(handle)
        self._set(item, Decision.CONFIRMED, item.original.value if item.original else "")

    def correct(self, handle: int, new_value: str | PostalAddress) -> None:
        item = self._existing(handle)
        value, address = self._validated(item.kind, new_value, handle)
        self._set(item, Decision.CORRECTED, value, address=address)

    def mark_invalid(self, handle: int, reason: str) -> None:
        item = self._existing(handle)
        text = " ".join(reason.split())
        if not text:
            raise self._fail(
                "Say why this is no longer right, e.g. 'number not in use'.", "reason", handle
            )
        self._set(
            item, Decision.MARKED_INVALID, item.original.value if item.original else "", reason=text
        )

    def refuse(self, handle: int) -> None:
        """The customer would not say whether this is still right."""
        item = self._existing(handle)
        self._set(item, Decision.REFUSED, item.original.value if item.original else "")

    def refuse_all(self) -> None:
        """The customer will not go through this page: every open item is refused."""
        self._guard_page()
        for view in self.items():
            item = self._items[view.handle]
            if item.original is not None and item.decision is None:
                item.decision = Decision.REFUSED
                item.value = item.original.value
        self.error = None

    def undo(self, handle: int) -> None:
        """Forget the decision on an existing point, or drop an added one."""
        item = self._item(handle)
        if item.original is None:
            del self._items[handle]
        else:
            item.decision, item.value, item.address, item.reason = None, "", None, None
        self.error = None

    def add(self, kind: ContactKind, value: str | PostalAddress) -> int:
        """A new point the customer states; returns its (negative) handle."""
        self._guard_page()
        if kind not in STEP_KINDS.get(self.step, ()):
            raise self._fail(
                "A new {kind} cannot be added on this page.", "kind", kind=Phrase(_KIND_WORDS[kind])
            )
        normalised, address = self._validated(kind, value, None)
        if any(
            i.value == normalised or (i.original and i.original.value == normalised)
            for i in self._items.values()
            if i.kind is kind
        ):
            raise self._fail(
                "{value} is already in the list.", _field(kind), None, value=normalised
            )
        handle = self._next_handle
        self._next_handle -= 1
        self._items[handle] = _Item(handle, kind, None, Decision.ADDED, normalised, address=address)
        self.error = None
        return handle

    # -- date of birth
    def state_date_of_birth(self, text: str) -> Decision:
        """Record the date of birth the customer states (typed by the agent).

        The same as on file confirms it; another one corrects it; with none on file it
        is added. Optional: the page can be left without one.
        """
        self._guard_open()
        if self.step is not FlowStep.DATE_OF_BIRTH:
            raise self._fail("The date of birth is recorded on its own page.", None)
        try:
            value = parse_date_of_birth(text, self.now.date())
        except ValidationError as error:
            raise self._fail(error.template, error.field, **error.values) from None
        self._birth_stated = value
        self.error = None
        decision = self.birth_view().decision
        assert decision is not None
        return decision

    def undo_date_of_birth(self) -> None:
        self._guard_open()
        self._birth_stated = None
        self.error = None

    def birth_view(self) -> DateOfBirthView:
        stated, on_file = self._birth_stated, self.date_of_birth
        if stated is None:
            decision = None
        elif on_file is None:
            decision = Decision.ADDED
        elif stated == on_file:
            decision = Decision.CONFIRMED
        else:
            decision = Decision.CORRECTED
        return DateOfBirthView(on_file, stated, decision)

    # -- preferences
    def set_preferences(
        self,
        *,
        preferred_channel: Channel | None,
        best_times: Iterable[TimeOfDay] = (),
        consent_sms: bool | None = None,
        consent_whatsapp: bool | None = None,
    ) -> None:
        self._guard_open()
        if self.step is not FlowStep.PREFERENCES:
            raise self._fail("Preferences are set on the preferences page.", None)
        candidate = ContactPreferences(
            preferred_channel=preferred_channel,
            best_times=frozenset(best_times),
            consent_sms=consent_sms,
            consent_whatsapp=consent_whatsapp,
        )
        self._check_preferences(candidate)
        self.preferences = candidate
        self.error = None

    # -- summary and result
    def summary(self) -> list[ItemView]:
        return [self._view(item) for item in self._items.values() if item.decision is not None]

    def finish(self) -> VerificationResult:
        """Produce the change records; only from the summary page, and only once."""
        self._guard_open()
        if self.step is not FlowStep.SUMMARY:
            raise self._fail("Go through every page before finishing.", None)
        for page in STEP_KINDS:
            self._check_page_complete(page)
        self._check_preferences(self.preferences)
        changes = [self._change(item) for item in self._items.values() if item.decision]
        birth = self.birth_view()
        result = VerificationResult(
            changes=changes,
            preferences=PreferencesChange(self.preferences, self.now, self.agent),
            date_of_birth=(
                DateOfBirthChange(birth.decision, birth.stated, self.now, self.agent)
                if birth.decision is not None and birth.stated is not None
                else None
            ),
        )
        self._result = result
        self.step = FlowStep.DONE
        self.error = None
        return result

    @property
    def result(self) -> VerificationResult | None:
        return self._result

    # -- internals
    def _change(self, item: _Item) -> ContactChange:
        assert item.decision is not None
        verified = item.decision in (Decision.CONFIRMED, Decision.CORRECTED, Decision.ADDED)
        return ContactChange(
            decision=item.decision,
            kind=item.kind,
            point_id=item.original.id if item.original else None,
            value=item.value,
            previous_value=item.original.value if item.original else None,
            address=item.address,
            reason=item.reason,
            refused=item.decision is Decision.REFUSED,
            verified_at=self.now if verified else None,
            verified_by=self.agent,
            recorded_at=self.now,
        )

    def _check_page_complete(self, page: FlowStep) -> None:
        for view in self.items(page):
            if view.decision is None:
                raise self._fail(
                    "Ask the customer about {value}: confirm, correct, mark "
                    "it as no longer right, or note that the customer would not say.",
                    "decision",
                    view.handle,
                    value=view.current_value,
                )

    def _check_preferences(self, prefs: ContactPreferences) -> None:
        channel = prefs.preferred_channel
        if channel is Channel.SMS and prefs.consent_sms is not True:
            raise self._fail(
                "SMS can only be the preferred channel with consent for SMS.", "preferred_channel"
            )
        if channel is Channel.WHATSAPP and prefs.consent_whatsapp is not True:
            raise self._fail(
                "WhatsApp can only be the preferred channel with consent for WhatsApp.",
                "preferred_channel",
            )
        needs = {
            Channel.PHONE: (ContactKind.PHONE, ContactKind.MOBILE),
            Channel.SMS: (ContactKind.MOBILE, ContactKind.PHONE),
            Channel.WHATSAPP: (ContactKind.MOBILE, ContactKind.PHONE),
            Channel.EMAIL: (ContactKind.EMAIL,),
            Channel.LETTER: (ContactKind.ADDRESS,),
        }
        if channel is not None and not any(
            item.kind in needs[channel] and item.decision is not Decision.MARKED_INVALID
            for item in self._items.values()
        ):
            raise self._fail(
                "There is no usable {what} for {channel}; add one first or choose another channel.",
                "preferred_channel",
                what=Phrase(_KIND_WORDS[needs[channel][0]]),
                channel=Phrase(_CHANNEL_WORDS[channel]),
            )

    def _validated(
        self, kind: ContactKind, value: str | PostalAddress, handle: int | None
    ) -> tuple[str, PostalAddress | None]:
        try:
            if kind is ContactKind.ADDRESS:
                if not isinstance(value, PostalAddress):
                    raise ValidationError("Enter the address in its parts.", "street")
                address = validate_address(value)
                return address.one_line(), address
            if isinstance(value, PostalAddress):
                raise ValidationError("Enter a {what}.", _field(kind), what=_KIND_WORDS[kind])
            if kind is ContactKind.EMAIL:
                return normalise_email(value), None
            if kind is ContactKind.MOBILE:
                return normalise_mobile(value), None
            return normalise_phone(value), None
        except ValidationError as error:
            self.error = FlowError(str(error), error.field, handle)
            raise

    def _set(
        self,
        item: _Item,
        decision: Decision,
        value: str,
        *,
        address: PostalAddress | None = None,
        reason: str | None = None,
    ) -> None:
        item.decision, item.value, item.address, item.reason = decision, value, address, reason
        self.error = None

    def _existing(self, handle: int) -> _Item:
        self._guard_page()
        item = self._item(handle)
        if item.original is None:
            raise self._fail("This one was just added; undo it to change it.", None, handle)
        if item.kind not in STEP_KINDS[self.step]:
            raise self._fail("That contact point belongs on another page.", None, handle)
        return item

    def _item(self, handle: int) -> _Item:
        self._guard_open()
        try:
            return self._items[handle]
        except KeyError:
            raise self._fail(
                "That contact point is not part of this check.", None, handle
            ) from None

    def _guard_page(self) -> None:
        self._guard_open()
        if self.step not in STEP_KINDS:
            raise self._fail(
                "Contact details are checked on the phone, e-mail and address pages.", None
            )

    def _guard_open(self) -> None:
        if self.step is FlowStep.DONE:
            raise ValidationError("This verification is finished; start a new one.", None)

    def _fail(
        self, message: str, field_name: str | None, handle: int | None = None, **values: Any
    ) -> ValidationError:
        """The error to raise, remembered for the page; ``message`` is an English
        template with ``values`` (so the desk can translate it before filling it in)."""
        error = ValidationError(message, field_name, **values)
        self.error = FlowError(str(error), field_name, handle)
        return error


_KIND_WORDS = {
    ContactKind.PHONE: N_("phone number"),
    ContactKind.MOBILE: N_("mobile number"),
    ContactKind.EMAIL: N_("e-mail address"),
    ContactKind.ADDRESS: N_("postal address"),
}

# The channel as a word inside a sentence ("no usable mobile number for SMS").
_CHANNEL_WORDS = {
    Channel.PHONE: N_("a phone call"),
    Channel.SMS: N_("an SMS"),
    Channel.WHATSAPP: N_("a WhatsApp message"),
    Channel.EMAIL: N_("an e-mail"),
    Channel.LETTER: N_("a letter"),
}


def _field(kind: ContactKind) -> str:
    return {ContactKind.ADDRESS: "street"}.get(kind, kind.value)
