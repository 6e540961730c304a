"""The audit log's organisation needs no index of its own: both composite indexes begin with it.

Only the index is dropped. Django's AlterField would also drop the foreign key and add it back,
checking every entry against its organisation with the table locked against every write (every
saved answer writes an entry). So the model's state changes alone, and the database drops the
index by name; on PostgreSQL concurrently, without blocking writes (outside a transaction).
"""

import django.db.models.deletion
from django.db import migrations, models

# Django's name for the foreign key's index (the same on every database).
INDEX = "asi_wg_auditentry_organisation_id_1cbeed6e"


def _concurrently(schema_editor):
    return "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""


def drop_index(apps, schema_editor):
    schema_editor.execute(f'DROP INDEX {_concurrently(schema_editor)}IF EXISTS "{INDEX}"')


def create_index(apps, schema_editor):
    schema_editor.execute(
        f"CREATE INDEX {_concurrently(schema_editor)}IF NOT EXISTS "
        f'"{INDEX}" ON "asi_wg_auditentry" ("organisation_id")'
    )


class Migration(migrations.Migration):
    atomic = False  # DROP INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("asi_wg", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="auditentry",
                    name="organisation",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="audit_entries",
                        to="asi_wg.organisation",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(drop_index, create_index)],
        ),
    ]
