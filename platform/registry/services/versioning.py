"""Plan and policy versions: fill a section from the tier default, compare it with what is in
force, judge it against the tier default, and write it as a new immutable version."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

from django.db.models import Max

from registry import selectors, strictness
from registry.documents.export import plan_content, policy_content
from registry.documents.fields import content_sha256
from registry.documents.model_document import SectionDocument
from registry.models import MonitoredModel, MonitoringPlan, PolicyException, RetrainingPolicy
from registry.services.audit import ChangeRecorder, model_ref
from vocabulary import ledger_actions

Kind = Literal["plan", "policy"]

ROW_CLASS: dict[str, type[MonitoringPlan] | type[RetrainingPolicy]] = {
    "plan": MonitoringPlan,
    "policy": RetrainingPolicy,
}


def content_of(kind: Kind, row: Any) -> dict[str, Any]:
    return plan_content(row) if kind == "plan" else policy_content(row)


def tier_default(kind: Kind, tier: str) -> Any:
    return selectors.tier_default_plan(tier) if kind == "plan" else selectors.tier_default_policy(tier)


def own_in_force(kind: Kind, model: MonitoredModel | None, tier: str) -> Any:
    if model is None:
        return None
    return selectors.own_in_force(ROW_CLASS[kind], model, tier)


@dataclass
class SectionOutcome:
    kind: Kind
    tier: str
    content: dict[str, Any]
    in_force: Any  # the row in force for ``tier`` now: the model's own, or the tier default
    changed: bool
    reason: str = ""
    loosenings: list[strictness.Loosening] = field(default_factory=list)
    exception: PolicyException | None = None
    errors: dict[str, str] = field(default_factory=dict)  # the input is wrong
    refusals: dict[str, str] = field(default_factory=dict)  # a loosening not covered


def evaluate_section(
    kind: Kind,
    section: SectionDocument,
    *,
    model: MonitoredModel | None,
    tier: str,
    task_type: str,
    has_kpi: bool,
    now: dt.datetime,
    path: str | None = None,
) -> SectionOutcome:
    """What applying ``section`` would do. Writes nothing."""
    path = path or kind
    default_row = tier_default(kind, tier)
    default = content_of(kind, default_row)
    if kind == "policy":
        default = strictness.effective_policy_default(default, task_type)
    content = {**default, **section.values}
    in_force = own_in_force(kind, model, tier) or default_row
    outcome = SectionOutcome(
        kind=kind,
        tier=tier,
        content=content,
        in_force=in_force,
        changed=content != content_of(kind, in_force),
        reason=section.reason,
    )
    if not outcome.changed:
        return outcome

    previous = _newest_own(kind, model)
    if (
        previous is not None
        and section.reason.strip() == previous.reason.strip()
        and content != content_of(kind, previous)
    ):
        changed = sorted(k for k, v in content.items() if content_of(kind, previous).get(k) != v)
        outcome.errors[f"{path}.reason"] = (
            f"the {kind} changes {', '.join(changed)}; say why in {path}.reason (it still reads "
            f"the reason of v{previous.number})"
        )

    if kind == "plan":
        outcome.loosenings = strictness.plan_loosenings(content, default)
    else:
        outcome.loosenings = strictness.policy_loosenings(
            content, default, task_type=task_type, has_kpi=has_kpi
        )
    if section.exception is not None:
        outcome.exception = _exception(kind, section.exception, model, outcome, path)
    if outcome.loosenings:
        _judge_loosenings(outcome, section.exception, tier, now, path)
    return outcome


def _newest_own(kind: Kind, model: MonitoredModel | None) -> Any:
    if model is None:
        return None
    return ROW_CLASS[kind].objects.filter(model=model).order_by("-number").first()


def _exception(
    kind: Kind, exception_id: int, model: MonitoredModel | None, outcome: SectionOutcome, path: str
) -> PolicyException | None:
    exception = PolicyException.objects.select_related("model").filter(pk=exception_id).first()
    where = f"{path}.exception"
    if exception is None:
        outcome.errors[where] = f"there is no policy exception #{exception_id}"
        return None
    if model is None:
        outcome.errors[where] = (
            f"a new model cannot rest on an exception: register it on the "
            f"tier's {kind} first, then propose an exception for it"
        )
        return None
    if exception.model_id != model.pk:
        outcome.errors[where] = (
            f"exception #{exception_id} is for model '{exception.model.slug}', not this one"
        )
        return None
    if exception.target != kind:
        outcome.errors[where] = f"exception #{exception_id} is for the {exception.target}, not the {kind}"
        return None
    return exception


def _judge_loosenings(
    outcome: SectionOutcome, exception_id: int | None, tier: str, now: dt.datetime, path: str
) -> None:
    exception = outcome.exception
    problem = ""
    if exception_id is None:
        problem = "a policy exception is required"
    elif exception is None:
        problem = f"exception #{exception_id} cannot be used (see {path}.exception)"
    elif exception.approved_by_id is None:
        problem = f"exception #{exception.pk} is not approved yet"
    elif exception.approved_by_id == exception.proposed_by_id:
        problem = f"exception #{exception.pk} was approved by its own proposer"
    elif exception.expires_at <= now:
        problem = f"exception #{exception.pk} expired on {exception.expires_at:%Y-%m-%d %H:%M} UTC"
    for loosening in outcome.loosenings:
        message = problem
        if (
            not message
            and exception is not None
            and not strictness.covered_by(loosening.field, list(exception.fields or []))
        ):
            message = f"exception #{exception.pk} does not cover {loosening.field}"
        if message:
            outcome.refusals[f"{path}.{loosening.field}"] = f"{loosening.describe(tier)}; {message}"


def create_version(outcome: SectionOutcome, *, model: MonitoredModel | None, user: Any) -> Any:
    """Write ``outcome`` as the next version number (call only when it changed and was clean)."""
    row_class = ROW_CLASS[outcome.kind]
    rows = row_class.objects.filter(model=model)
    if model is None:
        rows = rows.filter(tier=outcome.tier)
    number = (rows.aggregate(n=Max("number"))["n"] or 0) + 1
    row = row_class(
        model=model,
        tier=outcome.tier,
        number=number,
        reason=outcome.reason,
        created_by=user if getattr(user, "pk", None) else None,
        exception=outcome.exception if outcome.loosenings else None,
        content_sha256=content_sha256(outcome.content),
        **outcome.content,
    )
    row.save()
    return row


def section_version_create(
    outcome: SectionOutcome, *, model: MonitoredModel | None, user: Any, recorder: ChangeRecorder
) -> Any:
    """Write ``outcome`` as a new plan or policy version and add its ledger entry to ``recorder``:
    the one write of a section, for documents and the admin alike (tier defaults included)."""
    row = create_version(outcome, model=model, user=user)
    recorder.add(ledger_actions.section_created(outcome.kind), row, version_payload(outcome, row, model))
    return row


def version_payload(outcome: SectionOutcome, row: Any, model: MonitoredModel | None) -> dict[str, Any]:
    previous = outcome.in_force
    before = content_of(outcome.kind, previous)
    return {
        "model": model_ref(model),
        "tier": outcome.tier,
        "number": row.number,
        "reason": row.reason,
        "content_sha256": row.content_sha256,
        "before": {
            "number": previous.number,
            "tier_default": previous.model_id is None,
            "content_sha256": previous.content_sha256,
            "content": before,
        },
        "after": outcome.content,
        "changed": sorted(k for k, v in outcome.content.items() if before.get(k) != v),
        "loosened": [x.field for x in outcome.loosenings],
        "exception": row.exception_id,
    }


def describe_change(outcome: SectionOutcome, row: Any) -> str:
    previous = content_of(outcome.kind, outcome.in_force)
    parts = []
    for key, value in outcome.content.items():
        if previous.get(key) != value:
            if key == "thresholds":
                parts.append("thresholds changed")
            else:
                parts.append(f"{key} {previous.get(key)} -> {value}")
    base = "tier default" if outcome.in_force.model_id is None else f"v{outcome.in_force.number}"
    suffix = f" under exception #{row.exception_id}" if row.exception_id else ""
    return f"{outcome.kind} v{row.number} replaces {base}: {', '.join(parts)}{suffix}"
