"""A reference batch gets its profile at registration, keyed by the reference's Parquet sha256,
the schema version and the profile code version; a change of either version rebuilds it."""

from __future__ import annotations

import pytest

from monitors import profiles
from monitors.models import ReferenceProfile
from monitors.profiles import ReferenceUnavailable, reference_profile_for
from monitors.stats import profile as engine
from registry import selectors
from tests.monitors.dataplane import FEATURES, amend, ingest, last_entry, reference_table, write

pytestmark = pytest.mark.django_db


def _reference(world, tmp_path, n=1000):
    return ingest(world, write(reference_table(n), tmp_path / "ref"), kind="reference", version="v2").batch


def test_registering_a_reference_builds_and_stores_its_profile(world, tmp_path, storage_dir):
    batch = _reference(world, tmp_path)

    stored = ReferenceProfile.objects.get()
    assert (stored.batch, stored.reference_sha256, stored.schema, stored.code_version) == (
        batch,
        batch.stored_sha256,
        world.schema,
        engine.PROFILE_CODE_VERSION,
    )
    assert stored.holds_raw_values
    assert (storage_dir / stored.storage_name).stat().st_size == stored.profile_bytes
    entry = last_entry("monitors.profile.built")
    assert entry.payload["reference_sha256"] == batch.stored_sha256
    assert entry.payload["code_version"] == engine.PROFILE_CODE_VERSION


def test_the_profile_describes_the_train_and_validation_rows_not_the_holdout(world, tmp_path):
    _reference(world, tmp_path, n=1000)

    profile = reference_profile_for(world.v2)

    assert profile.n_rows == 800  # 600 train + 200 validation; 200 holdout rows kept apart
    assert [f.name for f in profile.features] == [f["name"] for f in FEATURES]
    assert {s.value for s in profile.segments} == {"branch", "online", "phone"}


def test_the_stored_profile_is_reused_not_rebuilt(world, tmp_path, monkeypatch):
    _reference(world, tmp_path)
    stored = ReferenceProfile.objects.get()

    def no_rebuild(*args, **kwargs):
        raise AssertionError("rebuilt")

    monkeypatch.setattr(engine, "build_reference_profile", no_rebuild)
    profile = reference_profile_for(world.v2)

    assert profile.to_bytes() == (profiles.open_stored(stored.storage_name).read())
    assert ReferenceProfile.objects.count() == 1


def test_a_new_schema_version_rebuilds_the_profile(world, tmp_path):
    batch = _reference(world, tmp_path)
    amend(world, versions={"v2": {"features": FEATURES[:3]}})
    newer = selectors.schema_current(world.v2)

    profile = reference_profile_for(world.v2)

    assert [f.name for f in profile.features] == ["income", "age", "channel"]
    assert set(ReferenceProfile.objects.values_list("schema__number", flat=True)) == {1, 2}
    assert ReferenceProfile.objects.filter(schema=newer, reference_sha256=batch.stored_sha256).exists()


def test_a_new_profile_code_version_rebuilds_the_profile(world, tmp_path, monkeypatch):
    _reference(world, tmp_path)
    monkeypatch.setattr(engine, "PROFILE_CODE_VERSION", "99.0.0")

    reference_profile_for(world.v2)

    assert sorted(ReferenceProfile.objects.values_list("code_version", flat=True)) == sorted(
        [profiles_code_version_before(), "99.0.0"]
    )


def profiles_code_version_before() -> str:
    return ReferenceProfile.objects.order_by("pk").first().code_version


def test_a_version_without_a_reference_has_no_profile(world):
    with pytest.raises(ReferenceUnavailable, match="no reference batch"):
        reference_profile_for(world.v3)
