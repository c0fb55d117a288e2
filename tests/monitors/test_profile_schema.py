"""A registry schema as the statistics engine's ``ProfileSchema``."""

from __future__ import annotations

import pytest

from monitors.schemas import profile_schema
from registry.selectors import schema_current
from registry.services import model_apply
from tests.registry.factories import RegistryWorld, version_document

pytestmark = pytest.mark.django_db


def test_a_schema_becomes_the_engines_profile_schema():
    world = RegistryWorld()
    model = model_apply(document=world.document(), user=world.alice).model
    schema = schema_current(model.versions.get())

    profile = profile_schema(schema)

    assert [f.name for f in profile.features] == [
        "age",
        "income",
        "region",
        "has_mortgage",
        "application_date",
        "employer_name",
    ]
    age, _income, region, *_ = profile.features
    assert (age.kind, age.nullable, age.min_value, age.max_value, age.is_key) == (
        "numeric",
        False,
        18.0,
        100.0,
        True,
    )
    assert (region.categories, region.is_segment, region.test) == (
        ("north", "south", "east", "west"),
        True,
        None,
    )
    assert profile.expected_rows_per_day == 5000
    assert profile.segment_features == (region,)


def test_a_pinned_drift_test_reaches_the_engine():
    pinned = {"name": "amount", "kind": "numeric", "drift_test": "psi"}
    model = RegistryWorld().register(versions=[version_document(validated_by="val", features=[pinned])])
    assert profile_schema(schema_current(model.versions.get())).features[0].test == "psi"
