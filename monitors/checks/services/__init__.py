"""The check pipeline's services: the sweep, claims, execution, reconciliation, replay.

A regular package (not a namespace one), so that setuptools' package discovery installs it and
import-linter's graph includes its modules.
"""
