import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from fleetwatch.env import envbool, envint

REPO = Path(__file__).resolve().parents[2]


def _manage(*args, env_overrides, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "FLEETWATCH_VAR_DIR": str(tmp_path), **env_overrides}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True
    )


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DEBUG", "yes", "DEBUG='yes' is not a boolean"),
        ("FLEETWATCH_TASK_TIME_LIMIT", "soon", "FLEETWATCH_TASK_TIME_LIMIT='soon' is not an integer"),
        ("FLEETWATCH_ENV", "prod", "FLEETWATCH_ENV='prod' is not one of"),
        ("DATABASE_URL", "mysql://x@y/z", "DATABASE_URL uses"),
        ("FLEETWATCH_TASK_TIME_LIMIT", "9999", "must be below FLEETWATCH_VISIBILITY_TIMEOUT"),
    ],
)
def test_a_bad_variable_stops_start_up_naming_it(name, value, message, tmp_path):
    result = _manage("check", env_overrides={name: value}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert message in result.stderr


def test_production_without_a_secret_key_refuses_to_start(tmp_path):
    result = _manage("check", env_overrides={"FLEETWATCH_ENV": "production"}, tmp_path=tmp_path)
    assert result.returncode != 0 and "SECRET_KEY is required" in result.stderr


def test_deploy_checks_are_clean_with_production_variables(tmp_path):
    production = {
        "FLEETWATCH_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "fleetwatch.bank.example",
    }
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING", env_overrides=production, tmp_path=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_a_secret_can_come_from_a_file(tmp_path, monkeypatch):
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    monkeypatch.setenv("SOME_SECRET_FILE", str(secret))
    from fleetwatch.env import envstr

    assert envstr("SOME_SECRET") == "from-a-file"


def test_typed_helpers_accept_only_their_spellings(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    monkeypatch.setenv("X_FLAG", "1")
    assert envbool("X_FLAG", "false") is True
    monkeypatch.setenv("X_NUM", "-3")
    with pytest.raises(ImproperlyConfigured, match="below its minimum"):
        envint("X_NUM", "0", minimum=0)


def test_the_application_installs_no_hook_between_an_ingests_file_write_and_its_commit(tmp_path):
    """Only the crash tests' child process (tests/support/ingest_process.py) pauses an ingest there;
    every app loaded as production loads them leaves the hook list empty."""
    production = {
        "FLEETWATCH_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "fleetwatch.bank.example",
    }
    code = "from monitors.ingest.services import BEFORE_COMMIT_HOOKS; print(len(BEFORE_COMMIT_HOOKS))"
    result = _manage("shell", "--no-imports", "-c", code, env_overrides=production, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0"
