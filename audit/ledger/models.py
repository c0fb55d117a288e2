from __future__ import annotations

from typing import Any, NoReturn

from django.db import models


class LedgerImmutableError(Exception):
    """Ledger entries are never changed or removed, by the ORM or (on PostgreSQL) by SQL."""


class LedgerQuerySet(models.QuerySet["LedgerEntry"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise LedgerImmutableError("ledger entries are append-only: update refused")

    def delete(self) -> NoReturn:
        raise LedgerImmutableError("ledger entries are append-only: delete refused")


class LedgerEntry(models.Model):
    """One link of the hash chain. Subjects are referenced by type and id, never by foreign key,
    so the ledger depends on no other app and outlives whatever it describes."""

    sequence = models.BigIntegerField(primary_key=True)
    previous_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)
    recorded_at = models.DateTimeField()
    actor_kind = models.CharField(max_length=16)
    actor_id = models.CharField(max_length=150)
    actor_name = models.CharField(max_length=150)
    action = models.CharField(max_length=100, db_index=True)
    subject_type = models.CharField(max_length=100, blank=True)
    subject_id = models.CharField(max_length=100, blank=True)
    correlation_id = models.CharField(max_length=64, db_index=True)
    payload = models.JSONField(default=dict)

    objects = LedgerQuerySet.as_manager()

    class Meta:
        db_table = "ledger_entry"
        ordering = ("sequence",)
        indexes = (models.Index(fields=("subject_type", "subject_id"), name="ledger_subject_idx"),)
        verbose_name_plural = "ledger entries"

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} {self.subject_type}:{self.subject_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise LedgerImmutableError(f"ledger entry #{self.sequence} is append-only: update refused")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise LedgerImmutableError(f"ledger entry #{self.sequence} is append-only: delete refused")
