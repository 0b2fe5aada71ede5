"""All letter text, in Dutch and English, at B1 level.

Each letter kind has a ``TEMPLATE_VERSION``: raise it whenever the wording of that kind
changes, so the record of a sent letter says which text the customer received.

Strings are ``str.format`` templates in reportlab paragraph markup. Only ``<b>`` is
used as markup here; every value filled in comes from data and is escaped by the
renderer (see ``style.fill``), so data can never add markup.

Legal wording that must not be paraphrased:

* 14-day letter (art. 6:96 lid 6 BW): "binnen 14 dagen na de dag waarop u deze brief
  ontvangt", English "within 14 days after the day on which you receive this letter".
* VAT on collection costs: say the creditor cannot deduct (verrekenen) the VAT.

Why this is one room at ~600 lines: four fifths of it is the letter copy itself, the
Dutch beside the English of every text, kept together so a wording change and its
``TEMPLATE_VERSION`` bump land in one reviewed place (and a translator sees both
languages at once). The rest is what that copy needs to be used: merging the team's
own texts over it, and checking a team's text against the shipped one (the same
tables, keys and placeholders). Splitting the copy by letter kind would scatter the
common texts and the version table; the renderer reads none of it but through
:func:`texts` and :func:`common`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final, cast

from agent_desk.errors import NotFoundError
from agent_desk.letters.data import Language, LetterKind

TEMPLATE_VERSION: Final[dict[LetterKind, str]] = {
    "arrangement": "1.3",  # 1.1: when an instalment is missed, when the plan ends;
    # 1.2: says when the interest rate of part of the period is not yet confirmed;
    # 1.3: payment link and EPC QR code
    "fourteen_day": "1.2",  # 1.1: lists the claims in default it names; 1.2: payment
    # link, EPC QR code, early-signal offer (if due)
    "pause": "1.0",
    "debt_help": "1.0",
}

#: The exact legal phrase of the 14-day term; tests check it appears verbatim.
FOURTEEN_DAY_TERM: Final[dict[Language, str]] = {
    "nl": "binnen 14 dagen na de dag waarop u deze brief ontvangt",
    "en": "within 14 days after the day on which you receive this letter",
}

Texts = dict[str, str]

COMMON: Final[dict[Language, Texts]] = {
    "nl": {
        "date": "Datum",
        "reference": "Ons kenmerk",
        "agent": "Behandeld door",
        "phone": "Telefoon",
        "email": "E-mail",
        "page": "pagina {page} van {pages}",
        "kvk": "KvK {kvk}",
        "iban": "IBAN",
        "bic": "BIC",
        "salutation": "Beste {name},",
        "closing": "Met vriendelijke groet,",
        "pay_title": "Zo betaalt u",
        "pay_iban": "Rekeningnummer (IBAN)",
        "pay_to": "Ten name van",
        "pay_reference": "Betalingskenmerk",
        "pay_bic": "BIC (voor betalen uit het buitenland)",
        "pay_note": (
            "Vermeld bij elke betaling het betalingskenmerk. "
            "Dan weten wij meteen dat de betaling van u is."
        ),
        "pay_qr": "Scan de code met uw bank-app. Dan staan bedrag en kenmerk er al in.",
        "pay_link": "Of betaal online: {link}",
        "pay_qr_amount": "De code is voor {amount}.",
        "questions_title": "Vragen?",
        "questions_hours": "Bel ons op {phone} ({hours}) of mail naar {email}.",
        "questions_no_hours": "Bel ons op {phone} of mail naar {email}.",
        "questions_reference": "Noem dan uw kenmerk <b>{reference}</b>. We helpen u graag.",
        "help_title": "Gratis hulp bij geldzorgen",
        "help_body": (
            "Heeft u meer schulden, of maakt u zich zorgen over geld? "
            "U hoeft het niet alleen op te lossen. Er is gratis hulp."
        ),
        "help_call": "Bel {name} op {phone}",
        "help_visit": "kijk op {website}",
        "help_or": " of ",
        "help_municipality": "Ook uw gemeente helpt u gratis en in vertrouwen.",
    },
    "en": {
        "date": "Date",
        "reference": "Our reference",
        "agent": "Handled by",
        "phone": "Phone",
        "email": "Email",
        "page": "page {page} of {pages}",
        "kvk": "Chamber of Commerce {kvk}",
        "iban": "IBAN",
        "bic": "BIC",
        "salutation": "Dear {name},",
        "closing": "Kind regards,",
        "pay_title": "How to pay",
        "pay_iban": "Account number (IBAN)",
        "pay_to": "In the name of",
        "pay_reference": "Payment reference",
        "pay_bic": "BIC (for payments from abroad)",
        "pay_note": (
            "Always add the payment reference to your payment. "
            "Then we know straight away that the payment is yours."
        ),
        "pay_qr": "Scan the code with your banking app. The amount and reference are filled in.",
        "pay_link": "Or pay online: {link}",
        "pay_qr_amount": "The code is for {amount}.",
        "questions_title": "Questions?",
        "questions_hours": "Call us on {phone} ({hours}) or email {email}.",
        "questions_no_hours": "Call us on {phone} or email {email}.",
        "questions_reference": (
            "Please mention your reference <b>{reference}</b>. We are happy to help."
        ),
        "help_title": "Free help with money worries",
        "help_body": (
            "Do you have other debts, or are you worried about money? "
            "You do not have to solve it alone. Free help is available."
        ),
        "help_call": "Call {name} on {phone}",
        "help_visit": "visit {website}",
        "help_or": " or ",
        "help_municipality": (
            "Your local council (gemeente) can also help you, free and in confidence."
        ),
    },
}

ARRANGEMENT: Final[dict[Language, Texts]] = {
    "nl": {
        "subject": "Bevestiging van uw betalingsregeling",
        "pay_qr_amount": "De code is voor de eerste termijn: {amount}.",
        "intro": (
            "Bedankt voor ons gesprek. Fijn dat we samen een betalingsregeling hebben gemaakt. "
            "In deze brief leest u wat we hebben afgesproken. Zo heeft u alles op papier."
        ),
        "amount_title": "Het bedrag",
        "amount_intro": "U betaalt in totaal <b>{total}</b>. Dit bedrag bestaat uit:",
        "principal": "Openstaand bedrag",
        "costs": "Incassokosten",
        "interest": "Rente",
        "total": "Totaal",
        "costs_waived": "Incassokosten: u hoeft deze niet te betalen",
        "costs_waived_amount": "Incassokosten van {amount}: u hoeft deze niet te betalen",
        "interest_waived": "Rente: u hoeft geen rente te betalen",
        "interest_waived_amount": "Rente van {amount}: u hoeft deze niet te betalen",
        "interest_provisional": (
            "De wettelijke rente vanaf {date} is berekend met een rentepercentage dat nog "
            "niet is bevestigd. Verandert het, dan passen wij het bedrag aan en laten wij "
            "het u weten."
        ),
        "schedule_title": "Uw betalingen",
        "schedule_intro": (
            "U betaalt dit bedrag in {count} termijnen. Zorg dat elk bedrag uiterlijk "
            "op de datum hieronder op onze rekening staat."
        ),
        "schedule_intro_one": (
            "U betaalt dit bedrag in één keer. "
            "Zorg dat het uiterlijk op {due} op onze rekening staat."
        ),
        "col_number": "Termijn",
        "col_due": "Uiterlijk op",
        "col_amount": "Bedrag",
        "missed_title": "Lukt een betaling niet?",
        "missed_body": (
            "Dat kan gebeuren. Neem dan zo snel mogelijk contact met ons op, "
            "het liefst vóór de datum van de betaling. "
            "Samen zoeken we een oplossing die bij u past."
        ),
        "rule_title": "Wanneer is een termijn gemist?",
        "rule_missed": (
            "Staat een termijn meer dan <b>{days}</b> na de datum in het schema nog niet "
            "helemaal op onze rekening? Dan is die termijn gemist."
        ),
        "rule_missed_zero": (
            "Staat een termijn na de datum in het schema nog niet helemaal op onze rekening? "
            "Dan is die termijn gemist."
        ),
        "day": "{count} dag",
        "days": "{count} dagen",
        "broken_title": "Wanneer stopt de regeling?",
        "broken_rule": (
            "Zijn er <b>{count} termijnen</b> tegelijk gemist? Dan stopt de betalingsregeling."
        ),
        "broken_rule_one": "Is er één termijn gemist? Dan stopt de betalingsregeling.",
        "broken_then": "Wat betekent dat voor u?",
        "broken_ends": "De afspraken in deze brief gelden dan niet meer.",
        "broken_interest": (
            "Over het bedrag dat dan nog openstaat, gaat de wettelijke rente weer lopen."
        ),
        "broken_contact": (
            "Wij zetten niet meteen andere stappen. We nemen eerst contact met u op, "
            "om samen een oplossing te zoeken."
        ),
        "thanks": "Bedankt dat u dit samen met ons oppakt. Wij wensen u veel succes.",
    },
    "en": {
        "subject": "Confirmation of your payment arrangement",
        "pay_qr_amount": "The code is for the first instalment: {amount}.",
        "intro": (
            "Thank you for talking with us. We are glad that we made a payment arrangement "
            "together. This letter tells you what we agreed, so you have it all on paper."
        ),
        "amount_title": "The amount",
        "amount_intro": "In total you pay <b>{total}</b>. This amount is made up of:",
        "principal": "Amount outstanding",
        "costs": "Collection costs",
        "interest": "Interest",
        "total": "Total",
        "costs_waived": "Collection costs: you do not have to pay these",
        "costs_waived_amount": "Collection costs of {amount}: you do not have to pay these",
        "interest_waived": "Interest: you do not have to pay interest",
        "interest_waived_amount": "Interest of {amount}: you do not have to pay this",
        "interest_provisional": (
            "The statutory interest from {date} is calculated at a rate that has not been "
            "confirmed yet. If it changes, we will adjust the amount and let you know."
        ),
        "schedule_title": "Your payments",
        "schedule_intro": (
            "You pay this amount in {count} instalments. Please make sure each amount "
            "is in our account on or before the date below."
        ),
        "schedule_intro_one": (
            "You pay this amount in one go. Please make sure it is in our account "
            "on or before {due}."
        ),
        "col_number": "Instalment",
        "col_due": "Pay by",
        "col_amount": "Amount",
        "missed_title": "Cannot make a payment?",
        "missed_body": (
            "That can happen. Please contact us as soon as you can, ideally before "
            "the payment date. Together we will look for a solution that works for you."
        ),
        "rule_title": "When is an instalment missed?",
        "rule_missed": (
            "If an instalment is not fully in our account more than <b>{days}</b> after its "
            "date in the schedule, it counts as missed."
        ),
        "rule_missed_zero": (
            "If an instalment is not fully in our account after its date in the schedule, "
            "it counts as missed."
        ),
        "day": "{count} day",
        "days": "{count} days",
        "broken_title": "When does the arrangement end?",
        "broken_rule": (
            "If <b>{count} instalments</b> are missed at the same time, the payment "
            "arrangement ends."
        ),
        "broken_rule_one": "If one instalment is missed, the payment arrangement ends.",
        "broken_then": "What does that mean for you?",
        "broken_ends": "The agreements in this letter no longer apply.",
        "broken_interest": (
            "Statutory interest starts to run again on the amount that is still outstanding."
        ),
        "broken_contact": (
            "We will not take other steps straight away. We will contact you first, "
            "to look for a solution together."
        ),
        "thanks": "Thank you for working on this with us. We wish you every success.",
    },
}

FOURTEEN_DAY: Final[dict[Language, Texts]] = {
    "nl": {
        "subject": "Herinnering: betaal binnen 14 dagen zonder extra kosten",
        "intro": "Wij hebben uw betaling nog niet ontvangen.",
        "intro_claim": "Wij hebben uw betaling voor {claim} nog niet ontvangen.",
        "intro_more": "Misschien is het u ontschoten. Dat kan gebeuren.",
        "claims_title": "Om deze rekeningen gaat het",
        "claims_intro": "De datum waarop u deze rekeningen moest betalen, is voorbij.",
        "col_reference": "Kenmerk",
        "col_description": "Omschrijving",
        "col_due": "Vervaldatum",
        "col_amount": "Bedrag",
        "claims_total": "Totaal",
        "later_claims": (
            "U heeft ook rekeningen waarvan de betaaldatum nog niet voorbij is. "
            "Die staan niet in deze brief. Betaal die op tijd."
        ),
        "amount_title": "Wat u nu betaalt",
        "outstanding": "Openstaand bedrag",
        "term_body": (
            "Wilt u {outstanding} betalen <b>{term}</b>? Dan betaalt u geen extra kosten."
        ),
        "costs_title": "Wat gebeurt er als u niet op tijd betaalt?",
        "costs_body": (
            "Betaalt u niet binnen deze 14 dagen? Dan moet u ook incassokosten betalen. "
            "Deze kosten zijn <b>{costs}</b>. U betaalt dan in totaal {total}:"
        ),
        "costs": "Incassokosten",
        "vat": "Btw over de incassokosten",
        "total_if_unpaid": "Totaal als u niet op tijd betaalt",
        "vat_statement": (
            "Wij rekenen btw over de incassokosten, omdat wij deze btw niet kunnen verrekenen."
        ),
        "partial": (
            "Betaalt u binnen deze 14 dagen een deel? Dan rekenen we de incassokosten alleen "
            "over het bedrag dat daarna nog openstaat."
        ),
        "cant_pay_title": "Kunt u niet (alles) betalen?",
        "cant_pay_body": (
            "Neem dan binnen deze 14 dagen contact met ons op. Samen kijken we wat wél kan, "
            "bijvoorbeeld betalen in delen."
        ),
        "already_paid": "Heeft u al betaald? Dan hoeft u niets te doen. Bedankt!",
        "signal_title": "Hulp van uw gemeente",
        "signal_body": (
            "Wij willen u graag helpen. Daarom geven wij uw naam, adres, telefoonnummer, "
            "e-mailadres en het bedrag dat openstaat door aan uw gemeente. Dat doen we "
            "alleen als de achterstand blijft. De gemeente neemt dan contact met u op en "
            "biedt u gratis hulp aan. U beslist zelf of u die hulp wilt."
        ),
        "signal_object": (
            "Wilt u niet dat wij uw gegevens doorgeven? Dan mag u dat zeggen. Bel of mail "
            "ons binnen {days} dagen, of schrijf ons. Wij geven uw gegevens dan niet door."
        ),
        "signal_law": ("Dit staat in de Wet gemeentelijke schuldhulpverlening (vroegsignalering)."),
    },
    "en": {
        "subject": "Reminder: pay within 14 days without extra costs",
        "intro": "We have not yet received your payment.",
        "intro_claim": "We have not yet received your payment for {claim}.",
        "intro_more": "Perhaps it slipped your mind. That can happen.",
        "claims_title": "The bills this letter is about",
        "claims_intro": "The date by which you had to pay these bills has passed.",
        "col_reference": "Reference",
        "col_description": "Description",
        "col_due": "Due date",
        "col_amount": "Amount",
        "claims_total": "Total",
        "later_claims": (
            "You also have bills whose payment date has not passed yet. "
            "They are not in this letter. Please pay them on time."
        ),
        "amount_title": "What you pay now",
        "outstanding": "Amount outstanding",
        "term_body": ("Please pay {outstanding} <b>{term}</b>. Then you pay no extra costs."),
        "costs_title": "What happens if you do not pay in time?",
        "costs_body": (
            "If you do not pay within these 14 days, you will also have to pay collection "
            "costs. These costs are <b>{costs}</b>. You will then pay {total} in total:"
        ),
        "costs": "Collection costs",
        "vat": "VAT on the collection costs",
        "total_if_unpaid": "Total if you do not pay in time",
        "vat_statement": (
            "We charge VAT on the collection costs because we cannot deduct this VAT."
        ),
        "partial": (
            "If you pay part of it within these 14 days, we only charge collection costs "
            "on the amount that is still outstanding after that."
        ),
        "cant_pay_title": "Cannot pay (all of) it?",
        "cant_pay_body": (
            "Please contact us within these 14 days. Together we will look at what is "
            "possible, for example paying in parts."
        ),
        "already_paid": "Have you already paid? Then you do not need to do anything. Thank you!",
        "signal_title": "Help from your local council",
        "signal_body": (
            "We want to help you. That is why we pass your name, address, phone number, "
            "e-mail address and the amount still open to your local council (gemeente). We "
            "only do this if the arrears remain. The council will then contact you and offer "
            "you free help. You decide yourself whether you want that help."
        ),
        "signal_object": (
            "Do you not want us to pass on your details? You may say so. Call or email us "
            "within {days} days, or write to us. We will then not pass on your details."
        ),
        "signal_law": (
            "This is set out in the Dutch Municipal Debt Assistance Act (early signalling)."
        ),
    },
}

PAUSE: Final[dict[Language, Texts]] = {
    "nl": {
        "subject": "We zetten de incasso tijdelijk stil",
        "intro": (
            "Bedankt voor ons gesprek. Zoals afgesproken zetten we de incasso "
            "tijdelijk stil. Zo heeft u even rust."
        ),
        "what_title": "Wat betekent dit?",
        "what_body": (
            "Tot en met <b>{until}</b> sturen wij u geen herinneringen of aanmaningen. "
            "We zetten in die tijd ook geen andere stappen, zoals het stoppen van onze diensten."
        ),
        "reason_title": "Waarom?",
        "reason_body": "De reden van deze pauze: {reason}",
        "after_title": "En daarna?",
        "after_body": (
            "Vóór {until} nemen wij contact met u op. Dan kijken we samen hoe het verder gaat. "
            "Verandert er eerder iets in uw situatie? Laat het ons dan weten."
        ),
        "note": (
            "Let op: het bedrag dat openstaat, blijft wel openstaan. "
            "Lukt het u om in deze tijd toch iets te betalen? Dat mag altijd."
        ),
    },
    "en": {
        "subject": "We are pausing collection for a while",
        "intro": (
            "Thank you for talking with us. As agreed, we are pausing collection "
            "for a while, to give you some breathing space."
        ),
        "what_title": "What does this mean?",
        "what_body": (
            "Until and including <b>{until}</b> we will not send you reminders or demands "
            "for payment. We will also take no other steps in that time, "
            "such as stopping our service."
        ),
        "reason_title": "Why?",
        "reason_body": "The reason for this pause: {reason}",
        "after_title": "And after that?",
        "after_body": (
            "Before {until} we will contact you to look at the next steps together. "
            "Does something change for you before then? Please let us know."
        ),
        "note": (
            "Please note: the amount outstanding still needs to be paid. "
            "If you can pay something during this time, you are always welcome to."
        ),
    },
}

DEBT_HELP: Final[dict[Language, Texts]] = {
    "nl": {
        "subject": "Gratis hulp bij geldzorgen",
        "intro": (
            "Bedankt voor ons gesprek. U vertelde ons dat het nu moeilijk is om alle "
            "rekeningen te betalen. Dat is vervelend. U staat er niet alleen voor: "
            "er is gratis hulp."
        ),
        "where_title": "Hier kunt u terecht",
        "phone": "Telefoon",
        "website": "Website",
        "email": "E-mail",
        "address": "Adres",
        "what_title": "Wat doet een hulpverlener?",
        "what_body": (
            "Een hulpverlener kijkt samen met u naar uw inkomen, uw vaste lasten en uw "
            "schulden. Samen maakt u een plan. De hulp is gratis en in vertrouwen. "
            "Ook uw gemeente kan u helpen."
        ),
        "outstanding": (
            "Neem deze brief mee naar uw afspraak. Bij ons staat nog <b>{amount}</b> open "
            "onder kenmerk {reference}."
        ),
        "us_title": "Wat doen wij?",
        "us_body": (
            "Krijgt u hulp? Laat het ons weten. Dan stemmen we onze afspraken af met u en "
            "met uw hulpverlener. Wij werken graag mee aan een oplossing."
        ),
    },
    "en": {
        "subject": "Free help with money worries",
        "intro": (
            "Thank you for talking with us. You told us that it is hard to pay all your "
            "bills at the moment. We are sorry to hear that. You are not on your own: "
            "free help is available."
        ),
        "where_title": "Where to get help",
        "phone": "Phone",
        "website": "Website",
        "email": "Email",
        "address": "Address",
        "what_title": "What does a debt adviser do?",
        "what_body": (
            "A debt adviser looks at your income, your fixed costs and your debts together "
            "with you. Together you make a plan. The help is free and confidential. "
            "Your local council (gemeente) can also help you."
        ),
        "outstanding": (
            "Take this letter with you to your appointment. With us, <b>{amount}</b> is "
            "still outstanding under reference {reference}."
        ),
        "us_title": "What do we do?",
        "us_body": (
            "Are you getting help? Please let us know. Then we will agree our arrangements "
            "with you and your adviser. We are happy to work towards a solution."
        ),
    },
}

BY_KIND: Final[dict[LetterKind, dict[Language, Texts]]] = {
    "arrangement": ARRANGEMENT,
    "fourteen_day": FOURTEEN_DAY,
    "pause": PAUSE,
    "debt_help": DEBT_HELP,
}


def texts(
    kind: LetterKind, language: Language, overrides: Mapping[str, str] | None = None
) -> Texts:
    """The letter's own text merged over the common text for that language, with the
    team's texts (``overrides``, by ``group.key``) over the shipped ones."""
    merged = {**common(language, overrides), **BY_KIND[kind][language]}
    for name, value in (overrides or {}).items():
        group, _, key = name.partition(".")
        if group == kind and key in merged:
            merged[key] = value
    return merged


def common(language: Language, overrides: Mapping[str, str] | None = None) -> Texts:
    merged = dict(COMMON[language])
    for name, value in (overrides or {}).items():
        group, _, key = name.partition(".")
        if group == "common" and key in merged:
            merged[key] = value
    return merged


def template_version(kind: LetterKind, overrides: Mapping[str, str] | None = None) -> str:
    """The text's version; ``+team`` when the team's own texts replaced some of it."""
    mine = [n for n in overrides or {} if n.partition(".")[0] in (kind, "common")]
    return f"{TEMPLATE_VERSION[kind]}+team" if mine else TEMPLATE_VERSION[kind]


# ------------------------------------------------------------------ the team's texts

#: ``"<language>/<group>.<key>"``: a group is ``common`` or a letter kind.
_TEAM_KEY = re.compile(r"^(nl|en)/([a-z_]+)\.([a-z_]+)$")
_FIELD = re.compile(r"\{([^{}]*)\}")
_TAG = re.compile(r"<[^>]*>")
MAX_TEXT = 2000
_GROUPS: Final[dict[str, dict[Language, Texts]]] = {"common": COMMON, **dict(BY_KIND.items())}


def _split(team_key: str) -> tuple[Language, str, str]:
    match = _TEAM_KEY.match(team_key)
    if match is None:
        raise NotFoundError(
            "There is no letter text '{key}'; a key looks like nl/fourteen_day.term_body.",
            key=team_key,
        )
    language = cast(Language, match.group(1))
    group, key = match.group(2), match.group(3)
    table = _GROUPS.get(group)
    if table is None or key not in table[language]:
        raise NotFoundError(
            "There is no letter text '{key}'; a key looks like nl/fourteen_day.term_body.",
            key=team_key,
        )
    return language, group, key


def shipped_text(team_key: str) -> str:
    language, group, key = _split(team_key)
    return _GROUPS[group][language][key]


def team_keys() -> list[str]:
    """Every letter text a team may override."""
    keys = []
    languages: tuple[Language, ...] = ("nl", "en")
    for language in languages:
        for group, table in _GROUPS.items():
            keys += [f"{language}/{group}.{k}" for k in table[language]]
    return keys


def _fields(value: str) -> list[str]:
    return _FIELD.findall(value)


def check_text(team_key: str, value: str) -> list[tuple[int | None, str]]:
    """Why a team's text for ``team_key`` cannot be used (line, reason); [] if it can.

    The text keeps the shipped text's placeholders (a letter must still say the
    amount, the date, the legal term), uses no markup but ``<b>`` and stays short.
    """
    try:
        shipped = shipped_text(team_key)
    except NotFoundError as error:
        return [(None, str(error))]
    problems: list[tuple[int | None, str]] = []
    if not value.strip():
        return [(1, "the text is empty")]
    if len(value) > MAX_TEXT:
        problems.append((None, f"the text is longer than {MAX_TEXT} characters"))
    wanted = sorted(set(_fields(shipped)))
    for number, line in enumerate(value.splitlines() or [value], start=1):
        for name in _fields(line):
            if name not in wanted:
                listed = ", ".join("{" + w + "}" for w in wanted) or "none"
                problems.append(
                    (number, f"unknown placeholder {{{name}}}; this text may use: {listed}")
                )
        for tag in _TAG.findall(line):
            if tag not in ("<b>", "</b>"):
                problems.append((number, f"markup {tag} is not allowed; only <b>…</b> is"))
        stray = _FIELD.sub("", line)
        if "{" in stray or "}" in stray:
            problems.append((number, "a brace { or } without its partner"))
    missing = [w for w in wanted if w not in _fields(value)]
    if missing:
        problems.append(
            (None, "the placeholder " + ", ".join("{" + m + "}" for m in missing) + " is missing")
        )
    if value.count("<b>") != value.count("</b>"):
        problems.append((None, "every <b> needs its </b>"))
    return problems
