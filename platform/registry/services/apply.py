"""``model_apply``: register or update a model from its document.

The document says what the model should be; this compares it with what is registered and makes
only the difference, in one transaction: validate everything, write, then record every change to
the ledger as the last step. An unchanged document writes nothing and records nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.utils import timezone

from registry import rules, selectors, strictness
from registry.documents.export import model_fields_snapshot, schema_content, username_of, version_snapshot
from registry.documents.fields import DocumentInvalid, content_sha256, iso, json_safe
from registry.documents.model_document import ModelDocument, VersionDocument, read_document
from registry.documents.yaml_lines import join
from registry.models import (
    BaselineMetric,
    FeatureSchema,
    FeatureSpec,
    LifecycleStatus,
    ModelVersion,
    MonitoredModel,
    RiskTier,
    VersionRole,
)
from registry.permissions import can_change_model, can_register_models, can_view_model, has_role
from registry.services.audit import ChangeRecorder, model_ref, record_refusal
from registry.services.errors import (
    RegistryLooseningRefused,
    RegistryPermissionDenied,
    RegistryValidationError,
)
from registry.services.versioning import (
    SectionOutcome,
    describe_change,
    evaluate_section,
    own_in_force,
    section_version_create,
    tier_default,
)
from vocabulary import ledger_actions
from vocabulary.roles import MODEL_OWNER, MODEL_RISK

TIER_RANK = {RiskTier.LOW: 0, RiskTier.MEDIUM: 1, RiskTier.HIGH: 2}
USER_FIELDS = ("owner", "developer", "validator", "accountable_executive", "risk_tier_set_by")


@dataclass(frozen=True)
class ApplyResult:
    model: MonitoredModel
    created: bool
    changes: list[str] = field(default_factory=list)


class _Refused(Exception):
    """Raised inside the transaction so that it rolls back; recorded after it has."""

    def __init__(
        self, error: RegistryPermissionDenied | RegistryLooseningRefused, model: MonitoredModel | None
    ) -> None:
        super().__init__(str(error))
        self.error = error
        self.model = model


class _DryRun(Exception):
    """Rolls back a dry run that passed every check."""

    def __init__(self, result: ApplyResult) -> None:
        super().__init__("dry run")
        self.result = result


def model_apply(
    *, document: dict[str, Any], user: Any, via: str | None = None, dry_run: bool = False
) -> ApplyResult:
    """Register or update the model ``document`` describes, with the permissions of ``user``.

    The one write path of models and versions: documents, the REST API and the admin all come
    here. ``via`` names the interface in the ledger entries ("admin"; None for documents and
    commands). ``dry_run`` checks everything and writes nothing (the transaction is rolled back);
    a refusal is still recorded, as it would be on a real write.

    Raises ``RegistryValidationError`` (``.errors``: path -> message) for wrong input,
    ``RegistryLooseningRefused`` (a ``RegistryValidationError``) for a plan or policy looser than
    the tier's without a covering exception, and ``RegistryPermissionDenied``; the last two are
    recorded in the ledger as ``registry.model.refused``.
    """
    slug = document.get("slug") if isinstance(document, dict) else None
    if not can_register_models(user):
        error = RegistryPermissionDenied(
            f"'{(user.get_username() if user else '') or 'anonymous'}' may not register or change "
            f"models (needs the {MODEL_OWNER} or {MODEL_RISK} role)"
        )
        existing = MonitoredModel.objects.filter(slug=slug).first() if isinstance(slug, str) else None
        _record(error, user, existing, slug)
        raise error
    try:
        doc = read_document(document)
    except DocumentInvalid as exc:
        raise RegistryValidationError(exc.errors) from None
    try:
        with transaction.atomic():
            result = _Apply(doc, user, via=via).run(record=not dry_run)
            if dry_run:
                raise _DryRun(result)
            return result
    except _DryRun as passed:
        return passed.result
    except _Refused as refusal:
        _record(refusal.error, user, refusal.model, doc.fields["slug"])
        raise refusal.error from None
    except IntegrityError as exc:
        raise RegistryValidationError(
            {
                "slug": f"'{doc.fields['slug']}' was changed by someone else at the same time; "
                f"apply the document again ({exc})"
            }
        ) from exc


def _record(
    error: RegistryPermissionDenied | RegistryLooseningRefused,
    user: Any,
    model: MonitoredModel | None,
    slug: Any,
) -> None:
    if model is not None and not model.pk:
        model = None
    record_refusal(
        action=ledger_actions.REGISTRY_MODEL_REFUSED,
        user=user,
        subject=model,
        payload={
            "model": model_ref(model)
            if model
            else {"slug": slug if isinstance(slug, str) else None, "uid": None},
            "refusal": "permission" if isinstance(error, RegistryPermissionDenied) else "loosening",
            "errors": error.errors,
        },
    )


class _Apply:
    def __init__(self, doc: ModelDocument, user: Any, *, via: str | None) -> None:
        self.doc = doc
        self.user = user
        self.now = timezone.now()
        self.ledger = ChangeRecorder.for_user(user, via=via)
        self.changes: list[str] = []
        self.errors: dict[str, str] = {}
        self.users: dict[str, Any] = {}
        self.model: MonitoredModel | None = None
        self.team: Group | None = None

    def _user(self, name: str | None) -> Any:
        """A user named in the document, or kept from what is registered."""
        if not name:
            return None
        if name not in self.users:
            self.users[name] = get_user_model().objects.get(username=name)
        return self.users[name]

    # --- the steps ---------------------------------------------------------------------------

    def run(self, *, record: bool = True) -> ApplyResult:
        slug = self.doc.fields["slug"]
        self.model = (
            MonitoredModel.objects.select_for_update(of=("self",))
            .select_related(
                "owner", "team", "developer", "validator", "accountable_executive", "risk_tier_set_by"
            )
            .filter(slug=slug)
            .first()
        )
        self._check_identity()
        self._check_may_change()
        self._resolve_references()
        self._raise_errors()
        self._check_permissions_on_content()
        fields = self._desired_fields()
        versions = self._desired_versions(fields)
        plan, policy = self._sections(fields)
        self._check_versions_against_policy(versions, policy)
        self._raise_errors(plan, policy)

        created = self.model is None
        model = self._write_model(fields)
        self._write_versions(model, versions)
        for outcome in (plan, policy):
            if outcome is not None and outcome.changed:
                row = section_version_create(outcome, model=model, user=self.user, recorder=self.ledger)
                self.changes.append(describe_change(outcome, row))
        if record:
            self.ledger.record_all()
        return ApplyResult(model=model, created=created, changes=self.changes)

    def _check_identity(self) -> None:
        uid = self.doc.uid
        if uid is None:
            return
        if self.model is not None:
            if self.model.uid != uid:
                self.errors["uid"] = f"model '{self.model.slug}' has permanent id {self.model.uid}, not {uid}"
        elif (other := MonitoredModel.objects.filter(uid=uid).first()) is not None:
            self.errors["uid"] = f"{uid} is the permanent id of model '{other.slug}'"

    def _check_may_change(self) -> None:
        if self.model is not None and not can_change_model(self.user, self.model):
            visible = can_view_model(self.user, self.model)
            raise _Refused(
                RegistryPermissionDenied(
                    f"'{self.user.get_username()}' may not change model '{self.model.slug}'",
                    subject_visible=visible,
                ),
                self.model,
            )

    def _resolve_references(self) -> None:
        fields = self.doc.fields
        names = self.doc.usernames
        self.users = {u.get_username(): u for u in get_user_model().objects.filter(username__in=names)}
        for key in USER_FIELDS:
            self._require_user(key, fields[key])
        for version in self.doc.versions:
            path = join("versions", version.index)
            self._require_user(join(path, "validated_by"), version.validated_by)
            self._require_user(join(path, "retired_by"), version.retired_by)
            problems = rules.validated_by_problems(
                developer=fields["developer"], owner=fields["owner"], validated_by=version.validated_by
            )
            self.errors.update({join(path, key): message for key, message in problems.items()})
        self.errors.update(
            rules.validator_problems(
                developer=fields["developer"], owner=fields["owner"], validator=fields["validator"]
            )
        )
        team_name = fields["team"]
        if problems := rules.team_problems(team_name):
            self.errors.update(problems)
            return
        self.team = Group.objects.filter(name=team_name).first()
        if self.team is None:
            self.errors["team"] = f"there is no team (group) '{team_name}'"
        for key, message in rules.owner_problems(self.users.get(fields["owner"]), self.team).items():
            self.errors.setdefault(key, message)

    def _require_user(self, path: str, name: str | None) -> None:
        if name and name not in self.users:
            self.errors[path] = f"there is no user '{name}'"

    def _check_permissions_on_content(self) -> None:
        if has_role(self.user, MODEL_RISK):
            return
        assert self.team is not None
        if not self.user.groups.filter(pk=self.team.pk).exists():
            raise _Refused(
                RegistryPermissionDenied(
                    f"'{self.user.get_username()}' is not a member of team '{self.team.name}' and "
                    f"may not register models for it",
                    field="team",
                ),
                self.model,
            )
        if self.model is not None:
            old, new = self.model.risk_tier, self.doc.fields["risk_tier"]
            if TIER_RANK[RiskTier(new)] < TIER_RANK[RiskTier(old)]:
                raise _Refused(
                    RegistryPermissionDenied(
                        f"lowering the risk tier from {old} to {new} is for model risk to decide",
                        field="risk_tier",
                    ),
                    self.model,
                )

    def _raise_errors(self, *outcomes: SectionOutcome | None) -> None:
        refusals: dict[str, str] = {}
        for outcome in outcomes:
            if outcome is not None:
                refusals.update(outcome.refusals)
                self.errors.update(outcome.errors)
        if refusals:
            raise _Refused(RegistryLooseningRefused({**self.errors, **refusals}), self.model)
        if self.errors:
            raise RegistryValidationError(self.errors)

    # --- the model ---------------------------------------------------------------------------

    def _desired_fields(self) -> dict[str, Any]:
        fields = dict(self.doc.fields)
        model = self.model
        tier_changed = model is None or model.risk_tier != fields["risk_tier"]
        if fields["risk_tier_set_by"] is None:
            fields["risk_tier_set_by"] = (
                self.user.get_username()
                if tier_changed
                else username_of(model.risk_tier_set_by if model else None)
            )
        if fields["risk_tier_set_at"] is None:
            fields["risk_tier_set_at"] = (
                self.now if tier_changed else (model.risk_tier_set_at if model else None)
            )
        self.users.setdefault(self.user.get_username(), self.user)
        return fields

    def _write_model(self, fields: dict[str, Any]) -> MonitoredModel:
        desired = json_safe(fields)
        model = self.model
        before = model_fields_snapshot(model) if model is not None else None
        if before == desired:
            assert model is not None
            return model
        if model is None:
            model = MonitoredModel(uid=self.doc.uid or uuid.uuid4())
        for key, value in fields.items():
            if key in USER_FIELDS:
                setattr(model, key, self._user(value))
            elif key == "team":
                model.team = self.team
            else:
                setattr(model, key, value)
        model.save()
        after = model_fields_snapshot(model)
        ref = model_ref(model)
        if before is None:
            self.changes.append(f"created model {model.slug}")
            self.ledger.created(ledger_actions.REGISTRY_MODEL_CREATED, model, after, model=ref)
        else:
            changed = self.ledger.changed(
                ledger_actions.REGISTRY_MODEL_CHANGED, model, before, after, model=ref
            )
            self.changes.extend(_field_change(k, before.get(k), after.get(k)) for k in changed)
        self.model = model
        return model

    # --- versions ----------------------------------------------------------------------------

    def _desired_versions(self, fields: dict[str, Any]) -> list[_VersionPlan]:
        existing: dict[str, ModelVersion] = {}
        if self.model is not None:
            existing = {
                v.label: v
                for v in self.model.versions.select_related("validated_by", "retired_by").prefetch_related(
                    "baseline_metrics"
                )
            }
        plans = []
        for version in self.doc.versions:
            plans.append(self._desired_version(version, existing.get(version.label), fields))
        listed = {v.label for v in self.doc.versions}
        for label, current in existing.items():
            if label not in listed:
                stored = version_snapshot(current)
                plans.append(
                    _VersionPlan(doc=None, current=current, stored=stored, state=stored, schema=None)
                )
        self._check_one_champion(plans)
        return plans

    def _desired_version(
        self, doc: VersionDocument, current: ModelVersion | None, fields: dict[str, Any]
    ) -> _VersionPlan:
        path = join("versions", doc.index)
        before = version_snapshot(current) if current is not None else None
        kept = before or {}
        state = {
            "label": doc.label,
            "artifact_sha256": doc.artifact_sha256,
            "status": doc.status,
            "role": doc.role,
            "deployed_at": iso(doc.deployed_at) or kept.get("deployed_at"),
            "validated_at": iso(doc.validated_at) or kept.get("validated_at"),
            "validated_by": doc.validated_by or kept.get("validated_by"),
            "retired_at": iso(doc.retired_at) or kept.get("retired_at"),
            "retired_by": doc.retired_by or kept.get("retired_by"),
            "baseline_metrics": doc.baseline_metrics
            if doc.baseline_metrics is not None
            else kept.get("baseline_metrics", []),
        }
        if doc.status == LifecycleStatus.PRODUCTION and not state["deployed_at"]:
            state["deployed_at"] = iso(self.now)
        if doc.status == LifecycleStatus.RETIRED:
            state["retired_at"] = state["retired_at"] or iso(self.now)
            state["retired_by"] = state["retired_by"] or self.user.get_username()
        has_schema = doc.schema is not None or (
            current is not None and selectors.schema_current_or_none(current) is not None
        )
        problems = rules.version_problems(
            state=state,
            stored=before,
            developer=fields["developer"],
            owner=fields["owner"],
            has_schema=has_schema,
            policy_metric=None,
        )
        for key, message in problems.items():
            self.errors[join(path, key)] = message
        return _VersionPlan(doc=doc, current=current, stored=before, state=state, schema=doc.schema)

    def _check_one_champion(self, plans: list[_VersionPlan]) -> None:
        champions = [p for p in plans if p.is_production_champion]
        problem = rules.one_champion_problem([p.state["label"] for p in champions])
        if problem is not None:
            listed = [p for p in champions if p.doc is not None]
            where = join(join("versions", listed[-1].doc.index), "role") if listed else "versions"
            self.errors[where] = problem

    def _check_versions_against_policy(
        self, plans: list[_VersionPlan], policy: SectionOutcome | None
    ) -> None:
        if policy is not None:
            metric = policy.content["performance_metric"]
        else:
            metric = self._policy_in_force_metric()
            if metric is None:
                return
        for plan in plans:
            if plan.doc is None:
                continue
            # the same rule as in _desired_version, now that the policy's metric is known
            problem = rules.version_problems(
                state=plan.state,
                stored=None,
                developer=None,
                owner=None,
                has_schema=True,
                policy_metric=metric,
            ).get("baseline_metrics")
            if problem is not None:
                self.errors.setdefault(join(join("versions", plan.doc.index), "baseline_metrics"), problem)

    def _policy_in_force_metric(self) -> str | None:
        fields = self.doc.fields
        tier, task_type = fields["risk_tier"], fields["task_type"]
        in_force = own_in_force("policy", self.model, tier) or tier_default("policy", tier)
        metric = in_force.performance_metric
        if metric not in strictness.TASK_METRICS[task_type]:
            self.errors["policy"] = (
                f"a {task_type} model needs its own retraining policy: the {tier} tier's "
                f"default measures {metric}; give policy.performance_metric, one of "
                f"{', '.join(strictness.TASK_METRICS[task_type])}"
            )
            return None
        return str(metric)

    def _write_versions(self, model: MonitoredModel, plans: list[_VersionPlan]) -> None:
        # Demote before promoting: the one-champion constraint is checked row by row. Otherwise
        # versions are written in the document's order, which an export then repeats.
        sitting = {
            p.current.pk
            for p in plans
            if p.current is not None
            and p.current.status == LifecycleStatus.PRODUCTION
            and p.current.role == VersionRole.CHAMPION
        }

        def promoted_later(plan: _VersionPlan) -> bool:
            return plan.is_production_champion and bool(
                sitting - ({plan.current.pk} if plan.current is not None else set())
            )

        for plan in sorted(plans, key=promoted_later):
            if plan.doc is None:
                continue
            version = self._write_version(model, plan)
            if plan.schema is not None:
                self._write_schema(model, version, plan.schema)

    def _write_version(self, model: MonitoredModel, plan: _VersionPlan) -> ModelVersion:
        state, version, before = plan.state, plan.current, plan.stored
        if before == state:
            assert version is not None
            return version
        if version is None:
            version = ModelVersion(model=model)
        version.label = state["label"]
        version.artifact_sha256 = state["artifact_sha256"]
        version.status = state["status"]
        version.role = state["role"]
        for key in ("deployed_at", "validated_at", "retired_at"):
            setattr(version, key, _parse_iso(state[key]))
        for key in ("validated_by", "retired_by"):
            setattr(version, key, self._user(state[key]))
        version.save()
        if before is None or before["baseline_metrics"] != state["baseline_metrics"]:
            version.baseline_metrics.all().delete()
            BaselineMetric.objects.bulk_create(
                BaselineMetric(version=version, **b) for b in state["baseline_metrics"]
            )
        after = version_snapshot(version)
        ref = model_ref(model)
        if before is None:
            role = f", {after['role']}" if after["role"] else ""
            self.changes.append(f"version {version.label} registered ({after['status']}{role})")
            self.ledger.created(ledger_actions.REGISTRY_VERSION_CREATED, version, after, model=ref)
        else:
            changed = self.ledger.changed(
                ledger_actions.REGISTRY_VERSION_CHANGED, version, before, after, model=ref
            )
            self.changes.extend(
                f"version {version.label}: " + _field_change(k, before.get(k), after.get(k)) for k in changed
            )
        return version

    def _write_schema(self, model: MonitoredModel, version: ModelVersion, content: dict[str, Any]) -> None:
        current = selectors.schema_current_or_none(version)
        before = schema_content(current) if current is not None else None
        if before == content:
            return
        schema = FeatureSchema.objects.create(
            version=version,
            number=(current.number + 1) if current else 1,
            content_sha256=content_sha256(content),
            created_by=self.user,
            **{k: v for k, v in content.items() if k != "features"},
        )
        FeatureSpec.objects.bulk_create(
            FeatureSpec(schema=schema, position=i, **feature) for i, feature in enumerate(content["features"])
        )
        summary = _schema_change(before, content)
        self.changes.append(
            f"schema v{schema.number} for version {version.label}" + (f" ({summary})" if summary else "")
        )
        self.ledger.add(
            ledger_actions.REGISTRY_SCHEMA_CREATED,
            schema,
            {
                "model": model_ref(model),
                "version": version.label,
                "number": schema.number,
                "content_sha256": schema.content_sha256,
                "before": None
                if current is None
                else {"number": current.number, "content_sha256": current.content_sha256, "content": before},
                "after": content,
                "summary": summary,
            },
        )

    # --- plan and policy ---------------------------------------------------------------------

    def _sections(self, fields: dict[str, Any]) -> tuple[SectionOutcome | None, SectionOutcome | None]:
        common = {
            "model": self.model,
            "tier": fields["risk_tier"],
            "task_type": fields["task_type"],
            "has_kpi": bool(fields["kpi_name"]),
            "now": self.now,
        }
        plan = evaluate_section("plan", self.doc.plan, **common) if self.doc.plan else None
        policy = evaluate_section("policy", self.doc.policy, **common) if self.doc.policy else None
        return plan, policy


@dataclass
class _VersionPlan:
    doc: VersionDocument | None  # None: registered, not in the document, left as it is
    current: ModelVersion | None
    stored: dict[str, Any] | None  # ``version_snapshot`` of ``current``, taken once
    state: dict[str, Any]
    schema: dict[str, Any] | None

    @property
    def is_production_champion(self) -> bool:
        return (
            self.state["status"] == LifecycleStatus.PRODUCTION and self.state["role"] == VersionRole.CHAMPION
        )


def _parse_iso(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def _field_change(key: str, before: Any, after: Any) -> str:
    def show(value: Any) -> str:
        text = "none" if value in (None, "") else str(value)
        return text if len(text) <= 40 else text[:37] + "..."

    return f"{key}: {show(before)} -> {show(after)}"


def _schema_change(before: dict[str, Any] | None, after: dict[str, Any]) -> str:
    if before is None:
        return f"{len(after['features'])} features"
    old = {f["name"]: f for f in before["features"]}
    new = {f["name"]: f for f in after["features"]}
    parts = []
    if added := [n for n in new if n not in old]:
        parts.append("added " + ", ".join(added))
    if removed := [n for n in old if n not in new]:
        parts.append("removed " + ", ".join(removed))
    if changed := [n for n in new if n in old and new[n] != old[n]]:
        parts.append("changed " + ", ".join(changed))
    columns = [k for k in after if k != "features" and after[k] != before.get(k)]
    if columns:
        parts.append("columns " + ", ".join(columns))
    if not parts and [f["name"] for f in before["features"]] != list(new):
        parts.append("features reordered")
    return "; ".join(parts)
