"""The Celery application, wired the canonical way: configuration from Django settings under the
``CELERY_`` namespace and tasks discovered from the installed apps."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fleetwatch.settings")

app = Celery("fleetwatch")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
