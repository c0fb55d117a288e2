"""Beat schedules in the database, the lease ordering checked at start-up, the admin."""

import io
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from audit.ledger.models import LedgerEntry
from monitors.checks.beat_schedules import RECONCILE_NAME, SWEEP_NAME

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.django_db
def test_the_migration_installs_the_sweep_and_the_reconciler_on_their_queue():
    sweep = PeriodicTask.objects.get(name=SWEEP_NAME)
    reconcile = PeriodicTask.objects.get(name=RECONCILE_NAME)
    assert (sweep.task, sweep.queue, sweep.crontab.hour, sweep.crontab.minute) == (
        "checks.fleet_sweep",
        "sweep",
        "2",
        "15",
    )
    assert (reconcile.task, reconcile.queue, reconcile.interval.every) == ("checks.reconcile", "sweep", 120)


@pytest.mark.django_db
def test_install_schedules_keeps_an_operators_edit_unless_reset():
    PeriodicTask.objects.filter(name=SWEEP_NAME).update(enabled=False, queue="elsewhere")
    out = io.StringIO()
    call_command("install_schedules", stdout=out)
    assert "already installed" in out.getvalue()
    assert PeriodicTask.objects.get(name=SWEEP_NAME).queue == "elsewhere"

    call_command("install_schedules", "--reset", stdout=out)
    sweep = PeriodicTask.objects.get(name=SWEEP_NAME)
    assert (sweep.queue, sweep.enabled) == ("sweep", True)
    assert LedgerEntry.objects.get(action="checks.schedules.installed").payload["reset"] is True


@pytest.mark.django_db
def test_install_schedules_recreates_a_deleted_schedule():
    PeriodicTask.objects.filter(name=RECONCILE_NAME).delete()
    call_command("install_schedules", stdout=io.StringIO())
    assert PeriodicTask.objects.filter(name=RECONCILE_NAME).exists()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"FLEETWATCH_TASK_TIME_LIMIT": "60", "FLEETWATCH_CHECK_LEASE_SECONDS": "60"},
            "FLEETWATCH_CHECK_LEASE_SECONDS=60 must lie between",
        ),
        (
            {
                "FLEETWATCH_VISIBILITY_TIMEOUT": "100",
                "FLEETWATCH_TASK_TIME_LIMIT": "50",
                "FLEETWATCH_CHECK_LEASE_SECONDS": "100",
            },
            "must lie between FLEETWATCH_TASK_TIME_LIMIT=50",
        ),
    ],
)
def test_a_lease_outside_time_limit_and_visibility_timeout_stops_start_up(env, message, tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "FLEETWATCH_VAR_DIR": str(tmp_path), **env},
    )
    assert result.returncode != 0
    assert message in result.stderr


def test_the_default_lease_sits_between_the_time_limit_and_the_visibility_timeout(settings):
    assert (
        settings.CELERY_TASK_TIME_LIMIT
        < settings.FLEETWATCH_CHECK_LEASE_SECONDS
        < settings.FLEETWATCH_VISIBILITY_TIMEOUT
    )
    assert settings.CELERY_TASK_ROUTES["checks.run_execute"] == {"queue": "checks"}
    assert settings.CELERY_TASK_ROUTES["checks.fleet_sweep"] == {"queue": "sweep"}


@pytest.mark.django_db
def test_the_admin_lists_runs_read_only(admin_client):
    from tests.monitors.checks.world import make_model

    make_model("card-fraud")
    from datetime import UTC, datetime

    from monitors.checks.models import CheckRun
    from monitors.checks.services.sweep import fleet_sweep

    fleet_sweep(now=datetime(2025, 1, 2, 1, tzinfo=UTC), dispatch=None)
    run = CheckRun.objects.first()
    assert admin_client.get("/admin/checks/checkrun/").status_code == 200
    page = admin_client.get(f"/admin/checks/checkrun/{run.pk}/change/")
    assert page.status_code == 200 and b"Save" not in page.content
