"""A wire error told without the sender's words: only field names the model defines."""

from __future__ import annotations

from wire.codec import MAX_PAYLOAD_BYTES
from wire.message_errors import WireError

KNOWN = frozenset({"device_id", "reader_status", "siblings", "last_seen"})
SENDERS_KEY = "33010619900307001X"  # a key a sender chose: could be an ID number


def test_only_known_field_names_are_repeated() -> None:
    err = WireError(
        "heartbeat",
        [
            ("device_id", "String should match pattern"),
            (f"reader_status.{SENDERS_KEY}", "bad"),
            ("", "not JSON"),
        ],
    )
    told = err.redacted(KNOWN)
    assert told == (
        "device_id: String should match pattern; reader_status.<unexpected key>: bad; <payload>: not JSON"
    )
    assert SENDERS_KEY not in told


def test_list_indices_only_when_asked_and_messages_rewritten_by_the_caller() -> None:
    err = WireError("site_sync", [("siblings.0.last_seen", "Input tag 'x' found")])
    assert err.redacted(KNOWN) == "siblings.<unexpected key>.last_seen: Input tag 'x' found"
    assert (
        err.redacted(KNOWN, indices=True, said=lambda m: "kind unknown")
        == "siblings.0.last_seen: kind unknown"
    )


def test_a_senders_key_made_of_digits_is_not_taken_for_a_list_index() -> None:
    """pydantic names a dict's key as it names a list's index: an ID number whose check character
    is a digit would otherwise be repeated into dead letters and logs."""
    digits_only = "330106199003070018"
    err = WireError("heartbeat", [(f"reader_status.{digits_only}", "bad"), ("siblings.12", "bad")])
    told = err.redacted(KNOWN, indices=True)
    assert digits_only not in told
    assert told == "reader_status.<unexpected key>: bad; siblings.12: bad"


def test_every_list_index_a_payload_can_hold_is_still_shown() -> None:
    longest = str(MAX_PAYLOAD_BYTES - 1)  # more items than bytes cannot fit
    err = WireError("site_sync", [(f"siblings.{longest}", "bad")])
    assert err.redacted(KNOWN, indices=True) == f"siblings.{longest}: bad"
