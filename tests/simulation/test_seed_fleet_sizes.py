"""seed_fleet with other sizes (an empty database each)."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from registry.models import MonitoredModel

pytestmark = pytest.mark.django_db


def test_the_seed_is_deterministic():
    call_command("seed_fleet", "--models", "8", stdout=io.StringIO())
    first = sorted(MonitoredModel.objects.values_list("slug", "task_type", "risk_tier"))
    assert len(first) == 8 and len({slug for slug, _, _ in first}) == 8
    assert ("retail-pd-scorecard", "binary", "high") in first


def test_more_models_than_names_get_market_suffixes():
    call_command("seed_fleet", "--models", "75", stdout=io.StringIO())
    slugs = list(MonitoredModel.objects.values_list("slug", flat=True))
    assert len(slugs) == 75 == len(set(slugs))
    assert any(re.search(r"-uk$", slug) for slug in slugs)


def test_a_bad_count_is_refused():
    with pytest.raises(CommandError) as excinfo:
        call_command("seed_fleet", "--models", "0")
    assert excinfo.value.returncode == 2 and "give at least 1" in str(excinfo.value)
