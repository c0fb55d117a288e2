"""registry.documents: reading a model document, with the line of every key."""

from __future__ import annotations

import pytest

from registry.documents.fields import DocumentInvalid
from registry.documents.model_document import read_document
from registry.documents.yaml_lines import DocumentSyntaxError, parse_yaml
from tests.registry.factories import model_document

pytestmark = pytest.mark.django_db

YAML = """\
slug: retail-pd
name: Retail PD
versions:
  - label: "2025.1"
    features:
      - name: age
        kind: numeric
      - {name: region, kind: categorical}
"""


def document(**overrides):
    return model_document(owner="alice", team="t", validator="val", **overrides)


def errors_of(data):
    with pytest.raises(DocumentInvalid) as excinfo:
        read_document(data)
    return excinfo.value.errors


def test_every_key_and_item_has_its_line():
    parsed = parse_yaml(YAML)
    assert parsed.lines["slug"] == 1
    assert parsed.lines["versions[0]"] == 4
    assert parsed.lines["versions[0].features[0].kind"] == 7
    assert parsed.lines["versions[0].features[1]"] == 8
    assert parsed.lines["versions[0].features[1].kind"] == 8
    # a missing key takes its nearest ancestor's line
    assert parsed.line_of("versions[0].features[0].importance") == 6
    assert parsed.line_of("plan.alpha") == 1


def test_a_syntax_error_names_its_line():
    with pytest.raises(DocumentSyntaxError) as excinfo:
        parse_yaml("slug: a\nname: [unclosed\nteam: x\n")
    assert excinfo.value.line == 3
    assert excinfo.value.message.startswith("not valid YAML")


def test_a_duplicate_key_is_an_error_with_both_lines():
    with pytest.raises(DocumentSyntaxError) as excinfo:
        parse_yaml("slug: a\nname: b\nslug: c\n")
    assert excinfo.value.line == 3
    assert "slug: duplicate key (first given on line 1)" in excinfo.value.message


def test_an_empty_document_says_what_is_expected():
    assert parse_yaml("").data is None
    assert "the document is empty" in errors_of(None)["(document)"]


def test_an_unknown_key_suggests_the_close_one():
    data = document()
    data["versions"][0]["features"][0]["nulable"] = False
    errors = errors_of(data)
    assert errors["versions[0].features[0].nulable"].startswith("unknown key (did you mean 'nullable'?)")


def test_every_problem_is_reported_not_only_the_first():
    data = document(task_type="regresion", retention_days=-3, personal_data="yes")
    del data["name"]
    errors = errors_of(data)
    assert errors["task_type"].startswith("'regresion' is not one of binary")
    assert errors["retention_days"] == "-3 is out of range: at least 1 and at most 36500"
    assert errors["personal_data"] == "expected true or false, got a string ('yes')"
    assert errors["name"] == "missing required key"


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        ({"kind": "numbr"}, "kind", "'numbr' is not one of numeric, categorical"),
        ({"categories": ["a"]}, "categories", "categories apply to categorical features"),
        ({"min_value": 5, "max_value": 1}, "min_value", "5.0 exceeds max_value 1.0"),
        ({"importance": -1}, "importance", "-1.0 is out of range: must be at least 0"),
        ({"importance": float("nan")}, "importance", "expected a finite number"),
        ({"is_segment": True}, "is_segment", "only categorical or boolean features"),
        ({"drift_test": "chi2"}, "drift_test", "'chi2' does not apply to a numeric feature"),
        ({"name": "has space"}, "name", "a column name has no spaces"),
        ({"nullable": 1}, "nullable", "expected true or false"),
    ],
)
def test_a_bad_feature_is_named_by_its_path(change, path, message):
    data = document()
    data["versions"][0]["features"][0].update(change)
    errors = errors_of(data)
    assert message in errors[f"versions[0].features[0].{path}"]


def test_feature_names_must_not_repeat_or_reuse_a_column():
    data = document()
    features = data["versions"][0]["features"]
    features[1]["name"] = "age"
    features[2]["name"] = "decision"
    errors = errors_of(data)
    assert errors["versions[0].features[1].name"] == "'age' is already the feature features[0]"
    assert errors["versions[0].features[2].name"] == "'decision' is already the prediction_column"


@pytest.mark.parametrize(
    ("task_type", "change", "path", "message"),
    [
        ("multiclass", {"score_columns": ["p"]}, "score_columns", "one score column per class"),
        ("binary", {"score_columns": ["p", "q"]}, "score_columns", "at most one score column"),
        ("regression", {}, "score_columns", "a regression model has no score columns"),
        ("ranking", {}, "query_id_column", "a ranking model names its query id column"),
        ("binary", {"query_id_column": "q"}, "query_id_column", "only ranking models"),
        ("binary", {"prediction_column": ""}, "prediction_column", "names its prediction"),
        ("binary", {"target_column": None}, "target_column", "the labels arrive in"),
    ],
)
def test_the_columns_follow_the_task_type(task_type, change, path, message):
    data = document(task_type=task_type)
    data["versions"][0].update(change)
    errors = errors_of(data)
    assert message in errors[f"versions[0].{path}"]


def test_schema_keys_without_features_are_an_error():
    data = document()
    del data["versions"][0]["features"]
    assert "a schema lists its features" in errors_of(data)["versions[0].features"]


def test_a_role_needs_a_monitored_status_and_labels_are_unique():
    data = document()
    data["versions"].append(dict(data["versions"][0], role="challenger"))
    data["versions"][0]["status"] = "development"
    errors = errors_of(data)
    assert "a development version cannot be champion" in errors["versions[0].role"]
    assert "versions[1].label" not in errors  # versions[0] could not be read

    data = document()
    data["versions"].append(dict(data["versions"][0], role="challenger"))
    assert errors_of(data)["versions[1].label"] == "'2025.1' is already versions[0]"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2025-13-01T00:00:00Z", "is not a date-time"),
        ("2025-01-01T00:00:00", "has no time zone"),
        (20250101, "expected a date-time"),
    ],
)
def test_dates_need_a_time_zone(value, message):
    data = document()
    data["versions"][0]["deployed_at"] = value
    assert message in errors_of(data)["versions[0].deployed_at"]


def test_a_bare_date_means_midnight_utc():
    data = document()
    data["versions"][0]["deployed_at"] = "2025-02-01"
    version = read_document(data).versions[0]
    assert version.deployed_at.isoformat() == "2025-02-01T00:00:00+00:00"


@pytest.mark.parametrize(
    ("section", "path", "message"),
    [
        ({"alpha": 0.001}, "plan.reason", "missing required key"),
        ({"reason": "r", "alpha": 0}, "plan.alpha", "must be above 0"),
        ({"reason": "r", "alpha": 0.9}, "plan.alpha", "at most 0.5"),
        ({"reason": "r", "time_zone": "Mars/Olympus"}, "plan.time_zone", "not an IANA time zone"),
        ({"reason": "r", "correction": "fdr"}, "plan.correction", "not one of bonferroni, holm, bh"),
        (
            {"reason": "r", "thresholds": {"psi": {"value": 0.1}}},
            "plan.thresholds.psi.rationale",
            "missing required key",
        ),
        (
            {"reason": "r", "thresholds": {"chi_by_eye": {"value": 1, "rationale": "r"}}},
            "plan.thresholds.chi_by_eye",
            "unknown key",
        ),
        ({"reason": "r", "exception": "seven"}, "plan.exception", "expected a whole number"),
        ({"reason": "r", "window_days": 3}, "plan.window_days", "unknown key"),
    ],
)
def test_a_bad_plan_is_named_by_its_path(section, path, message):
    errors = errors_of(document(plan=section))
    assert message in errors[path]


def test_the_policy_metric_must_fit_the_task_type():
    errors = errors_of(document(policy={"reason": "r", "performance_metric": "rmse"}))
    assert errors["policy.performance_metric"].startswith("'rmse' is not one of auc, gini")


def test_a_kpi_reference_value_needs_a_kpi_name():
    errors = errors_of(document(kpi_name=""))
    assert errors["kpi_reference_value"] == "give kpi_name too: a reference value of what?"


# --- the drift-test table (vocabulary/drift_tests.py) -------------------------------------------


def test_an_unknown_drift_test_pin_is_refused_with_the_list_of_known_names():
    data = document()
    data["versions"][0]["features"][0]["drift_test"] = "kolmogorov"
    message = errors_of(data)["versions[0].features[0].drift_test"]
    assert message.startswith("'kolmogorov' is not a drift test; known tests: ks, cvm, anderson, chi2")


@pytest.mark.parametrize("test", ["ks", "cvm", "anderson", "wasserstein", "energy", "psi", "kl"])
def test_every_test_the_engine_runs_on_numbers_may_be_pinned_on_a_numeric_feature(test):
    data = document()
    data["versions"][0]["features"][0]["drift_test"] = test  # age, numeric
    assert read_document(data).versions[0].schema["features"][0]["drift_test"] == test


def test_a_threshold_for_an_unknown_test_is_refused_with_the_known_names():
    plan = {"reason": "r", "thresholds": {"kolmogorov": {"value": 0.1, "rationale": "r"}}}
    message = errors_of(document(plan=plan))["plan.thresholds.kolmogorov"]
    assert "expected one of ks, cvm, anderson, chi2, fisher, ztest, psi" in message


def test_a_plan_may_set_a_threshold_for_any_test_in_the_table():
    plan = {"reason": "r", "thresholds": {t: {"value": 0.05, "rationale": "r"} for t in ("cvm", "anderson")}}
    assert set(read_document(document(plan=plan)).plan.values["thresholds"]) == {"anderson", "cvm"}
