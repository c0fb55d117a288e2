"""Tampering as a database superuser would do it: triggers bypassed with
``session_replication_role = replica``. The hash chain is what catches it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.ledger import record
from audit.ledger.selectors import ledger_head
from audit.ledger.verify import ledger_verify
from tests.support import database

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres")]
REPO = Path(__file__).resolve().parents[3]


def _superuser_sql(*statements: str) -> None:
    with database.owner_connect(autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        for statement in statements:
            conn.execute(statement)


def _chain(n: int) -> None:
    for i in range(n):
        record(action="registry.event.created", subject=("thing", i), payload={"i": i})


def test_audit_verify_passes_on_an_honest_chain(capsys):
    _chain(10)
    call_command("audit_verify")
    assert "ledger OK: 10 entries" in capsys.readouterr().out


def test_a_raw_sql_edit_is_named_by_its_sequence():
    _chain(10)
    _superuser_sql("""UPDATE ledger_entry SET payload = '{"i": 99}' WHERE sequence = 6""")
    result = ledger_verify()
    assert (result.ok, result.bad_sequence) == (False, 6)
    assert "altered" in result.problem
    with pytest.raises(CommandError, match="BROKEN at entry 6"):
        call_command("audit_verify")


def test_a_deleted_row_is_named_by_its_sequence():
    _chain(10)
    _superuser_sql("DELETE FROM ledger_entry WHERE sequence = 4")
    result = ledger_verify()
    assert result.bad_sequence == 4 and "missing" in result.problem


def test_two_swapped_rows_are_caught_at_the_first_of_them():
    _chain(10)
    # Swap the contents of entries 3 and 4 while keeping the sequence numbers in place.
    _superuser_sql(
        "UPDATE ledger_entry SET sequence = -3 WHERE sequence = 3",
        "UPDATE ledger_entry SET sequence = 3 WHERE sequence = 4",
        "UPDATE ledger_entry SET sequence = 4 WHERE sequence = -3",
    )
    result = ledger_verify()
    assert result.bad_sequence == 3


def test_removing_the_newest_rows_is_caught_only_with_the_kept_head():
    _chain(10)
    kept = ledger_head()
    _superuser_sql("DELETE FROM ledger_entry WHERE sequence > 7")
    assert ledger_verify().ok  # a shorter chain is still a valid chain
    result = ledger_verify(expected_head=kept)
    assert result.bad_sequence == 8 and "removed" in result.problem
    with pytest.raises(CommandError, match="BROKEN at entry 8"):
        call_command("audit_verify", head=str(kept))


def test_a_kept_head_that_does_not_match_the_stored_entry_is_caught():
    _chain(5)
    kept = ledger_head()
    _superuser_sql("DELETE FROM ledger_entry WHERE sequence = 5")
    record(action="registry.event.created")  # a new entry 5, validly chained, but not the one kept
    result = ledger_verify(expected_head=kept)
    assert result.bad_sequence == 5 and "differs" in result.problem


def test_four_processes_appending_at_once_leave_one_chain_without_gaps():
    per_writer = 60
    env = database.subprocess_env()
    writers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.support.append_worker", str(per_writer), f"w{n}"],
            cwd=REPO,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(4)
    ]
    for writer in writers:
        _, err = writer.communicate(timeout=300)
        assert writer.returncode == 0, err
    result = ledger_verify()
    assert result.ok, result.problem
    assert result.entries == result.head.sequence == 4 * per_writer


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_entry SET action = 'x'",
        "DELETE FROM ledger_entry",
        "TRUNCATE ledger_entry",
        "DROP TRIGGER ledger_entry_no_update_delete ON ledger_entry",
        "ALTER TABLE ledger_entry DISABLE TRIGGER ALL",
        "SET session_replication_role = replica",
        "DROP TABLE ledger_entry",
    ],
)
def test_the_runtime_role_can_neither_change_the_ledger_nor_its_guards(statement):
    _chain(2)
    with (
        database.runtime_connect(autocommit=True) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute(statement)
    assert ledger_verify().entries == 2


def test_even_the_owner_is_stopped_by_the_triggers_without_replica_mode():
    _chain(2)
    with database.owner_connect(autocommit=True) as conn:
        for statement in (
            "UPDATE ledger_entry SET action = 'x'",
            "DELETE FROM ledger_entry",
            "TRUNCATE ledger_entry",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                conn.execute(statement)


def test_the_runtime_role_is_not_a_superuser_and_owns_nothing():
    with database.runtime_connect() as conn:
        role = conn.execute("SELECT current_user").fetchone()[0]
        superuser = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]
        owned = conn.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = %s",
            [role],
        ).fetchone()[0]
    assert not superuser and owned == 0
