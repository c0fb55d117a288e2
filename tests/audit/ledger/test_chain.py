from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime

import pytest
import rfc8785
from django.db import transaction

from audit.ledger import Actor, ledger_scope, record
from audit.ledger.hashing import GENESIS_HASH, LedgerPayloadError
from audit.ledger.models import LedgerEntry, LedgerImmutableError
from audit.ledger.selectors import ChainHead, ledger_head
from audit.ledger.verify import ledger_verify

pytestmark = pytest.mark.django_db


def test_the_first_entry_links_to_the_genesis_hash_and_its_hash_is_sha256_of_jcs():
    entry = record(
        action="registry.model.created",
        subject=("thing", 7),
        payload={"b": 1.5, "a": [1, "x"]},
        actor=Actor("user", "3", "alice"),
    )
    # Independent reconstruction of the documented hash input, keys deliberately unordered.
    document = {
        "sequence": 1,
        "previous_hash": GENESIS_HASH,
        "recorded_at": entry.recorded_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": {"name": "alice", "id": "3", "kind": "user"},
        "subject": {"id": "7", "type": "thing"},
        "action": "registry.model.created",
        "correlation_id": entry.correlation_id,
        "payload": {"a": [1, "x"], "b": 1.5},
    }
    assert entry.entry_hash == hashlib.sha256(rfc8785.dumps(document)).hexdigest()
    assert entry.previous_hash == GENESIS_HASH


def test_each_entry_links_to_the_one_before():
    first = record(action="registry.event.created")
    second = record(action="registry.event.changed")
    assert (second.sequence, second.previous_hash) == (first.sequence + 1, first.entry_hash)
    assert ledger_head() == ChainHead(second.sequence, second.entry_hash)


def test_an_honest_chain_verifies():
    for i in range(25):
        record(action="registry.event.created", payload={"i": i, "share": i / 7})
    result = ledger_verify()
    assert result.ok and result.entries == 25


def test_a_rolled_back_entry_leaves_no_gap():
    record(action="registry.event.created")
    with pytest.raises(RuntimeError), transaction.atomic():
        record(action="registry.event.created")
        raise RuntimeError("the caller's transaction fails after recording")
    again = record(action="registry.event.created")
    assert again.sequence == 2
    assert ledger_verify().ok


def test_the_orm_refuses_to_update_or_delete_entries():
    entry = record(action="registry.event.created")
    entry.action = "test.changed"
    with pytest.raises(LedgerImmutableError):
        entry.save()
    with pytest.raises(LedgerImmutableError):
        entry.delete()
    with pytest.raises(LedgerImmutableError):
        LedgerEntry.objects.filter(sequence=entry.sequence).update(action="x")
    with pytest.raises(LedgerImmutableError):
        LedgerEntry.objects.all().delete()


@pytest.mark.parametrize("payload", [{"x": math.nan}, {"x": {1, 2}}, {"x": 2**60}])
def test_a_payload_that_is_not_canonical_json_is_refused_before_anything_is_written(payload):
    with pytest.raises(LedgerPayloadError, match="not canonical JSON"):
        record(action="registry.event.created", payload=payload)
    assert not LedgerEntry.objects.exists()


def test_entries_in_one_scope_share_a_correlation_id_and_actor():
    with ledger_scope(actor=Actor.operator(), correlation_id="req-12345678"):
        a = record(action="registry.event.created")
        b = record(action="registry.event.changed")
    c = record(action="registry.model.changed")
    assert a.correlation_id == b.correlation_id == "req-12345678"
    assert a.actor_kind == "operator"
    assert c.correlation_id != a.correlation_id and c.actor_kind == "system"


def test_subjects_are_referenced_by_model_label_and_primary_key(django_user_model):
    user = django_user_model.objects.create(username="bob")
    entry = record(action="registry.event.created", subject=user, actor=Actor.for_user(user))
    assert (entry.subject_type, entry.subject_id) == ("auth.user", str(user.pk))
    assert (entry.actor_kind, entry.actor_id, entry.actor_name) == ("user", str(user.pk), "bob")


def test_timestamps_are_hashed_in_utc_with_microseconds():
    entry = record(action="registry.event.created")
    assert isinstance(entry.recorded_at, datetime)
    stored = LedgerEntry.objects.get(sequence=entry.sequence)
    assert stored.recorded_at == entry.recorded_at
    assert ledger_verify().ok


@pytest.mark.parametrize("text", ["12", "x:abc", "3:" + "g" * 64, "3:" + "a" * 63])
def test_a_malformed_head_is_refused_with_the_reason(text):
    with pytest.raises(ValueError, match="head"):
        ChainHead.parse(text)
