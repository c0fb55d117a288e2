"""The catalogue of ledger actions: the ledger refuses any other name, every name the code
records is in it, and a filter on an act finds it under its retired aliases too."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from audit.ledger import record
from audit.ledger.models import LedgerEntry
from audit.ledger.selectors import ledger_entries_for_action
from vocabulary import ledger_actions
from vocabulary.ledger_actions import LEDGER_ACTIONS, UnknownLedgerAction, names_for

REPO = Path(__file__).resolve().parents[2]
SOURCES = [p for root in ("platform", "monitors", "audit") for p in (REPO / root).rglob("*.py")]


@pytest.mark.django_db
def test_the_ledger_refuses_an_action_the_catalogue_lacks_and_writes_nothing():
    with pytest.raises(UnknownLedgerAction, match=re.escape("'model.retrained' is not in the catalogue")):
        record(action="model.retrained")
    assert not LedgerEntry.objects.exists()


@pytest.mark.django_db
def test_the_ledger_refuses_a_retired_alias_for_new_entries_and_names_the_current_one():
    with pytest.raises(
        UnknownLedgerAction, match=re.escape("retired: record 'registry.service_account.changed'")
    ):
        record(action="registry.serviceaccount.changed")
    assert not LedgerEntry.objects.exists()


@pytest.mark.django_db
def test_a_filter_on_an_act_finds_it_under_its_current_name():
    record(action=ledger_actions.REGISTRY_SERVICE_ACCOUNT_CHANGED, subject=("registry.serviceaccount", 1))
    record(action=ledger_actions.REGISTRY_EVENT_CREATED)
    for name in ("registry.service_account.changed", "registry.serviceaccount.changed"):
        assert [e.subject_id for e in ledger_entries_for_action(name)] == ["1"]


def test_a_retired_alias_expands_to_every_name_of_its_act():
    expected = ("registry.service_account.changed", "registry.serviceaccount.changed")
    assert names_for("registry.serviceaccount.changed") == expected
    assert names_for("registry.service_account.changed") == expected
    with pytest.raises(UnknownLedgerAction):
        names_for("no.such.act")


def test_every_entry_says_what_it_records_and_its_payload_keys():
    for action in LEDGER_ACTIONS.values():
        assert re.fullmatch(r"[a-z]+(\.[a-z_]+){1,2}", action.name), action.name
        assert action.records and action.payload_keys, action.name


def test_no_retired_alias_is_a_current_name():
    aliases = {alias for a in LEDGER_ACTIONS.values() for alias in a.retired_aliases}
    assert not aliases & set(LEDGER_ACTIONS)


def test_every_catalogue_constant_the_code_uses_exists_and_no_call_site_spells_a_name_itself():
    used = set()
    spelled = []
    literal = re.compile(r"""action\s*=\s*f?["'](?!store_|append|count)""")
    for path in SOURCES:
        text = path.read_text()
        used |= set(re.findall(r"ledger_actions\.([A-Z_]+)\b", text))
        if "vocabulary" not in path.parts:
            spelled += [f"{path.relative_to(REPO)}: {m}" for m in literal.findall(text)]
    assert used, "the scan found no call sites"
    assert not [name for name in used if not hasattr(ledger_actions, name)]
    assert not spelled, "record actions through vocabulary.ledger_actions, not literal strings"


def test_the_dynamic_names_resolve_to_catalogue_entries():
    for status in ("succeeded", "failed", "skipped"):
        assert ledger_actions.run_finished(status) in LEDGER_ACTIONS
    for kind in ("plan", "policy"):
        assert ledger_actions.section_created(kind) in LEDGER_ACTIONS
