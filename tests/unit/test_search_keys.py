"""Find anyone: the keys a customer is found by and what a typed query looks up."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from agent_desk.domain.search_keys import (
    Field,
    Key,
    PointFacts,
    Probe,
    customer_keys,
    exact_keys,
    fold,
    name_words,
    phone_prefix,
    probes,
    rank,
    upper_bound,
)


def test_fold_drops_accents_and_case() -> None:
    assert fold("Hüseyin ÇELİK") == "huseyin celik"
    assert fold("Łukasz Ødegaard") == "lukasz odegaard"
    assert fold("Yıldız") == "yildiz"
    assert fold("Straße") == "strasse"
    assert fold("Nguyễn Thị") == "nguyen thi"
    assert fold("Ĳsselstein") == "ijsselstein"


def test_name_words_split_particles_and_join_punctuated_names() -> None:
    assert name_words("Jan D'Souza-de Vries") == ["jan", "d", "souza", "de", "dsouzade", "vries"]
    assert name_words("  ") == []


def test_a_customer_is_found_by_every_identifying_field() -> None:
    keys = customer_keys(
        "C-100234",
        "Hüseyin",
        "Çelik",
        [
            PointFacts("mobile", "+31612345678"),
            PointFacts("phone", "+31301234567"),
            PointFacts("email", "F.Celik@Example.NL"),
            PointFacts("address", "Dorpsstraat 4-2, 1234 AB Ede", "1234 AB", "4-2"),
        ],
        ["INV-2026-0000012"],
    )
    assert keys == {
        Key(Field.CUSTOMER_NUMBER, "c100234"),
        Key(Field.NAME, "huseyin"),
        Key(Field.NAME, "celik"),
        Key(Field.PHONE, "31612345678"),
        Key(Field.PHONE, "31301234567"),
        Key(Field.EMAIL, "f.celik@example.nl"),
        Key(Field.ADDRESS, "1234ab 42"),
        Key(Field.CLAIM_REFERENCE, "inv20260000012"),
    }


def test_phone_numbers_typed_any_way_become_e164_digits() -> None:
    for typed in ("06-12345678", "+31 6 1234 5678", "0031612345678", "(06) 123 456 78"):
        assert phone_prefix(typed) == "31612345678", typed
    assert phone_prefix("06-123") == "316123"  # typing: a prefix
    assert phone_prefix("+44 20") == "4420"
    assert phone_prefix("huseyin") is None
    assert phone_prefix("12") is None


def _fields(query: str) -> dict[Field, Probe]:
    return {p.field: p for p in probes(query)}


def test_a_query_looks_up_only_the_fields_it_can_mean() -> None:
    assert set(_fields("huseyin")) == {Field.NAME, Field.CLAIM_REFERENCE}
    assert _fields("huseyin")[Field.NAME] == Probe(Field.NAME, "huseyin")
    # Several words: the longest drives the index, every word must match.
    assert _fields("hüseyin çel")[Field.NAME] == Probe(Field.NAME, "huseyin", ("cel",))
    assert set(_fields("100234")) == {Field.CUSTOMER_NUMBER, Field.CLAIM_REFERENCE}
    assert _fields("06-12345678")[Field.PHONE].prefix == "31612345678"
    assert _fields("f.celik@exa")[Field.EMAIL].prefix == "f.celik@exa"
    assert _fields("1234 AB 4")[Field.ADDRESS].prefix == "1234ab 4"
    assert _fields("1234ab4")[Field.ADDRESS].prefix == "1234ab 4"
    assert _fields("1234 ab")[Field.ADDRESS].prefix == "1234ab"
    assert _fields("INV-2026-12")[Field.CLAIM_REFERENCE].prefix == "inv202612"
    assert probes("") == probes("  ") == probes("a") == []


def test_only_a_key_stated_in_full_can_find_a_colleague_s_customer() -> None:
    assert exact_keys("hüseyin çelik") == []  # never by name
    assert exact_keys("06-12345678") == [
        Key(Field.CUSTOMER_NUMBER, "0612345678"),
        Key(Field.CLAIM_REFERENCE, "0612345678"),
        Key(Field.PHONE, "31612345678"),
    ]
    assert Key(Field.ADDRESS, "1234ab 4") in exact_keys("1234 AB 4")
    assert not any(k.field is Field.ADDRESS for k in exact_keys("1234 AB"))  # no number
    assert Key(Field.EMAIL, "f.celik@example.nl") in exact_keys("F.Celik@Example.nl")


def test_exact_identifying_matches_rank_before_names_and_prefixes() -> None:
    number = Probe(Field.CUSTOMER_NUMBER, "100234")
    name = Probe(Field.NAME, "jan")
    assert rank(Field.CUSTOMER_NUMBER, "100234", number) == 0
    assert rank(Field.NAME, "jan", name) == 1
    assert rank(Field.CUSTOMER_NUMBER, "1002345", number) == 2
    assert rank(Field.NAME, "jansen", name) == 3


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789 @.+", min_size=1, max_size=12))
def test_the_upper_bound_is_after_every_key_with_the_prefix(prefix: str) -> None:
    bound = upper_bound(prefix)
    assert prefix < bound
    assert prefix + "zzzz" < bound
    assert not bound.startswith(prefix)
