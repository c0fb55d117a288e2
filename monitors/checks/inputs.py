"""Loading a run's inputs, once, into a frozen ``RunInputs``: through the registry and the data
plane for a scheduled run, or, for a recompute, exactly what an earlier run read (``Pinned``),
each stored file re-hashed against its recorded sha256.

``run_inputs_load`` is the one entry point; the functions it calls are module attributes so that
a test can stand in for one of them. What was read is noted in the ``RunJournal`` as each read
succeeds, with the time it took; what cannot be read raises ``InputsUnavailable``.

The reference artefact is the one input not read here: the loader hands ``RunInputs`` a
``ReferenceArtefactSource`` that reads it when a stage first asks (a drift run never does),
notes ``reference_artefact_sha256`` in the journal then, and, for a recompute, reads exactly the
artefact the run recorded, re-hashed. A recompute of a run that read an artefact since purged
is refused here, before anything is read, naming the purge.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from monitors.checks.errors import InputsPurged, InputsUnavailable
from monitors.checks.journal import RunJournal
from monitors.checks.models import CheckRun
from monitors.checks.pinned import Pinned
from monitors.checks.run_inputs import ArtefactRead, ReferenceArtefactSource, RunInputs
from monitors.models import Batch, BatchKind, ReferenceArtefact, ReferenceProfile
from registry.models import FeatureSchema
from vocabulary.drift_tests import DRIFT_TESTS, unknown_test_message

if TYPE_CHECKING:
    # The engine's profile (arrays, bins, frequencies), not the ``ReferenceProfile`` row above
    # that records where it is stored.
    from monitors.stats import DriftConfig
    from monitors.stats import ReferenceProfile as EngineProfile
    from monitors.stats.fitted import FittedParams, Fitter


@dataclass(frozen=True)
class ProfileRead:
    profile: EngineProfile
    reference_sha256: str
    profile_sha256: str


@dataclass(frozen=True)
class WindowRead:
    columns: dict[str, Any]
    n_rows: int
    data_sha256s: tuple[str, ...]
    label_sha256s: tuple[str, ...]
    as_of_sequence: int


def run_inputs_load(run: CheckRun, *, pinned: Pinned | None, journal: RunJournal) -> RunInputs:
    """Read everything the run's stages need, in the order that lets a failure say the most:
    seeds, schema and configuration, then the reference, then the window."""
    seeds = dict(pinned.seeds if pinned else run.seeds)
    journal.note_read(seeds=seeds)
    with journal.timed("database_read"):
        schema = schema_for(run, pinned=pinned)
        journal.note_read(schema_id=schema.pk)
        config, parameters = drift_config(run, schema, pinned=pinned)
        journal.note_read(parameters=parameters)
    profile = reference_profile(run, schema, pinned=pinned, journal=journal)
    journal.note_read(
        reference_sha256=profile.reference_sha256, reference_profile_sha256=profile.profile_sha256
    )
    artefact = reference_artefact_source(run, schema, profile, pinned=pinned, journal=journal)
    read = window(run, profile.profile, pinned=pinned, journal=journal)
    journal.note_read(
        data_sha256s=list(read.data_sha256s),
        label_sha256s=list(read.label_sha256s),
        as_of_sequence=read.as_of_sequence,
        n_rows=read.n_rows,
    )
    return RunInputs(
        run_id=run.pk,
        model_id=run.model_id,
        version_id=run.version_id,
        kind=run.kind,
        window_start=run.window_start,
        window_end=run.window_end,
        schema_id=schema.pk,
        drift_config=config,
        parameters=MappingProxyType(parameters),
        seeds=MappingProxyType(seeds),
        profile=profile.profile,
        reference_sha256=profile.reference_sha256,
        reference_profile_sha256=profile.profile_sha256,
        columns=MappingProxyType(read.columns),
        n_rows=read.n_rows,
        data_sha256s=read.data_sha256s,
        label_sha256s=read.label_sha256s,
        as_of_sequence=read.as_of_sequence,
        artefact_source=artefact,
    )


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
    run: CheckRun, schema: FeatureSchema, *, pinned: Pinned | None, journal: RunJournal
) -> ProfileRead:
    """The version's reference profile; for a recompute, the exact stored profile (and reference
    batch) the run recorded, their bytes checked against the recorded sha256."""
    from monitors.profiles import ReferenceUnavailable, reference_batch, reference_profile_for
    from monitors.stats import ReferenceProfile as EngineProfile

    if pinned is not None:
        return _pinned_profile(run, pinned, journal)
    with journal.timed("storage_read"):
        try:
            batch = reference_batch(run.version)
            profile = reference_profile_for(run.version)
        except ReferenceUnavailable as exc:
            raise InputsUnavailable(f"no reference to compare with: {exc}") from None
        stored = (
            ReferenceProfile.objects.filter(
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


def _pinned_profile(run: CheckRun, pinned: Pinned, journal: RunJournal) -> ProfileRead:
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
    row = (
        ReferenceProfile.objects.filter(profile_sha256=pinned.reference_profile_sha256)
        .order_by("-pk")
        .first()
    )
    if row is None or row.purged_at is not None:
        raise InputsPurged("the reference profile", [reference])
    with journal.timed("storage_read"):
        journal.verify_stored(
            what=f"reference batch {reference.pk}",
            name=reference.storage_name,
            expected=reference.stored_sha256,
        )
        data = journal.verify_stored(
            what=f"reference profile {row.pk}", name=row.storage_name, expected=row.profile_sha256
        )
        profile = EngineProfile.from_bytes(data)
    return ProfileRead(
        profile=profile, reference_sha256=reference.stored_sha256, profile_sha256=row.profile_sha256
    )


def reference_artefact_source(
    run: CheckRun, schema: FeatureSchema, profile: ProfileRead, *, pinned: Pinned | None, journal: RunJournal
) -> ReferenceArtefactSource:
    """A lazy reader of the reference artefact. For a recompute of a run that read one, its row
    is checked now (a database read, no storage): purged means the recompute is refused."""
    if pinned is not None and pinned.reference_artefact_sha256:
        _pinned_artefact_row(run, pinned)

    def read() -> ArtefactRead:
        with journal.timed("storage_read"):
            stored = reference_artefact(run, schema, profile, pinned=pinned, journal=journal)
        journal.note_read(reference_artefact_sha256=stored.sha256)
        return stored

    def fit(stored: ArtefactRead, fitter: Fitter) -> FittedParams:
        from monitors.artefacts import StoredArtefact
        from monitors.fitted import ArtefactPurged, fitted_state

        assert isinstance(stored, StoredArtefact)
        try:
            return fitted_state(stored, fitter)
        except ArtefactPurged:
            raise InputsPurged(
                "the reference artefact", [_reference_of(run, profile.reference_sha256)]
            ) from None

    return ReferenceArtefactSource(read, fit)


def reference_artefact(
    run: CheckRun, schema: FeatureSchema, profile: ProfileRead, *, pinned: Pinned | None, journal: RunJournal
) -> ArtefactRead:
    """The artefact of the reference the run compares with: for a recompute of a run that read
    one, exactly that artefact, its bytes checked against the recorded sha256; else the stored
    artefact of the reference under the run's schema, built first if there is none."""
    from monitors.artefacts import reference_artefact_build, reference_artefact_read

    if pinned is not None and pinned.reference_artefact_sha256:
        row = _pinned_artefact_row(run, pinned)
        data = journal.verify_stored(
            what=f"reference artefact {row.pk}", name=row.storage_name, expected=row.artefact_sha256
        )
        return reference_artefact_read(row, data)
    reference = _reference_of(run, profile.reference_sha256)
    if reference.purged_at is not None:
        raise InputsPurged("the reference batch", [reference])
    row, _ = reference_artefact_build(batch=reference, schema=schema)
    return reference_artefact_read(row)


def _reference_of(run: CheckRun, reference_sha256: str) -> Batch:
    reference = (
        Batch.objects.filter(
            kind=BatchKind.REFERENCE, model=run.model, version=run.version, stored_sha256=reference_sha256
        )
        .order_by("-sequence")
        .first()
    )
    if reference is None:
        raise InputsUnavailable(f"the reference batch {reference_sha256} is no longer registered")
    return reference


def _pinned_artefact_row(run: CheckRun, pinned: Pinned) -> ReferenceArtefact:
    row = (
        ReferenceArtefact.objects.filter(artefact_sha256=pinned.reference_artefact_sha256)
        .order_by("-pk")
        .first()
    )
    if row is None or row.purged_at is not None:
        raise InputsPurged("the reference artefact", [_reference_of(run, pinned.reference_sha256)])
    return row


def window(
    run: CheckRun, profile: EngineProfile, *, pinned: Pinned | None, journal: RunJournal
) -> WindowRead:
    """The version's production rows in [start, end), as of now (or, for a recompute, as of the
    ingest point the run recorded). Drift needs no labels; performance stages will ask for them."""
    from monitors.selectors import WindowInputsPurged, production_window

    names = [f.name for f in profile.features]
    with journal.timed("storage_read"):
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
                journal.verify_stored(
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
