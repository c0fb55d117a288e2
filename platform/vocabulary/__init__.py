"""The names every layer of Fleetwatch shares, defined once.

A leaf package: it imports nothing but the standard library (no Django, no numpy), so that the
ledger, the statistics engine and every app may import it without bending the layering of
DESIGN.md (an import-linter contract in pyproject.toml keeps it so). It holds names and the
facts attached to them, never behaviour:

- ``roles``: the four roles people and machines act in;
- ``drift_tests``: the univariate drift tests, what they apply to and their default thresholds;
- ``metrics``: the performance metrics a model may be measured by;
- ``findings``: the kinds of finding a check raises, with their meaning and default severity,
  and the severity scale;
- ``ledger_actions``: the catalogue of ledger action names, with retired aliases.
"""
