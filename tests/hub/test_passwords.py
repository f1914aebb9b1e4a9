"""The argon2 cost a process holds accounts to: what new hashes are made at, what a login rehashes
weaker ones to, and what an unknown username's dummy hash costs. The tests that change the held
cost take ``standard_argon2`` (tests/conftest.py), which puts the session's back after them."""

from __future__ import annotations

import argon2
import pytest

from hub.auth import passwords
from hub.auth.passwords import CHEAP, STANDARD, Argon2Cost

PASSWORD = "correct-horse-battery"


def cost_of(stored: str) -> Argon2Cost:
    parameters = argon2.extract_parameters(stored)
    return Argon2Cost(time_cost=parameters.time_cost, memory_kib=parameters.memory_cost)


def test_production_holds_to_owasps_minimum_and_tests_to_the_cheap_cost() -> None:
    assert Argon2Cost(time_cost=2, memory_kib=19 * 1024) == STANDARD
    assert CHEAP.memory_kib < STANDARD.memory_kib
    assert passwords.held_cost() == CHEAP  # tests/conftest.py: the in-process hubs of tests


@pytest.mark.parametrize("cost", [STANDARD, CHEAP])
def test_hashes_rehash_and_dummy_follow_the_held_cost(standard_argon2: Argon2Cost, cost: Argon2Cost) -> None:
    other = CHEAP if cost == STANDARD else STANDARD
    passwords.hold_accounts_to(cost)
    made = passwords.hash_password(PASSWORD)
    assert cost_of(made) == cost
    assert cost_of(passwords.dummy_hash()) == cost
    assert not passwords.needs_rehash(made)
    passwords.hold_accounts_to(other)
    assert passwords.needs_rehash(made)  # a login rehashes it to the cost held now
    assert passwords.verify_password(made, PASSWORD)  # and still lets its owner in first
    assert cost_of(passwords.dummy_hash()) == other


def test_fast_hashes_are_cheap_whatever_is_held(standard_argon2: Argon2Cost) -> None:
    passwords.hold_accounts_to(STANDARD)
    assert cost_of(passwords.hash_password(PASSWORD, fast=True)) == CHEAP


def test_hold_returns_what_was_held(standard_argon2: Argon2Cost) -> None:
    first = passwords.hold_accounts_to(CHEAP)
    assert first == STANDARD  # the fixture's
    assert passwords.hold_accounts_to(first) == CHEAP
    assert passwords.held_cost() == first
