"""OpenAPI description of the service-account token scheme (drf-spectacular extension).

Extensions register themselves when imported; ``registry.api.views`` imports this module, and
the views are loaded with the URLconf before any schema is generated.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ServiceAccountTokenScheme(OpenApiAuthenticationExtension):
    target_class = "registry.auth.ServiceAccountTokenAuthentication"
    name = "serviceAccountToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "fw_<prefix>_<secret>",
            "description": "A service-account token, shown once when the account is created "
            "(`manage.py service_account_create`). `Token <token>` is also accepted.",
        }
