"""The four roles, stored as Django groups of these names. Permissions are attached by the apps
that own them; who may see what is decided by the registry's visibility helper."""

from __future__ import annotations

MODEL_OWNER = "model owner"
MODEL_RISK = "model risk"
AUDITOR = "auditor"
SERVICE_ACCOUNT = "service account"

ALL_ROLES = (MODEL_OWNER, MODEL_RISK, AUDITOR, SERVICE_ACCOUNT)
