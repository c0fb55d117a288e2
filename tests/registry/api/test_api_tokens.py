from __future__ import annotations

import hashlib
import io
import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from audit.ledger.models import LedgerEntry
from registry.auth import token_issue
from registry.models import ServiceAccount
from registry.services.errors import RegistryPermissionDenied
from registry.services.service_accounts import (
    service_account_create,
    service_account_deactivate,
    service_account_rotate,
)
from vocabulary.roles import SERVICE_ACCOUNT

pytestmark = pytest.mark.django_db


def bearer(token: str, keyword: str = "Bearer") -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{keyword} {token}")
    return client


def slugs(response) -> list[str]:
    return [row["slug"] for row in response.json()["results"]]


def test_a_good_token_authenticates_as_the_account_and_sees_only_its_models(world):
    response = bearer(world.scoped_token).get("/api/models/")
    assert response.status_code == 200
    assert slugs(response) == ["retail-pd"]
    assert response.wsgi_request.user == world.scoped.user


def test_the_token_keyword_is_accepted_as_well_as_bearer(world):
    assert bearer(world.scoped_token, "Token").get("/api/models/").status_code == 200


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda t: t[:-4] + ("AAAA" if not t.endswith("AAAA") else "BBBB"), id="wrong-secret"),
        pytest.param(lambda t: t[:3] + ("0" if t[3] != "0" else "1") + t[4:], id="wrong-prefix"),
        pytest.param(lambda t: t.replace("fw_", "xx_", 1), id="wrong-kind"),
        pytest.param(lambda t: t + "x", id="too-long"),
        pytest.param(lambda t: "not-a-token", id="garbage"),
    ],
)
def test_a_bad_token_is_refused_with_401(world, mangle):
    response = bearer(mangle(world.scoped_token)).get("/api/models/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_token_of_the_right_shape_that_nobody_holds_is_refused(world):
    assert bearer(token_issue().token).get("/api/models/").status_code == 401


def test_a_deactivated_account_is_refused(world):
    service_account_deactivate(account=world.scoped, user=world.rita)
    response = bearer(world.scoped_token).get("/api/models/")
    assert response.status_code == 401
    assert "deactivated" in response.json()["detail"]
    entry = LedgerEntry.objects.get(action="registry.service_account.deactivated")
    assert entry.actor_name == "rita" and entry.payload["token_prefix"] == world.scoped.token_prefix


def test_an_account_whose_user_is_inactive_is_refused(world):
    world.scoped.user.is_active = False
    world.scoped.user.save()
    assert bearer(world.scoped_token).get("/api/models/").status_code == 401


def test_a_header_with_spaces_in_the_token_is_refused(world):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {world.scoped_token} extra")
    assert client.get("/api/models/").status_code == 401


def test_no_credentials_is_401_not_403(world):
    assert APIClient().get("/api/models/").status_code == 401


def test_rotating_replaces_the_token_at_once(world):
    old_prefix = world.scoped.token_prefix
    new_token = service_account_rotate(account=world.scoped, user=world.alice)
    assert bearer(world.scoped_token).get("/api/models/").status_code == 401
    assert bearer(new_token).get("/api/models/").status_code == 200
    entry = LedgerEntry.objects.get(action="registry.service_account.rotated")
    assert entry.payload["old_token_prefix"] == old_prefix
    assert new_token not in json.dumps(entry.payload)


def test_an_owner_cannot_rotate_an_account_scoped_to_another_teams_model(world):
    with pytest.raises(RegistryPermissionDenied):
        service_account_rotate(account=world.unscoped, user=world.alice)
    refusal = LedgerEntry.objects.get(action="registry.service_account.refused")
    assert refusal.actor_name == "alice" and refusal.payload["operation"] == "rotate"
    assert bearer(world.unscoped_token).get("/api/models/").status_code == 200


def test_last_used_at_is_written_at_most_once_a_minute(world):
    client = bearer(world.scoped_token)
    client.get("/api/models/")
    world.scoped.refresh_from_db()
    first = world.scoped.last_used_at
    assert first is not None

    client.get("/api/models/")
    world.scoped.refresh_from_db()
    assert world.scoped.last_used_at == first  # within the minute: untouched

    ServiceAccount.objects.filter(pk=world.scoped.pk).update(last_used_at=first - timedelta(minutes=2))
    client.get("/api/models/")
    world.scoped.refresh_from_db()
    assert world.scoped.last_used_at > first - timedelta(minutes=2)
    assert world.scoped.last_used_at <= timezone.now()


def test_the_account_has_a_user_in_the_service_account_group_that_cannot_log_in(world):
    user = world.scoped.user
    assert user.groups.filter(name=SERVICE_ACCOUNT).exists()
    assert not user.has_usable_password()
    assert list(world.scoped.scoped_models.values_list("slug", flat=True)) == ["retail-pd"]


def test_only_the_hash_and_prefix_are_stored(world):
    token = world.scoped_token
    prefix, secret = token.split("_", 2)[1], token.split("_", 2)[2]
    assert world.scoped.token_prefix == prefix
    assert world.scoped.token_sha256 == hashlib.sha256(token.encode()).hexdigest()
    assert len(secret) >= 43  # 32 random bytes, URL-safe base64

    # No column of any table holds the token or its secret part, in any form the ORM wrote.
    hits = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            for column in connection.introspection.get_table_description(cursor, table):
                quoted_table = connection.ops.quote_name(table)
                quoted_column = connection.ops.quote_name(column.name)
                cursor.execute(
                    f"SELECT 1 FROM {quoted_table} WHERE CAST({quoted_column} AS TEXT) LIKE %s LIMIT 1",
                    [f"%{secret}%"],
                )
                if cursor.fetchone():
                    hits.append(f"{table}.{column.name}")
    assert hits == []


def test_creating_an_account_is_recorded_with_the_prefix_never_the_token(world):
    entry = LedgerEntry.objects.get(
        action="registry.service_account.created", subject_id=str(world.scoped.pk)
    )
    assert entry.actor_kind == "user" and entry.actor_name == "rita"
    assert entry.payload["token_prefix"] == world.scoped.token_prefix
    assert entry.payload["models"] == ["retail-pd"]
    assert world.scoped_token.split("_", 2)[2] not in json.dumps(entry.payload)


def test_an_auditor_may_not_create_a_service_account(world):
    with pytest.raises(RegistryPermissionDenied):
        service_account_create(name="sneaky", models=[world.model], user=world.ada)
    assert not ServiceAccount.objects.filter(name="sneaky").exists()
    assert LedgerEntry.objects.filter(action="registry.service_account.refused", actor_name="ada").exists()


def test_an_owner_may_create_an_account_for_their_teams_model_only(world):
    account, _ = service_account_create(name="alice-batch", models=[world.model], user=world.alice)
    assert account.created_by == world.alice
    with pytest.raises(RegistryPermissionDenied):
        service_account_create(name="alice-fraud", models=[world.other_model], user=world.alice)


def test_the_command_prints_the_token_once_and_records_the_operator(world, monkeypatch):
    monkeypatch.setenv("FLEETWATCH_OPERATOR", "ops-oscar")
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "service_account_create",
        "batch-loader",
        "--models",
        "retail-pd",
        "--actor",
        "alice",
        stdout=out,
        stderr=err,
    )
    token = out.getvalue().strip()
    account = ServiceAccount.objects.get(name="batch-loader")
    assert token.startswith(f"fw_{account.token_prefix}_")
    assert "shown this once" in err.getvalue() and token not in err.getvalue()
    assert bearer(token).get("/api/models/").json()["count"] == 1

    entry = LedgerEntry.objects.get(action="registry.service_account.created", subject_id=str(account.pk))
    assert (entry.actor_name, entry.payload["operator"]) == ("alice", "ops-oscar")
    assert token not in json.dumps(entry.payload)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x-api", "--models", "retail-pd", "--actor", "nobody"], "no such user"),
        (["x-api", "--models", "retail-pd,nope", "--actor", "rita"], "no model 'nope'"),
        (["Bad Name", "--models", "retail-pd", "--actor", "rita"], "name:"),
        (["x-api", "--models", "pricing-gbm", "--actor", "alice"], "--actor 'alice'"),
    ],
)
def test_the_command_names_what_is_wrong(world, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("service_account_create", *args, stdout=io.StringIO(), stderr=io.StringIO())
