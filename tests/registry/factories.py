"""The suite's named people and the registry's factories, shared by every test that needs a
registered model (tests/registry, tests/registry/api, tests/monitors).

    world = RegistryWorld()                       # alice, bob, rita, mo, ada, val (see below)
    model = world.register(slug="retail-pd")      # through model_apply, as alice
    owner = OwnerFactory()                        # a model owner in a team of their own
    model = MonitoredModelFactory(owner=owner)    # a raw row: see its docstring

``model_document(...)`` builds a valid document for ``registry.services.model_apply`` (and the
API): a high-tier binary model with one production champion, a schema and a baseline; keyword
arguments override top-level keys. A model a test works *with* comes from there, so it is one the
registry accepted (validated versions, a schema, a baseline, real content hashes). The
factories below that build registry rows directly (models, versions, schemas, plans, policies)
skip those rules: they are for tests of selectors, scoping and refusals, which need a row to
exist rather than a model the registry would accept; each docstring says what it leaves out.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import importlib
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from registry.documents.fields import content_sha256
from registry.models import (
    BaselineMetric,
    DecisionType,
    ExternalEvent,
    FeatureKind,
    FeatureSchema,
    FeatureSpec,
    LifecycleStatus,
    ModelVersion,
    MonitoredModel,
    MonitoringPlan,
    PolicyException,
    RetrainingPolicy,
    RiskTier,
    ServiceAccount,
    TaskType,
    VersionRole,
)
from registry.services import model_apply, policy_exception_approve, policy_exception_propose
from vocabulary.roles import ALL_ROLES, AUDITOR, MODEL_OWNER, MODEL_RISK, SERVICE_ACCOUNT


def restore_migration_data() -> None:
    """A transactional test starts after another one's flush may have emptied every table,
    including the rows migrations create: the role groups and the tier defaults. Puts back what
    is missing (the migration's own function, so the values are the migration's)."""
    from types import SimpleNamespace

    from django.apps import apps
    from django.db import connection

    for name in ALL_ROLES:
        role(name)
    tier_defaults = importlib.import_module("registry.migrations.0002_tier_defaults")
    tier_defaults.create_tier_defaults(apps, SimpleNamespace(connection=connection))


def role(name: str) -> Group:
    """The role group (created by the fleetwatch migration; get_or_create keeps tests honest on
    a database flushed by a transactional test)."""
    return Group.objects.get_or_create(name=name)[0]


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class GroupFactory(factory.django.DjangoModelFactory):
    """A team."""

    class Meta:
        model = Group
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"team-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    """A user; ``roles=[MODEL_OWNER]`` and ``teams=[group]`` add group memberships."""

    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = ""
    is_active = True
    password = factory.django.Password(None)  # unusable; tests log in with force_login

    @factory.post_generation
    def roles(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted:
            self.groups.add(*(role(name) for name in extracted))

    @factory.post_generation
    def teams(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted:
            self.groups.add(*extracted)


def _with_role(name: str) -> Any:
    def add(user: Any, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            user.groups.add(*(role(r) for r in (extracted if extracted is not None else [name])))

    return factory.PostGeneration(add)


class OwnerFactory(UserFactory):
    """A model owner with a team of their own (pass ``teams=[...]`` to choose)."""

    username = factory.Sequence(lambda n: f"owner{n}")
    roles = _with_role(MODEL_OWNER)

    @factory.post_generation
    def teams(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            self.groups.add(*(extracted if extracted is not None else [GroupFactory()]))


class ModelRiskUserFactory(UserFactory):
    username = factory.Sequence(lambda n: f"risk{n}")
    roles = _with_role(MODEL_RISK)


class AuditorFactory(UserFactory):
    username = factory.Sequence(lambda n: f"auditor{n}")
    roles = _with_role(AUDITOR)


class SuperuserFactory(UserFactory):
    username = factory.Sequence(lambda n: f"admin{n}")
    is_staff = True
    is_superuser = True


def _team_of(owner: Any) -> Group:
    team = (
        owner.groups.exclude(name__in=(MODEL_OWNER, MODEL_RISK, AUDITOR, SERVICE_ACCOUNT))
        .order_by("pk")
        .first()
    )
    return team or GroupFactory()


class MonitoredModelFactory(factory.django.DjangoModelFactory):
    """A raw model row, not through ``model_apply``: no versions, no plan or policy of its own, no
    ledger entry; the team is the owner's first. For tests that need a model to exist (scoping,
    permissions, refusals, a second model beside a world's). ``model_apply`` would refuse some
    rows this makes (a regression or multiclass model without a policy of its own, an owner
    outside the team); a model a test monitors comes from ``RegistryWorld.register``."""

    class Meta:
        model = MonitoredModel
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"model-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").title())
    description = "A model registered by a factory."
    decision_type = DecisionType.AUTOMATED
    task_type = TaskType.BINARY
    business_unit = "Retail credit"
    owner = factory.SubFactory(OwnerFactory)
    team = factory.LazyAttribute(lambda o: _team_of(o.owner))
    risk_tier = RiskTier.HIGH
    risk_tier_rationale = "Automated credit decisions about natural persons."
    kpi_name = "approval_rate"
    kpi_reference_value = 0.42


class ModelVersionFactory(factory.django.DjangoModelFactory):
    """A raw version row (development by default, which needs nothing more). Given a monitored
    status (approved, production, restricted) it skips what ``model_apply`` demands: validation,
    a feature schema, a baseline for the policy's metric; for selector tests only."""

    class Meta:
        model = ModelVersion

    model = factory.SubFactory(MonitoredModelFactory)
    label = factory.Sequence(lambda n: f"v{n}")
    artifact_sha256 = factory.LazyAttribute(lambda o: sha(f"artifact {o.label}"))
    status = LifecycleStatus.DEVELOPMENT
    role = VersionRole.NONE


class ProductionChampionFactory(ModelVersionFactory):
    """A raw production champion, validated by a model-risk user, but with no schema and no
    baseline: ``model_apply`` would refuse it. For tests of which version is the champion."""

    status = LifecycleStatus.PRODUCTION
    role = VersionRole.CHAMPION
    deployed_at = factory.LazyFunction(timezone.now)
    validated_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=30))
    validated_by = factory.SubFactory(ModelRiskUserFactory)


class BaselineMetricFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BaselineMetric

    version = factory.SubFactory(ModelVersionFactory)
    metric = "auc"
    value = 0.78
    holdout = "holdout-2025q4"


class FeatureSchemaFactory(factory.django.DjangoModelFactory):
    """A schema; its ``content_sha256`` is a placeholder unless ``finish_schema`` is called
    after adding features."""

    class Meta:
        model = FeatureSchema

    version = factory.SubFactory(ModelVersionFactory)
    number = 1
    target_column = "label"
    prediction_column = "prediction"
    score_columns = factory.LazyFunction(lambda: ["score"])
    content_sha256 = "0" * 64


class FeatureSpecFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FeatureSpec

    schema = factory.SubFactory(FeatureSchemaFactory)
    position = factory.Sequence(lambda n: n)
    name = factory.Sequence(lambda n: f"feature_{n}")
    kind = FeatureKind.NUMERIC


def finish_schema(schema: FeatureSchema) -> FeatureSchema:
    """Set the schema's hash from its content, as the services do."""
    from registry.documents.export import schema_content

    FeatureSchema.objects.filter(pk=schema.pk).update(content_sha256=content_sha256(schema_content(schema)))
    schema.refresh_from_db()
    return schema


class MonitoringPlanFactory(factory.django.DjangoModelFactory):
    """A raw plan row with the high tier's default values unless overridden, and a placeholder
    ``content_sha256``; not judged against the tier (a looser value is not refused) and not in
    the ledger. For selector and admin tests; a plan a model runs under comes from a document's
    ``plan:`` section."""

    class Meta:
        model = MonitoringPlan

    model = factory.SubFactory(MonitoredModelFactory)
    tier = factory.LazyAttribute(lambda o: o.model.risk_tier if o.model else RiskTier.HIGH)
    number = factory.Sequence(lambda n: n + 1)
    reason = "A plan made by a factory."
    drift_window_days = 1
    performance_window_days = 30
    grace_hours = 6
    label_maturity_days = 90
    alpha = 0.01
    correction = "bh"
    min_sample_size = 1000
    drift_share_threshold = 0.2
    thresholds = factory.LazyFunction(
        lambda: {
            "psi": {"value": 0.1, "rationale": "factory", "approver": ""},
            "jensenshannon": {"value": 0.1, "rationale": "factory", "approver": ""},
            "hellinger": {"value": 0.1, "rationale": "factory", "approver": ""},
        }
    )
    content_sha256 = "0" * 64


class RetrainingPolicyFactory(factory.django.DjangoModelFactory):
    """A raw policy row, like ``MonitoringPlanFactory``: placeholder hash, never judged."""

    class Meta:
        model = RetrainingPolicy

    model = factory.SubFactory(MonitoredModelFactory)
    tier = factory.LazyAttribute(lambda o: o.model.risk_tier if o.model else RiskTier.HIGH)
    number = factory.Sequence(lambda n: n + 1)
    reason = "A policy made by a factory."
    performance_metric = "auc"
    performance_tolerance_abs = 0.02
    performance_tolerance_rel = 0.03
    confidence_level = 0.95
    kpi_gate = 0.05
    cooldown_days = 14
    max_model_age_days = 365
    approvals_required = 2
    content_sha256 = "0" * 64


class PolicyExceptionFactory(factory.django.DjangoModelFactory):
    """An exception for the plan's ``alpha``, proposed by the model's owner, not approved; use
    ``approved_by=ModelRiskUserFactory()`` (and ``approved_at``) for an approved one."""

    class Meta:
        model = PolicyException

    model = factory.SubFactory(MonitoredModelFactory)
    target = PolicyException.Target.PLAN
    fields = factory.LazyFunction(lambda: ["alpha"])
    reason = "Seasonal volume too low for the tier's significance level."
    proposed_by = factory.LazyAttribute(lambda o: o.model.owner)
    expires_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=90))


class ExternalEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExternalEvent
        skip_postgeneration_save = True

    kind = ExternalEvent.Kind.CAMPAIGN
    title = factory.Sequence(lambda n: f"Campaign {n}")
    starts_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def affected_models(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted:
            self.affected_models.set(extracted)


class ServiceAccountFactory(factory.django.DjangoModelFactory):
    """A service account whose token is ``token-<name>`` (hashed with plain SHA-256 here; the
    auth module decides how tokens are really made)."""

    class Meta:
        model = ServiceAccount
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"serving-{n}")
    user = factory.SubFactory(
        UserFactory,
        username=factory.LazyAttribute(lambda o: f"svc-{o.factory_parent.name}"),
        roles=[SERVICE_ACCOUNT],
    )
    token_prefix = factory.LazyAttribute(lambda o: f"fw_{o.name}"[:12])
    token_sha256 = factory.LazyAttribute(lambda o: sha(f"token-{o.name}"))

    @factory.post_generation
    def scoped_models(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted:
            self.scoped_models.set(extracted)


# --- documents -------------------------------------------------------------------------------

BASE_FEATURES: list[dict[str, Any]] = [
    {
        "name": "age",
        "kind": "numeric",
        "nullable": False,
        "min_value": 18,
        "max_value": 100,
        "importance": 0.3,
        "is_key": True,
    },
    {"name": "income", "kind": "numeric", "min_value": 0, "importance": 0.4, "is_key": True},
    {
        "name": "region",
        "kind": "categorical",
        "categories": ["north", "south", "east", "west"],
        "importance": 0.1,
        "is_segment": True,
    },
    {"name": "has_mortgage", "kind": "boolean", "importance": 0.1},
    {"name": "application_date", "kind": "datetime", "importance": 0.05},
    {"name": "employer_name", "kind": "text", "importance": 0.05},
]


def version_document(label: str = "2025.1", **overrides: Any) -> dict[str, Any]:
    version = {
        "label": label,
        "artifact_sha256": sha(f"artifact {label}"),
        "status": "production",
        "role": "champion",
        "deployed_at": "2025-02-01T00:00:00Z",
        "validated_at": "2025-01-20T00:00:00Z",
        "validated_by": None,  # set by model_document
        "baseline_metrics": [{"metric": "auc", "value": 0.78, "holdout": "holdout-2024q4"}],
        "target_column": "default_12m",
        "prediction_column": "decision",
        "score_columns": ["pd"],
        "expected_rows_per_day": 5000,
        "features": copy.deepcopy(BASE_FEATURES),
    }
    version.update(overrides)
    return version


def model_document(
    *, owner: str, team: str, validator: str, slug: str = "retail-pd", **overrides: Any
) -> dict[str, Any]:
    """A valid document: a high-tier binary model with one production champion validated by
    ``validator`` (who must exist and must not be the developer)."""
    version = version_document(validated_by=validator)
    document: dict[str, Any] = {
        "slug": slug,
        "name": "Retail probability of default",
        "description": "Scores applications for unsecured personal loans.",
        "purpose": "Credit origination decisions.",
        "decision_type": "automated",
        "affects_natural_persons": True,
        "task_type": "binary",
        "business_unit": "Retail credit",
        "owner": owner,
        "team": team,
        "validator": validator,
        "risk_tier": "high",
        "risk_tier_rationale": "Automated credit decisions about natural persons.",
        "regulatory_scope": ["eu-ai-act-high-risk", "credit-decisions"],
        "personal_data": True,
        "kpi_name": "approval_rate",
        "kpi_reference_value": 0.42,
        "versions": [version],
    }
    document.update(overrides)
    return document


class RegistryWorld:
    """The suite's one named cast. Alice owns models in team "retail-credit"; Bob is a model owner
    in team "pricing"; Rita and Mo are model risk; Ada is an auditor; Val (no role) validates.
    ``world.document()`` is a document Alice may register; ``world.register(...)`` registers it.

    Building it again finds the same people (users and teams are got or created), so the worlds
    built on it (the data plane's, the checks') share them with a test's own ``RegistryWorld()``.
    """

    def __init__(self) -> None:
        restore_migration_data()
        self.team = GroupFactory(name="retail-credit")
        self.other_team = GroupFactory(name="pricing")
        self.alice = OwnerFactory(username="alice", teams=[self.team])
        self.bob = OwnerFactory(username="bob", teams=[self.other_team])
        self.rita = ModelRiskUserFactory(username="rita")
        self.mo = ModelRiskUserFactory(username="mo")
        self.ada = AuditorFactory(username="ada")
        self.val = UserFactory(username="val")

    def document(self, **overrides: Any) -> dict[str, Any]:
        people = {"owner": "alice", "team": "retail-credit", "validator": "val"}
        people.update({k: overrides.pop(k) for k in list(people) if k in overrides})
        return model_document(**people, **overrides)

    def register(self, **overrides: Any) -> MonitoredModel:
        """Register ``self.document(**overrides)`` through ``model_apply`` as Alice (the owner,
        in the team); raises what the registry raises if the document is refused."""
        return model_apply(document=self.document(**overrides), user=self.alice).model

    def exception_approved(
        self, model: MonitoredModel, *, target: str, fields: list[str], reason: str
    ) -> PolicyException:
        """A policy exception for ``fields`` of ``model``'s ``target``, proposed by Alice and
        approved by Rita (model risk, not the proposer), valid for 90 days: what a plan or policy
        looser than its tier's must name."""
        exception = policy_exception_propose(
            model=model,
            target=target,
            fields=fields,
            reason=reason,
            expires_at=timezone.now() + dt.timedelta(days=90),
            user=self.alice,
        )
        return policy_exception_approve(exception=exception, user=self.rita)
