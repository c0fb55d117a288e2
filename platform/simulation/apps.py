from django.apps import AppConfig


class SimulationConfig(AppConfig):
    """Carries the ``seed_fleet``, ``demo_data`` and ``demo`` commands; no models."""

    name = "simulation"
    verbose_name = "Demo and simulation"
