import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.ledger import record
from audit.ledger.selectors import ledger_head

pytestmark = pytest.mark.django_db


def test_audit_head_prints_sequence_and_hash(capsys):
    entry = record(action="registry.event.created")
    call_command("audit_head")
    assert capsys.readouterr().out.strip() == f"{entry.sequence}:{entry.entry_hash}"


def test_audit_verify_accepts_the_current_head(capsys):
    record(action="registry.event.created")
    call_command("audit_verify", head=str(ledger_head()))
    assert "ledger OK: 1 entries" in capsys.readouterr().out


def test_audit_verify_refuses_a_malformed_head_with_exit_code_2():
    with pytest.raises(CommandError, match="SEQ:HASH") as excinfo:
        call_command("audit_verify", head="nonsense")
    assert excinfo.value.returncode == 2
