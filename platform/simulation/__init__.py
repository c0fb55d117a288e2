"""Demo and simulation code, kept out of the domain apps: the demonstration fleet
(``seed_fleet``), generated reference and production traffic (``demo_data``), the synthetic
frames the demo, the tests and ``make bench-sweep`` draw from, and ``make demo`` itself.

It may import every domain app; none of them may import it (an import-linter contract in
pyproject.toml), so nothing here can become part of what production runs.
"""
