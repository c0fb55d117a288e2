"""The four roles, as Django groups. Permissions are attached by the apps that own them."""

MODEL_OWNER = "model owner"
MODEL_RISK = "model risk"
AUDITOR = "auditor"
SERVICE_ACCOUNT = "service account"

ALL_ROLES = (MODEL_OWNER, MODEL_RISK, AUDITOR, SERVICE_ACCOUNT)
