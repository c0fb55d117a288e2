"""External events: what happened outside the models (a campaign, a launch, a pipeline change)
that a check's findings are matched against."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from registry.documents.fields import Reader, choice, iso, moment, string
from registry.documents.yaml_lines import join
from registry.models import ExternalEvent, MonitoredModel
from registry.permissions import can_write_data, has_role, visible_models
from registry.services.audit import ChangeRecorder, record_refusal
from registry.services.errors import RegistryPermissionDenied, RegistryValidationError
from vocabulary import ledger_actions
from vocabulary.roles import MODEL_RISK

EVENT_REQUIRED = ("kind", "title", "starts_at")
EVENT_OPTIONAL = ("description", "ends_at", "models")


def event_snapshot(event: ExternalEvent) -> dict[str, Any]:
    return {
        "id": event.pk,
        "kind": event.kind,
        "title": event.title,
        "starts_at": iso(event.starts_at),
        "ends_at": iso(event.ends_at),
        "models": sorted(m.slug for m in event.affected_models.all()),
    }


def external_event_check(
    *, data: dict[str, Any], user: Any, event: ExternalEvent | None = None
) -> tuple[dict[str, Any], list[MonitoredModel]]:
    """Read and judge an event from ``data`` (``kind``, ``title``, ``starts_at``, optional
    ``description``, ``ends_at`` and ``models``: slugs; none means the whole fleet), as a new
    event or as the new state of ``event``. Returns the fields and the models.

    The user must be allowed to write data for every model named (and, for a change, every
    model the event named before); a fleet-wide event needs the model risk role. Raises
    ``RegistryValidationError`` or ``RegistryPermissionDenied`` (recorded as a refusal).
    """
    r = Reader()
    m = r.mapping(data, "", EVENT_REQUIRED, EVENT_OPTIONAL) or {}
    fields = {
        "kind": r.get(m, "kind", "", choice(ExternalEvent.Kind.values)),
        "title": r.get(m, "title", "", string(max_length=200, blank=False)),
        "description": r.get(m, "description", "", string(), ""),
        "starts_at": r.get(m, "starts_at", "", moment),
        "ends_at": r.get(m, "ends_at", "", lambda v: None if v in (None, "") else moment(v), None),
    }
    slugs = m.get("models") or []
    if not isinstance(slugs, list) or not all(isinstance(s, str) for s in slugs):
        r.error("models", "expected a list of model slugs")
        slugs = []
    starts_at, ends_at = fields["starts_at"], fields["ends_at"]
    if isinstance(starts_at, dt.datetime) and isinstance(ends_at, dt.datetime) and ends_at < starts_at:
        r.error("ends_at", f"{iso(ends_at)} is before starts_at {iso(starts_at)}")
    visible = {model.slug: model for model in visible_models(user).filter(slug__in=slugs)}
    for index, slug in enumerate(slugs):
        if slug not in visible:
            r.error(join("models", index), f"there is no model '{slug}'")
        elif slugs.index(slug) != index:
            r.error(join("models", index), f"'{slug}' is listed twice")
    if r.errors:
        raise RegistryValidationError(r.errors)

    models = [visible[slug] for slug in slugs]
    touched = models + (list(event.affected_models.all()) if event is not None else [])
    denied = sorted({model for model in touched if not can_write_data(user, model)}, key=lambda x: x.slug)
    if denied or (not models and not has_role(user, MODEL_RISK)):
        reason = (
            (
                f"'{user.get_username()}' may not record events for "
                + ", ".join(f"'{model.slug}'" for model in denied)
            )
            if denied
            else (f"a fleet-wide event (no models listed) needs the {MODEL_RISK} role")
        )
        error = RegistryPermissionDenied(reason, field="models")
        record_refusal(
            action=ledger_actions.REGISTRY_EVENT_REFUSED,
            user=user,
            subject=event or (denied[0] if len(denied) == 1 else None),
            payload={"models": [m.slug for m in denied], "errors": error.errors},
        )
        raise error
    return fields, models


def external_event_create(*, data: dict[str, Any], user: Any, via: str | None = None) -> ExternalEvent:
    """Record a new external event from ``data`` (see ``external_event_check``)."""
    fields, models = external_event_check(data=data, user=user)
    with transaction.atomic():
        event = ExternalEvent.objects.create(**fields, created_by=user)
        event.affected_models.set(models)
        recorder = ChangeRecorder.for_user(user, via=via)
        recorder.created(ledger_actions.REGISTRY_EVENT_CREATED, event, event_snapshot(event))
        recorder.record_all()
    return event


def external_event_change(
    *, event: ExternalEvent, data: dict[str, Any], user: Any, via: str | None = None
) -> ExternalEvent:
    """Change ``event`` to what ``data`` says (see ``external_event_check``); an unchanged event
    records nothing."""
    fields, models = external_event_check(data=data, user=user, event=event)
    with transaction.atomic():
        event = ExternalEvent.objects.select_for_update().get(pk=event.pk)
        before = event_snapshot(event)
        for key, value in fields.items():
            setattr(event, key, value)
        event.save()
        event.affected_models.set(models)
        recorder = ChangeRecorder.for_user(user, via=via)
        recorder.changed(ledger_actions.REGISTRY_EVENT_CHANGED, event, before, event_snapshot(event))
        recorder.record_all()
    return event
