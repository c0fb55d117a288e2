"""Service-account tokens: ``Authorization: Bearer fw_<prefix>_<secret>`` (``Token`` also accepted).

A token is ``fw_`` + 8 hex characters of prefix + ``_`` + ``secrets.token_urlsafe(32)`` (256 bits).
Only the prefix and the SHA-256 of the whole token are stored. A slow password hash (PBKDF2,
Argon2) exists to make guessing low-entropy *passwords* expensive; a 256-bit random secret cannot
be guessed, so a single SHA-256 is as strong and keeps authentication cheap on every request.
The prefix is not secret: it finds the row, and ``hmac.compare_digest`` compares the digests.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from registry.models import ServiceAccount

TOKEN_KIND = "fw"  # noqa: S105  (the literal that starts every token, not a secret)
KEYWORDS = (b"bearer", b"token")
LAST_USED_RESOLUTION = timedelta(minutes=1)
_TOKEN = re.compile(r"^fw_(?P<prefix>[0-9a-f]{8})_(?P<secret>[A-Za-z0-9_-]{43})$")


@dataclass(frozen=True)
class IssuedToken:
    """A new token: ``token`` is shown to its owner once and never stored."""

    token: str = field(repr=False)
    prefix: str
    sha256: str


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def token_issue() -> IssuedToken:
    prefix = secrets.token_hex(4)
    token = f"{TOKEN_KIND}_{prefix}_{secrets.token_urlsafe(32)}"
    return IssuedToken(token=token, prefix=prefix, sha256=token_digest(token))


def service_account_for_token(token: str) -> ServiceAccount | None:
    """The account the token belongs to, active or not; None if no account holds it."""
    match = _TOKEN.match(token)
    if match is None:
        return None
    digest = token_digest(token)
    candidates = ServiceAccount.objects.select_related("user").filter(token_prefix=match["prefix"])
    for account in candidates:
        if hmac.compare_digest(account.token_sha256, digest):
            return account
    return None


class ServiceAccountTokenAuthentication(BaseAuthentication):
    """``request.user`` is the account's user, ``request.auth`` the ``ServiceAccount``."""

    def authenticate(self, request: Request) -> tuple[Any, ServiceAccount] | None:
        header = get_authorization_header(request).split()
        if not header or header[0].lower() not in KEYWORDS:
            return None  # not ours: let session authentication try
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "Authorization header must be 'Bearer fw_<prefix>_<secret>', with no spaces in the token"
            )
        try:
            token = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("the token is not a Fleetwatch token") from None
        account = service_account_for_token(token)
        if account is None:
            raise exceptions.AuthenticationFailed("invalid token")
        if not account.is_active or not account.user.is_active:
            raise exceptions.AuthenticationFailed(f"service account {account.name} is deactivated")
        self._touch(account)
        return account.user, account

    def authenticate_header(self, request: Request) -> str:
        # Present, so that DRF answers an unauthenticated request 401 rather than 403.
        return 'Bearer realm="fleetwatch"'

    @staticmethod
    def _touch(account: ServiceAccount) -> None:
        """Record use at most once a minute: one conditional UPDATE, nothing when recent."""
        now = timezone.now()
        stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
        if ServiceAccount.objects.filter(stale, pk=account.pk).update(last_used_at=now):
            account.last_used_at = now
