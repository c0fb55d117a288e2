"""manage.py register_model and export_model: models as code."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.ledger.models import LedgerEntry
from registry.documents.export import model_export
from registry.documents.yaml_lines import dump_yaml
from registry.models import (
    FeatureSchema,
    ModelVersion,
    MonitoredModel,
    MonitoringPlan,
    PolicyException,
    RetrainingPolicy,
)
from registry.services import model_apply
from simulation.fleet_seed import EXCEPTION_MODEL, seed_fleet
from tests.registry.factories import version_document

pytestmark = pytest.mark.django_db

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


def register(path, actor="alice"):
    out = io.StringIO()
    call_command("register_model", str(path), "--actor", actor, stdout=out)
    return out.getvalue()


def refused(path, actor="alice"):
    with pytest.raises(CommandError) as excinfo:
        register(path, actor)
    assert excinfo.value.returncode == 2
    return str(excinfo.value)


def forget(model: MonitoredModel) -> None:
    """Remove every row of ``model`` (the ledger keeps its history): a database that never saw
    it, as far as the registry can tell."""
    versions = ModelVersion.objects.filter(model=model)
    FeatureSchema.objects.filter(version__in=versions).delete()
    MonitoringPlan.objects.filter(model=model).delete()
    RetrainingPolicy.objects.filter(model=model).delete()
    PolicyException.objects.filter(model=model).delete()
    versions.delete()
    model.delete()


@pytest.fixture
def write(tmp_path):
    def write(text: str, name: str = "model.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


def test_it_registers_a_file_and_a_second_run_changes_nothing(world, write):
    path = write(dump_yaml(world.document()))
    output = register(path)
    assert output.splitlines()[0] == "created model retail-pd"
    entries = LedgerEntry.objects.count()

    assert register(path).strip() == "model retail-pd unchanged"
    assert LedgerEntry.objects.count() == entries


def test_the_ledger_names_the_user_and_the_operator(world, write, monkeypatch):
    monkeypatch.setenv("FLEETWATCH_OPERATOR", "ops-jane")
    register(write(dump_yaml(world.document())))
    entry = LedgerEntry.objects.get(action="registry.model.created")
    assert (entry.actor_kind, entry.actor_name) == ("user", "alice")
    assert entry.payload["operator"] == "ops-jane"


def test_an_export_registered_elsewhere_gives_the_same_model(world, write, tmp_path):
    document = world.document(
        developer="bob",
        plan={"reason": "Earlier alarms.", "alpha": 0.02, "time_zone": "UTC"},
        policy={"reason": "Faster renewal.", "max_model_age_days": 200},
    )
    document["versions"].insert(
        0,
        version_document(
            "2024.1",
            status="retired",
            role="",
            validated_by="val",
            retired_at="2025-02-01T00:00:00Z",
            retired_by="alice",
        ),
    )
    document["versions"].append(version_document("2025.2-shadow", role="challenger", validated_by="val"))
    model = model_apply(document=document, user=world.alice).model
    exported = tmp_path / "export.yaml"
    call_command("export_model", "retail-pd", "-o", str(exported), stdout=io.StringIO())
    first = model_export(model)

    forget(model)
    assert not MonitoredModel.objects.exists()
    register(exported)

    again = MonitoredModel.objects.get(slug="retail-pd")
    assert again.uid == model.uid
    assert model_export(again) == first
    # and exporting once more writes the same text
    out = io.StringIO()
    call_command("export_model", "retail-pd", stdout=out)
    assert out.getvalue() == exported.read_text(encoding="utf-8")


def test_every_seeded_model_survives_the_round_trip(tmp_path):
    seed_fleet(models=14)
    for model in MonitoredModel.objects.exclude(slug=EXCEPTION_MODEL):
        before = model_export(model)
        path = tmp_path / f"{model.slug}.yaml"
        path.write_text(dump_yaml(before), encoding="utf-8")
        forget(model)
        register(path, actor=before["owner"])
        assert model_export(MonitoredModel.objects.get(slug=model.slug)) == before, model.slug


def test_a_plan_resting_on_an_exception_does_not_travel_without_it(tmp_path):
    seed_fleet(models=14)
    model = MonitoredModel.objects.get(slug=EXCEPTION_MODEL)
    document = model_export(model)
    exception_id = document["plan"]["exception"]
    path = tmp_path / "exception.yaml"
    path.write_text(dump_yaml(document), encoding="utf-8")
    forget(model)

    message = refused(path, actor=document["owner"])
    assert f"plan.exception: there is no policy exception #{exception_id}" in message
    assert "plan.label_maturity_days: 150 is looser than the medium tier's 120" in message


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.yaml")))
def test_each_example_registers_once_and_then_changes_nothing(example):
    seed_fleet(models=7)  # the users and teams the examples name
    path = EXAMPLES / example
    owner = yaml.safe_load(path.read_text(encoding="utf-8"))["owner"]
    assert register(path, actor=owner).startswith("created model ")
    assert register(path, actor=owner).endswith("unchanged\n")


def test_there_is_an_example_per_task_type():
    task_types = {yaml.safe_load(p.read_text(encoding="utf-8"))["task_type"] for p in EXAMPLES.glob("*.yaml")}
    assert task_types == {"binary", "multiclass", "regression", "ranking"}


# --- malformed files: the key and the line -----------------------------------------------------

GOOD = """\
slug: retail-pd
name: Retail PD
decision_type: automated
task_type: binary
business_unit: Retail credit
owner: alice
team: retail-credit
risk_tier: high
risk_tier_rationale: Credit decisions.
versions:
  - label: "2025.1"
    artifact_sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
    status: development
    target_column: label
    prediction_column: decision
    features:
      - name: age
        kind: numeric
      - name: region
        kind: categorical
"""


def test_the_good_file_registers(world, write):
    assert register(write(GOOD)).startswith("created model retail-pd")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # a YAML syntax error
        ("name: Retail PD\n", "name: [Retail PD\n", "model.yaml, line 3: not valid YAML"),
        # a wrong type
        (
            "        kind: numeric\n",
            "        kind: 42\n",
            "model.yaml, line 18: versions[0].features[0].kind: a number (42) is not one of numeric",
        ),
        # an unknown key
        (
            "        kind: categorical\n",
            "        kind: categorical\n        colour: red\n",
            "model.yaml, line 21: versions[0].features[1].colour: unknown key",
        ),
        # a missing required key: the line of the item it is missing from
        (
            "      - name: region\n        kind: categorical\n",
            "      - name: region\n",
            "model.yaml, line 19: versions[0].features[1].kind: missing required key",
        ),
        ("risk_tier: high\n", "", "model.yaml, line 1: risk_tier: missing required key"),
        # a duplicate key
        (
            "team: retail-credit\n",
            "team: retail-credit\nteam: pricing\n",
            "model.yaml, line 8: team: duplicate key (first given on line 7)",
        ),
        # a value the database refuses
        ("owner: alice\n", "owner: nobody\n", "model.yaml, line 6: owner: there is no user 'nobody'"),
    ],
)
def test_a_malformed_file_gets_an_error_naming_the_key_and_the_line(world, write, old, new, expected):
    assert old in GOOD
    message = refused(write(GOOD.replace(old, new)))
    assert expected in message
    assert not MonitoredModel.objects.exists()


def test_errors_are_listed_in_file_order(world, write):
    text = GOOD.replace("task_type: binary", "task_type: bin").replace("kind: numeric", "kind: num")
    lines = refused(write(text)).splitlines()
    assert [line.split(":")[0].rpartition("/")[2] for line in lines] == [
        "model.yaml, line 4",
        "model.yaml, line 18",
    ]


def test_a_permission_refusal_names_the_line_of_the_field(world, write):
    message = refused(write(GOOD), actor="bob")
    assert message.startswith(f"{write(GOOD)}, line 7: refused: 'bob' is not a member of team")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--actor", "nobody"], "--actor nobody: there is no such user"),
        (["missing.yaml", "--actor", "alice"], "missing.yaml: cannot read"),
    ],
)
def test_register_model_refuses_bad_arguments(world, write, argv, message):
    args = argv if argv[0].endswith(".yaml") else [str(write(GOOD)), *argv]
    with pytest.raises(CommandError) as excinfo:
        call_command("register_model", *args)
    assert excinfo.value.returncode == 2 and message in str(excinfo.value)


def test_register_model_refuses_an_inactive_actor_and_binary_files(world, write, tmp_path):
    world.alice.is_active = False
    world.alice.save()
    with pytest.raises(CommandError, match="the user is not active"):
        register(write(GOOD))
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00slug")
    with pytest.raises(CommandError, match="not UTF-8 text"):
        register(binary, actor="rita")


def test_register_model_reads_standard_input(world, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(GOOD))
    assert register("-").startswith("created model retail-pd")


def test_an_empty_file_and_a_list_are_refused(world, write):
    assert "the document is empty" in refused(write(""))
    assert "expected a mapping, got a list" in refused(write("- slug: a\n"))


def test_export_model_refuses_an_unknown_slug_and_an_unwritable_path(world, tmp_path):
    with pytest.raises(CommandError) as excinfo:
        call_command("export_model", "nope")
    assert excinfo.value.returncode == 2 and "there is no model 'nope'" in str(excinfo.value)
    model_apply(document=world.document(), user=world.alice)
    with pytest.raises(CommandError, match="cannot write"):
        call_command("export_model", "retail-pd", "-o", str(tmp_path / "no" / "such.yaml"))
