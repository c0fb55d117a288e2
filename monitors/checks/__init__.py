"""The check pipeline: the nightly sweep, the triage playbook, claims and leases, replay.

The database is the source of truth. A run is a row before it is a message; a message only says
"look at run 42"; a worker claims the row with a lease and commits results only while its claim
still holds. See docs/checks.md.
"""
