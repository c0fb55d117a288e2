from django.apps import AppConfig
from django.db.models.signals import post_migrate


class LedgerConfig(AppConfig):
    name = "audit.ledger"
    label = "ledger"
    verbose_name = "Ledger"

    def ready(self) -> None:
        from audit.ledger import celery_context  # noqa: F401  (connects the task signals)
        from audit.ledger.roles import on_post_migrate

        post_migrate.connect(on_post_migrate, sender=self, dispatch_uid="ledger-runtime-grants")
