"""The model document and the tools around it, one module per reason to change.

- ``yaml_lines``: YAML read with the line of every key (``parse_yaml``, ``dump_yaml``, ``join``).
- ``fields``: reading untrusted values field by field (``Reader``, ``InvalidValue``, the parsers
  ``string``, ``integer``, ``moment``, ...), shared with the events service and the admin, and
  the value helpers ``content_sha256``, ``iso``, ``json_safe``.
- ``model_document``: the document's keys and rules, and ``read_document`` into ``ModelDocument``.
- ``export``: models written out: snapshots, hashed content and ``model_export``.

Import from those modules; this package re-exports nothing.
"""
