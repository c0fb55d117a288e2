from __future__ import annotations

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from audit.ledger.context import ledger_scope, new_correlation_id

_ACCEPTABLE_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")


class CorrelationIdMiddleware:
    """One correlation id per request: the caller's ``X-Request-ID`` when it is sane, else new."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        offered = request.headers.get("X-Request-ID", "")
        correlation_id = offered if _ACCEPTABLE_ID.match(offered) else new_correlation_id()
        with ledger_scope(correlation_id=correlation_id):
            response = self.get_response(request)
        response["X-Request-ID"] = correlation_id
        return response
