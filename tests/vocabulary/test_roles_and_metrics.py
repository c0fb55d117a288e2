"""Roles and performance metrics: one definition, which the registry derives its rules from."""

from __future__ import annotations

import importlib

from registry import strictness
from registry.models import TaskType
from vocabulary import metrics, roles


def test_the_roles_migration_created_the_vocabularys_roles():
    migration = importlib.import_module("fleetwatch.migrations.0001_roles")
    assert tuple(migration.ROLES) == roles.ALL_ROLES


def test_the_registry_accepts_the_metric_table_for_every_task_type():
    assert set(metrics.TASK_METRICS) == set(TaskType.values)
    assert strictness.TASK_METRICS == metrics.TASK_METRICS
    assert strictness.UNIT_SCALE_METRICS == metrics.UNIT_SCALE_METRICS
    for task, metric in metrics.STANDARD_METRIC.items():
        assert metric in metrics.TASK_METRICS[task]


def test_every_metric_has_a_direction_and_the_unit_scale_ones_are_bounded_scores():
    assert metrics.METRICS["log_loss"].direction == "lower_is_better"
    assert metrics.METRICS["auc"].direction == "higher_is_better"
    assert not metrics.METRICS["rmse"].unit_scale  # in the target's units
    assert metrics.METRICS["ndcg"].parameters["k"] == 10
