"""On PostgreSQL, refuse UPDATE, DELETE and TRUNCATE on the ledger in the database itself, so that
raw SQL is held to the same rule as the ORM. The triggers belong to the owner role; the runtime
role cannot drop or disable them."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER ledger_entry_no_update_delete BEFORE UPDATE OR DELETE ON ledger_entry
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_entry_no_truncate BEFORE TRUNCATE ON ledger_entry
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
"""

DROP = """
DROP TRIGGER IF EXISTS ledger_entry_no_truncate ON ledger_entry;
DROP TRIGGER IF EXISTS ledger_entry_no_update_delete ON ledger_entry;
DROP FUNCTION IF EXISTS ledger_refuse_change();
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]
    operations = [migrations.RunPython(install, uninstall)]
