"""The API tests' world, on top of the registry's ``RegistryWorld``.

Alice (model owner, team retail-credit) registered ``retail-pd`` through the service; Bob (model
owner, team pricing) owns ``pricing-gbm``; Rita and Mo are model risk; Ada is an auditor. Two
service accounts with real tokens: ``scoring-api`` scoped to ``retail-pd`` and ``pricing-api``
scoped to ``pricing-gbm`` only.
"""

from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient

from registry.models import MonitoredModel, ServiceAccount
from registry.services import model_apply
from registry.services.service_accounts import service_account_create
from tests.registry.factories import MonitoredModelFactory, RegistryWorld

ROLES = ("owner", "other_owner", "model_risk", "auditor", "service_scoped", "service_unscoped", "anonymous")


class ApiWorld(RegistryWorld):
    model: MonitoredModel
    other_model: MonitoredModel
    scoped: ServiceAccount
    scoped_token: str
    unscoped: ServiceAccount
    unscoped_token: str

    def __init__(self) -> None:
        super().__init__()
        self.model = model_apply(document=self.document(), user=self.alice).model
        self.other_model = MonitoredModelFactory(
            slug="pricing-gbm",
            owner=self.bob,
            team=self.other_team,
            task_type="regression",
            risk_tier="medium",
        )
        self.scoped, self.scoped_token = service_account_create(
            name="scoring-api", models=[self.model], user=self.rita
        )
        self.unscoped, self.unscoped_token = service_account_create(
            name="pricing-api", models=[self.other_model], user=self.rita
        )

    def user_for(self, role: str) -> Any:
        return {
            "owner": self.alice,
            "other_owner": self.bob,
            "model_risk": self.rita,
            "auditor": self.ada,
            "service_scoped": self.scoped.user,
            "service_unscoped": self.unscoped.user,
        }[role]

    def actor_name(self, role: str) -> str:
        """The name the ledger gives the caller: a service account's name, a user's username."""
        return {"service_scoped": "scoring-api", "service_unscoped": "pricing-api"}.get(
            role, self.user_for(role).username
        )

    def client(self, role: str) -> APIClient:
        """An API client acting as ``role``: users log in with a session, machines send a token."""
        client = APIClient()
        tokens = {"service_scoped": self.scoped_token, "service_unscoped": self.unscoped_token}
        if role in tokens:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens[role]}")
        elif role != "anonymous":
            client.force_login(self.user_for(role))
        return client


def client_for(world: ApiWorld, role: str) -> APIClient:
    return world.client(role)


def registry_paths(schema: dict[str, Any]) -> dict[str, set[str]]:
    """The OpenAPI paths served by the registry's API (other apps share ``/api/``), with their
    methods."""
    import re

    from django.urls import resolve

    paths = {}
    for path, operations in schema["paths"].items():
        view = resolve(re.sub(r"\{[^}]+\}", "1", path)).func
        if getattr(view, "view_class", type).__module__.startswith("registry."):
            paths[path] = set(operations) - {"parameters"}
    return paths
