"""Names shown on public boards read as what they are (#13): look-alikes of an existing user,
team or system are refused, control and text-direction characters too, on both databases."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from palmares.campaigns import accounts, add_user, create_system
from palmares.campaigns.names import clean_card, clean_user_name, name_keys
from palmares.core import InputError
from palmares.store import System, Team

PASSWORD = "a long passphrase"


def sign_up(db: sessionmaker[Session], name: str, password: str, team: str) -> None:
    """Sign-up as the page does, without its per-address throttle (tested elsewhere)."""
    accounts.sign_up(db, name, password, team, per_hour=10_000)


@pytest.mark.parametrize(
    "twin",
    [
        "Premier choix\u200b",  # trailing zero-width space (the probe's row)
        "premier choix",  # case
        "Premier  choix",  # two spaces
        "\u202ePremier choix",  # right-to-left override
        "Premier choix\u00a0",  # no-break space
        "Pr\u0435mier choix",  # Cyrillic е
        "Premier cho\u0131x",  # dotless ı
        "Premier ch\u043eix",  # Cyrillic о
        "Premier cho\u0456x",  # Cyrillic і
        "ＰＲＥＭＩＥＲ ＣＨＯＩＸ",  # fullwidth
        "Premie\u0433 choix",  # Cyrillic г (looks like r)
    ],
)
def test_a_team_that_looks_like_an_existing_one_is_refused(
    db: sessionmaker[Session], twin: str
) -> None:
    sign_up(db, "alice", PASSWORD, "Premier choix")
    with pytest.raises(InputError) as refused:
        sign_up(db, "bob", PASSWORD, twin)
    assert refused.value.field == "team"
    with db() as s:
        assert s.scalar(select(Team.name).where(Team.name == twin)) is None
        assert len(s.scalars(select(Team)).all()) == 1


def test_names_that_only_look_close_are_distinct(db: sessionmaker[Session]) -> None:
    sign_up(db, "alice", PASSWORD, "Premier choix")
    for i, other in enumerate(["Premier choix 2", "Première choix", "Dernier choix", "lab-i"]):
        sign_up(db, f"user{i}", PASSWORD, other)
    assert set(name_keys("lab-i")).isdisjoint(name_keys("lab-l"))  # small i and l differ
    assert name_keys("lab-I")[1] == name_keys("lab-l")[1]  # a capital I looks like an l
    with pytest.raises(InputError):
        sign_up(db, "user9", PASSWORD, "LAB-I")


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("bad\x00team", "control"),
        ("bell\x07", "control"),
        ("\u202eevil", "text-direction"),
        ("zero\u200bwidth", "invisible"),
        ("line\u2028break", "line break"),
        ("tab\tname", "control"),
    ],
)
def test_control_and_bidi_characters_are_refused(
    db: sessionmaker[Session], value: str, problem: str
) -> None:
    with pytest.raises(InputError, match=problem) as refused:
        sign_up(db, "carol", PASSWORD, value)
    assert refused.value.field == "team"
    assert "U+" in str(refused.value)  # the code point is named: the character may be invisible
    with pytest.raises(InputError):
        add_user(db, "dave", "participant", team=value)
    with db() as s:
        assert s.scalars(select(Team)).all() == []


def test_names_are_nfc_normalised(db: sessionmaker[Session]) -> None:
    decomposed = "E\u0301quipe"  # É as E + combining acute
    sign_up(db, "eve", PASSWORD, decomposed)
    with db() as s:
        assert s.scalar(select(Team.name)) == "\u00c9quipe"
    with pytest.raises(InputError):
        sign_up(db, "frank", PASSWORD, "\u00c9quipe")


def test_user_names_follow_the_documented_pattern(db: sessionmaker[Session]) -> None:
    for bad in ["with space", "bang!", "-dash", "dot.", "", "a" * 101]:
        with pytest.raises(InputError) as refused:
            sign_up(db, bad, PASSWORD, f"team {len(bad)}")
        assert refused.value.field == "name"
    assert clean_user_name("élodie.m_2") == "élodie.m_2"
    sign_up(db, "olga", PASSWORD, "t1")
    with pytest.raises(InputError, match="looks like"):
        add_user(db, "OLGA", "organiser")
    with pytest.raises(InputError):
        sign_up(db, "o1ga", PASSWORD, "t2")  # digit one for l


def test_systems_and_model_cards(db: sessionmaker[Session]) -> None:
    token = add_user(db, "alice", "participant", team="lab-a")
    create_system(db, token, "Mistral fin", model_card={"licence": "Apache-2.0"})
    with pytest.raises(InputError, match="looks like"):
        create_system(db, token, "mistr\u0430l fin")  # Cyrillic а
    with pytest.raises(InputError) as refused:
        create_system(db, token, "other", model_card={"licence": "MIT\x00"})
    assert refused.value.field == "model_card.licence"
    with pytest.raises(InputError) as refused:
        create_system(db, token, "other", description="ok\u202e")
    assert refused.value.field == "description"
    create_system(db, token, "two", description="line one\nline two", model_card={"n": 3})
    other = add_user(db, "bob", "participant", team="lab-b")
    create_system(db, other, "Mistral fin")  # another team may use the same name
    with db() as s:
        assert len(s.scalars(select(System)).all()) == 3
    assert clean_card({"a": [" x ", {"b": "y"}]}) == {"a": ["x", {"b": "y"}]}


def test_concurrent_look_alikes_leave_one(db: sessionmaker[Session]) -> None:
    """Twenty sign-ups at once, each with a look-alike of one team name: one team is created,
    the others are refused as input errors (the unique key decides, not a 500)."""
    variants = [
        "Équipe rouge",
        "équipe rouge",
        "ÉQUIPE ROUGE",
        "Équipe rouge ",
        "Équipe r\u043euge",
    ] * 4
    barrier = threading.Barrier(len(variants))
    outcomes: list[str] = []

    def one(i: int, team: str) -> None:
        barrier.wait()
        try:
            sign_up(db, f"racer{i}", PASSWORD, team)
            outcomes.append("created")
        except InputError:
            outcomes.append("refused")

    threads = [threading.Thread(target=one, args=(i, t)) for i, t in enumerate(variants)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("created") == 1, outcomes
    with db() as s:
        assert len(s.scalars(select(Team)).all()) == 1


def test_names_made_before_the_keys_are_compared_too(db: sessionmaker[Session]) -> None:
    """Rows from before migration 0012 have no keys (the store does not compute them): their
    names are compared in Python."""
    with db.begin() as s:
        s.add(Team(name="Ancienne équipe"))
    with pytest.raises(InputError, match="Ancienne"):
        sign_up(db, "gina", PASSWORD, "ancienne \u00e9quipe")
    sign_up(db, "gina", PASSWORD, "Nouvelle équipe")
