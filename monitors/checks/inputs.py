"""Reading a run's inputs through the registry and the data plane, and rebuilding them exactly
for a recompute."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from monitors.checks.context import InputsUnavailable, Pinned
from monitors.checks.models import CheckRun
from monitors.models import Batch, BatchKind
from monitors.models import ReferenceProfile as ProfileRow
from registry.models import FeatureSchema
from vocabulary.drift_tests import DRIFT_TESTS, unknown_test_message

if TYPE_CHECKING:
    from monitors.checks.context import RunContext
    from monitors.stats import DriftConfig, ReferenceProfile


@dataclass(frozen=True)
class ProfileRead:
    profile: ReferenceProfile
    reference_sha256: str
    profile_sha256: str


@dataclass(frozen=True)
class WindowRead:
    columns: dict[str, Any]
    n_rows: int
    data_sha256s: tuple[str, ...]
    label_sha256s: tuple[str, ...]
    as_of_sequence: int


def schema_for(run: CheckRun, *, pinned: Pinned | None) -> FeatureSchema:
    from registry.selectors import schema_current

    if pinned is not None and pinned.schema_id is not None:
        return FeatureSchema.objects.get(pk=pinned.schema_id)
    try:
        return schema_current(run.version)
    except FeatureSchema.DoesNotExist:
        raise InputsUnavailable(
            f"version {run.version} has no feature schema: register one before its data can be checked"
        ) from None


def drift_config(
    run: CheckRun, schema: FeatureSchema, *, pinned: Pinned | None
) -> tuple[DriftConfig, dict[str, Any]]:
    """The drift configuration and the parameters recorded with the run: from the plan the run
    was scheduled under, or, for a recompute, exactly what the original run recorded."""
    if pinned is not None:
        return config_from_dict(pinned.parameters["drift_config"]), dict(pinned.parameters)
    from monitors.stats import DriftConfig

    plan = run.plan
    if plan is None:
        raise InputsUnavailable(f"run {run.pk} names no monitoring plan")
    thresholds: dict[str, float] = {}
    for test, spec in (plan.thresholds or {}).items():
        # The registry validated these names against the same table; a name it no longer knows is
        # refused here rather than dropped, so a plan's threshold is never silently ignored.
        if test not in DRIFT_TESTS:
            raise InputsUnavailable(f"monitoring plan {plan.pk}: thresholds: {unknown_test_message(test)}")
        thresholds[test] = float(spec["value"])
    config = DriftConfig(
        alpha=plan.alpha,
        correction=plan.correction,  # type: ignore[arg-type]
        drift_share_threshold=plan.drift_share_threshold,
        thresholds=thresholds,
    )
    days = max(1, round((run.window_end - run.window_start).total_seconds() / 86400))
    expected = schema.expected_rows_per_day * days if schema.expected_rows_per_day else None
    parameters = {
        "drift_config": config.as_dict(),
        "min_sample_size": plan.min_sample_size,
        "expected_rows": expected,
        "window_days": days,
    }
    return config, parameters


def config_from_dict(data: dict[str, Any]) -> DriftConfig:
    from monitors.stats import DriftConfig, FeatureOverride

    values: dict[str, Any] = {}
    for f in dataclasses.fields(DriftConfig):
        if f.name not in data:
            continue
        value = data[f.name]
        if f.name == "overrides":
            value = {name: FeatureOverride(**o) for name, o in value.items()}
        elif f.name == "extra_tests":
            value = tuple(value)
        values[f.name] = value
    return DriftConfig(**values)


def reference_profile(
    run: CheckRun, schema: FeatureSchema, *, pinned: Pinned | None, context: RunContext
) -> ProfileRead:
    """The version's reference profile; for a recompute, the exact stored profile (and reference
    batch) the run recorded, their bytes checked against the recorded sha256."""
    from monitors.profiles import ReferenceUnavailable, reference_batch, reference_profile_for
    from monitors.stats import ReferenceProfile as EngineProfile

    if pinned is not None:
        return _pinned_profile(run, pinned, context)
    with context.timed("storage_read"):
        try:
            batch = reference_batch(run.version)
            profile = reference_profile_for(run.version)
        except ReferenceUnavailable as exc:
            raise InputsUnavailable(f"no reference to compare with: {exc}") from None
        stored = (
            ProfileRow.objects.filter(
                reference_sha256=batch.stored_sha256,
                schema=schema,
                code_version=profile.code_version,
                purged_at__isnull=True,
            )
            .values_list("profile_sha256", flat=True)
            .first()
        )
    profile_sha = stored or hashlib.sha256(profile.to_bytes()).hexdigest()
    assert isinstance(profile, EngineProfile)
    return ProfileRead(profile=profile, reference_sha256=batch.stored_sha256, profile_sha256=profile_sha)


def _pinned_profile(run: CheckRun, pinned: Pinned, context: RunContext) -> ProfileRead:
    from monitors.stats import ReferenceProfile as EngineProfile

    reference = (
        Batch.objects.filter(
            kind=BatchKind.REFERENCE,
            model=run.model,
            version=run.version,
            stored_sha256=pinned.reference_sha256,
        )
        .order_by("-sequence")
        .first()
    )
    if reference is None:
        raise InputsUnavailable(f"the reference batch {pinned.reference_sha256} is no longer registered")
    if reference.purged_at is not None:
        raise InputsPurged("the reference batch", [reference])
    row = ProfileRow.objects.filter(profile_sha256=pinned.reference_profile_sha256).order_by("-pk").first()
    if row is None or row.purged_at is not None:
        raise InputsPurged("the reference profile", [reference])
    with context.timed("storage_read"):
        context.verify_stored(
            what=f"reference batch {reference.pk}",
            name=reference.storage_name,
            expected=reference.stored_sha256,
        )
        data = context.verify_stored(
            what=f"reference profile {row.pk}", name=row.storage_name, expected=row.profile_sha256
        )
        profile = EngineProfile.from_bytes(data)
    return ProfileRead(
        profile=profile, reference_sha256=reference.stored_sha256, profile_sha256=row.profile_sha256
    )


def window(
    run: CheckRun, profile: ReferenceProfile, *, pinned: Pinned | None, context: RunContext
) -> WindowRead:
    """The version's production rows in [start, end), as of now (or, for a recompute, as of the
    ingest point the run recorded). Drift needs no labels; performance stages will ask for them."""
    from monitors.selectors import WindowInputsPurged, production_window

    names = [f.name for f in profile.features]
    with context.timed("storage_read"):
        try:
            read = production_window(
                model=run.model,
                start=run.window_start,
                end=run.window_end,
                columns=names,
                as_of=pinned.as_of_sequence if pinned else None,
                versions=[run.version],
                with_labels=run.kind != "drift",
            )
        except WindowInputsPurged as exc:
            raise InputsPurged("the window's production or label batches", _batches(exc.batch_ids)) from None
        if pinned is not None:
            for batch in Batch.objects.filter(pk__in=[*read.batch_ids, *read.label_batch_ids]).order_by("pk"):
                context.verify_stored(
                    what=f"{batch.kind} batch {batch.pk}",
                    name=batch.storage_name,
                    expected=batch.stored_sha256,
                )
        columns = {name: read.array(name) for name in names}
    return WindowRead(
        columns=columns,
        n_rows=read.row_count,
        data_sha256s=read.batch_sha256s,
        label_sha256s=read.label_batch_sha256s,
        as_of_sequence=read.as_of_sequence,
    )


def _batches(ids: tuple[int, ...]) -> list[Batch]:
    return list(Batch.objects.filter(pk__in=ids).order_by("pk"))


class InputsPurged(InputsUnavailable):
    """Inputs a recompute (or a late check) needs were purged under retention."""

    def __init__(self, what: str, batches: list[Batch]) -> None:
        self.ledger_sequences = sorted({b.purge_ledger_sequence for b in batches if b.purge_ledger_sequence})
        entries = ", ".join(f"#{s}" for s in self.ledger_sequences) or "(no purge entry recorded)"
        super().__init__(f"{what} were purged under retention: see ledger entry {entries}")
