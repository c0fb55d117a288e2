from django.apps import AppConfig


class FleetwatchConfig(AppConfig):
    name = "fleetwatch"
    verbose_name = "Fleetwatch"
