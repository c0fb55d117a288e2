"""registry.services.model_apply: registering and updating a model from its document."""

from __future__ import annotations

import copy
import hashlib
import json

import pytest
import rfc8785

from audit.ledger.models import LedgerEntry
from registry.documents.export import schema_content
from registry.models import (
    FeatureSchema,
    ModelVersion,
    MonitoredModel,
    MonitoringPlan,
    RetrainingPolicy,
)
from registry.selectors import plan_in_force, policy_in_force, schema_current
from registry.services import (
    RegistryPermissionDenied,
    RegistryValidationError,
    model_apply,
)
from tests.registry.factories import (
    GroupFactory,
    UserFactory,
    sha,
    version_document,
)

pytestmark = pytest.mark.django_db


def actions() -> list[str]:
    return list(LedgerEntry.objects.order_by("sequence").values_list("action", flat=True))


def test_it_registers_a_model_with_its_version_baseline_and_schema(world):
    result = model_apply(document=world.document(), user=world.alice)

    model = result.model
    assert result.created is True
    assert (model.slug, model.owner, model.team, model.validator) == (
        "retail-pd",
        world.alice,
        world.team,
        world.val,
    )
    assert model.risk_tier_set_by == world.alice and model.risk_tier_set_at is not None
    version = model.versions.get()
    assert (version.status, version.role, version.validated_by) == ("production", "champion", world.val)
    assert [(b.metric, b.value) for b in version.baseline_metrics.all()] == [("auc", 0.78)]
    schema = schema_current(version)
    assert schema.number == 1
    assert [f.name for f in schema.features.order_by("position")] == [
        "age",
        "income",
        "region",
        "has_mortgage",
        "application_date",
        "employer_name",
    ]
    assert actions() == ["registry.model.created", "registry.version.created", "registry.schema.created"]
    assert result.changes[0] == "created model retail-pd"


def test_unchanged_input_changes_nothing_and_records_nothing(world):
    model_apply(document=world.document(), user=world.alice)
    entries = LedgerEntry.objects.count()
    versions, schemas = ModelVersion.objects.count(), FeatureSchema.objects.count()

    again = model_apply(document=world.document(), user=world.alice)

    assert (again.created, again.changes) == (False, [])
    assert LedgerEntry.objects.count() == entries
    assert (ModelVersion.objects.count(), FeatureSchema.objects.count()) == (versions, schemas)


def test_a_plan_equal_to_the_tier_default_creates_no_plan_version(world):
    document = world.document(plan={"reason": "Spelled out.", "alpha": 0.01})
    model_apply(document=document, user=world.alice)
    assert not MonitoringPlan.objects.filter(model__slug="retail-pd").exists()


def test_a_changed_field_is_recorded_with_before_and_after(world):
    model_apply(document=world.document(), user=world.alice)

    result = model_apply(
        document=world.document(name="Retail PD v2", kpi_reference_value=0.5), user=world.alice
    )

    assert result.changes == [
        "kpi_reference_value: 0.42 -> 0.5",
        "name: Retail probability of default -> Retail PD v2",
    ]
    entry = LedgerEntry.objects.get(action="registry.model.changed")
    assert entry.payload["changed"] == ["kpi_reference_value", "name"]
    assert entry.payload["before"]["name"] == "Retail probability of default"
    assert entry.payload["after"]["name"] == "Retail PD v2"
    assert (entry.actor_kind, entry.actor_name) == ("user", "alice")
    assert (entry.subject_type, entry.subject_id) == ("registry.monitoredmodel", str(result.model.pk))


def test_editing_a_feature_creates_a_new_schema_number_with_the_hash_of_its_content(world):
    model_apply(document=world.document(), user=world.alice)
    document = world.document()
    document["versions"][0]["features"][2]["categories"].append("islands")

    result = model_apply(document=document, user=world.alice)

    version = result.model.versions.get()
    assert list(version.schemas.values_list("number", flat=True)) == [2, 1]
    current = schema_current(version)
    assert current.features.get(name="region").categories[-1] == "islands"
    assert result.changes == ["schema v2 for version 2025.1 (changed region)"]
    # Independently: SHA-256 of the RFC 8785 form of the content, every feature key present.
    content = json.loads(json.dumps(schema_content(current)))
    assert current.content_sha256 == hashlib.sha256(rfc8785.dumps(content)).hexdigest()
    entry = LedgerEntry.objects.filter(action="registry.schema.created").last()
    assert entry.payload["number"] == 2 and entry.payload["before"]["number"] == 1
    assert entry.payload["content_sha256"] == current.content_sha256


def test_a_changed_plan_becomes_a_new_version_with_who_and_why(world):
    model_apply(
        document=world.document(plan={"reason": "Volume allows it.", "alpha": 0.02}), user=world.alice
    )
    result = model_apply(
        document=world.document(plan={"reason": "Even earlier alarms.", "alpha": 0.03}), user=world.alice
    )

    plans = MonitoringPlan.objects.filter(model=result.model).order_by("number")
    assert [(p.number, p.alpha, p.reason) for p in plans] == [
        (1, 0.02, "Volume allows it."),
        (2, 0.03, "Even earlier alarms."),
    ]
    assert plans[1].created_by == world.alice
    assert plan_in_force(result.model) == plans[1]
    entry = LedgerEntry.objects.filter(action="registry.plan.created").last()
    assert entry.payload["before"]["content"]["alpha"] == 0.02
    assert entry.payload["after"]["alpha"] == 0.03
    assert entry.payload["changed"] == ["alpha"]


def test_a_changed_plan_with_the_old_reason_is_refused_naming_the_reason(world):
    model_apply(document=world.document(plan={"reason": "Volume.", "alpha": 0.02}), user=world.alice)
    with pytest.raises(RegistryValidationError) as excinfo:
        model_apply(document=world.document(plan={"reason": "Volume.", "alpha": 0.03}), user=world.alice)
    assert "say why" in excinfo.value.errors["plan.reason"]


def test_a_multiclass_model_gets_its_policy_metric_and_the_tier_tolerances(world):
    document = world.document(
        task_type="multiclass", policy={"reason": "Macro F1.", "performance_metric": "macro_f1"}
    )
    version = document["versions"][0]
    version["score_columns"] = ["score_a", "score_b", "score_c"]
    version["baseline_metrics"] = [{"metric": "macro_f1", "value": 0.7, "holdout": "h"}]

    model = model_apply(document=document, user=world.alice).model

    policy = policy_in_force(model)
    assert (policy.performance_metric, policy.performance_tolerance_abs) == ("macro_f1", 0.02)
    assert RetrainingPolicy.objects.filter(model=model).count() == 1


def test_a_regression_model_without_its_own_policy_is_told_to_name_a_metric(world):
    document = world.document(task_type="regression")
    version = document["versions"][0]
    version["score_columns"] = []
    version["baseline_metrics"] = [{"metric": "rmse", "value": 12.0, "holdout": "h"}]
    with pytest.raises(RegistryValidationError) as excinfo:
        model_apply(document=document, user=world.alice)
    assert "needs its own retraining policy" in excinfo.value.errors["policy"]


# --- rules that name the field --------------------------------------------------------------


def test_a_validator_who_is_the_developer_is_refused_with_the_field_named(world):
    with pytest.raises(RegistryValidationError) as excinfo:
        model_apply(document=world.document(developer="val"), user=world.alice)
    assert excinfo.value.errors["validator"] == (
        "'val' is also the developer; the validator must be independent of the developer"
    )
    assert "versions[0].validated_by" in excinfo.value.errors
    assert not MonitoredModel.objects.exists()


def test_two_production_champions_are_refused_naming_the_role(world):
    document = world.document()
    document["versions"].append(version_document("2025.2", validated_by="val"))
    with pytest.raises(RegistryValidationError) as excinfo:
        model_apply(document=document, user=world.alice)
    assert excinfo.value.errors["versions[1].role"].startswith(
        "a model has one champion in production at a time: 2025.1 and 2025.2"
    )


def test_a_champion_can_be_handed_over_in_one_document(world):
    model_apply(document=world.document(), user=world.alice)
    document = world.document()
    document["versions"][0]["status"] = "retired"
    document["versions"][0]["role"] = ""
    document["versions"].append(version_document("2025.2", validated_by="val"))

    result = model_apply(document=document, user=world.alice)

    old, new = result.model.versions.order_by("created_at")
    assert (old.status, old.retired_by, new.role) == ("retired", world.alice, "champion")
    assert old.retired_at is not None


def test_a_new_artifact_under_an_old_label_is_refused(world):
    model_apply(document=world.document(), user=world.alice)
    document = world.document()
    document["versions"][0]["artifact_sha256"] = sha("another artifact")
    with pytest.raises(RegistryValidationError) as excinfo:
        model_apply(document=document, user=world.alice)
    assert "a new artifact is a new version" in excinfo.value.errors["versions[0].artifact_sha256"]


def test_a_retired_version_stays_retired(world):
    document = world.document()
    document["versions"].insert(0, version_document("2024.1", status="retired", role="", validated_by="val"))
    model_apply(document=document, user=world.alice)
    document["versions"][0]["status"] = "development"
    with pytest.raises(RegistryValidationError) as excinfo:
        model_apply(document=document, user=world.alice)
    assert "stays retired" in excinfo.value.errors["versions[0].status"]


def test_validated_baselines_are_frozen(world):
    model_apply(document=world.document(), user=world.alice)
    document = world.document()
    document["versions"][0]["baseline_metrics"][0]["value"] = 0.99
    with pytest.raises(RegistryValidationError) as excinfo:
        model_apply(document=document, user=world.alice)
    assert "cannot change" in excinfo.value.errors["versions[0].baseline_metrics"]


def test_a_production_version_needs_validation_a_baseline_for_the_metric_and_a_schema(world):
    document = world.document()
    version = document["versions"][0]
    del version["validated_at"]
    version["baseline_metrics"] = [{"metric": "gini", "value": 0.5, "holdout": "h"}]
    for key in ("features", "target_column", "prediction_column", "score_columns", "expected_rows_per_day"):
        del version[key]
    with pytest.raises(RegistryValidationError) as excinfo:
        model_apply(document=document, user=world.alice)
    errors = excinfo.value.errors
    assert "must have been validated" in errors["versions[0].validated_by"]
    assert "'auc'" in errors["versions[0].baseline_metrics"]
    assert "needs a feature schema" in errors["versions[0].features"]


@pytest.mark.parametrize(
    ("overrides", "path", "message"),
    [
        ({"owner": "nobody"}, "owner", "there is no user 'nobody'"),
        ({"validator": "ghost"}, "validator", "there is no user 'ghost'"),
        ({"team": "no-such-team"}, "team", "there is no team (group) 'no-such-team'"),
        ({"team": "model risk"}, "team", "'model risk' is a role, not a team"),
        ({"owner": "val"}, "owner", "'val' does not have the model owner role"),
        ({"risk_tier": "extreme"}, "risk_tier", "'extreme' is not one of high, medium, low"),
        ({"name": 42}, "name", "expected a string, got a number (42)"),
        ({"colour": "red"}, "colour", "unknown key; expected one of"),
        ({"uid": "not-a-uuid"}, "uid", "'not-a-uuid' is not a UUID"),
    ],
)
def test_bad_input_is_refused_with_the_field_named(world, overrides, path, message):
    with pytest.raises(RegistryValidationError) as excinfo:
        model_apply(document=world.document(**overrides), user=world.alice)
    assert message in excinfo.value.errors[path]
    assert not MonitoredModel.objects.exists()
    assert not LedgerEntry.objects.exists()


def test_an_owner_outside_the_team_is_refused(world):
    outsider = UserFactory(username="olga", roles=["model owner"], teams=[GroupFactory()])
    with pytest.raises(RegistryValidationError) as excinfo:
        model_apply(document=world.document(owner=outsider.username), user=world.rita)
    assert excinfo.value.errors["owner"] == "'olga' is not a member of team 'retail-credit'"


def test_a_document_that_is_not_a_mapping_is_refused(world):
    with pytest.raises(RegistryValidationError) as excinfo:
        model_apply(document=["slug"], user=world.alice)  # type: ignore[arg-type]
    assert "expected a mapping" in excinfo.value.errors["(document)"]


def test_the_permanent_id_must_match(world):
    model = model_apply(document=world.document(), user=world.alice).model
    document = world.document(uid="00000000-0000-0000-0000-000000000001")
    with pytest.raises(RegistryValidationError) as excinfo:
        model_apply(document=document, user=world.alice)
    assert str(model.uid) in excinfo.value.errors["uid"]


# --- permissions -------------------------------------------------------------------------------


def test_an_auditor_may_not_register_and_the_refusal_is_recorded(world):
    with pytest.raises(RegistryPermissionDenied):
        model_apply(document=world.document(), user=world.ada)
    entry = LedgerEntry.objects.get()
    assert (entry.action, entry.actor_name) == ("registry.model.refused", "ada")
    assert entry.payload["refusal"] == "permission"


def test_an_owner_may_not_register_for_another_team(world):
    with pytest.raises(RegistryPermissionDenied) as excinfo:
        model_apply(document=world.document(), user=world.bob)
    assert excinfo.value.field == "team"
    assert actions() == ["registry.model.refused"]
    assert not MonitoredModel.objects.exists()


def test_an_owner_of_another_team_may_not_change_a_model_and_may_not_see_it(world):
    model = model_apply(document=world.document(), user=world.alice).model
    with pytest.raises(RegistryPermissionDenied) as excinfo:
        model_apply(document=world.document(name="Hijacked"), user=world.bob)
    assert excinfo.value.subject_visible is False
    refused = LedgerEntry.objects.get(action="registry.model.refused")
    assert refused.subject_id == str(model.pk)
    model.refresh_from_db()
    assert model.name == "Retail probability of default"


def test_an_owner_may_raise_but_not_lower_the_tier_and_model_risk_may(world):
    model_apply(document=world.document(risk_tier="medium"), user=world.alice)
    raised = model_apply(document=world.document(risk_tier="high"), user=world.alice).model
    assert raised.risk_tier == "high"

    with pytest.raises(RegistryPermissionDenied) as excinfo:
        model_apply(document=world.document(risk_tier="low"), user=world.alice)
    assert excinfo.value.field == "risk_tier"

    lowered = model_apply(document=world.document(risk_tier="low"), user=world.rita).model
    assert (lowered.risk_tier, lowered.risk_tier_set_by) == ("low", world.rita)


def test_a_refusal_survives_the_rollback_of_the_refused_writes(world):
    # A document that would write a model and then be refused: nothing of it stays, the
    # refusal does.
    document = world.document(plan={"reason": "Fewer alarms.", "alpha": 0.001})
    before = copy.deepcopy(document)
    with pytest.raises(RegistryValidationError):
        model_apply(document=document, user=world.alice)
    assert document == before
    assert not MonitoredModel.objects.exists()
    assert actions() == ["registry.model.refused"]
