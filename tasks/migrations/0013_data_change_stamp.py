"""The data stamp under cached aggregates (tasks/changes.py): a change log written by database triggers.
Written out here, not imported, so that the migration keeps doing what it did when it was written."""

from django.db import migrations

TABLE = "ipplan_data_change"
WATCHED_TABLES = ("tasks_task", "tasks_measure", "tasks_plan", "agencies_agency", "agencies_liaison")



def install(apps, schema_editor) -> None:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"CREATE TABLE {TABLE} (id bigserial PRIMARY KEY)")
            cursor.execute(f"INSERT INTO {TABLE} DEFAULT VALUES")
            cursor.execute(
                "CREATE FUNCTION ipplan_note_data_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN INSERT INTO {TABLE} DEFAULT VALUES; RETURN NULL; END $$"
            )
            for table in WATCHED_TABLES:
                cursor.execute(
                    f"CREATE TRIGGER ipplan_data_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                    f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION ipplan_note_data_change()"
                )
            return
        cursor.execute(f"CREATE TABLE {TABLE} (id integer PRIMARY KEY, token blob NOT NULL)")
        cursor.execute(f"INSERT INTO {TABLE} (id, token) VALUES (1, randomblob(16))")
        for table in WATCHED_TABLES:
            for event in ("INSERT", "UPDATE", "DELETE"):
                cursor.execute(
                    f"CREATE TRIGGER ipplan_data_change_{table}_{event.lower()} AFTER {event} ON {table} "
                    f"BEGIN UPDATE {TABLE} SET token = randomblob(16) WHERE id = 1; END"
                )


def uninstall(apps, schema_editor) -> None:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in WATCHED_TABLES:
                cursor.execute(f"DROP TRIGGER IF EXISTS ipplan_data_change ON {table}")
            cursor.execute("DROP FUNCTION IF EXISTS ipplan_note_data_change()")
        else:
            for table in WATCHED_TABLES:
                for event in ("insert", "update", "delete"):
                    cursor.execute(f"DROP TRIGGER IF EXISTS ipplan_data_change_{table}_{event}")
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")


class Migration(migrations.Migration):
    dependencies = [
        ("agencies", "0003_robots_and_liaison_channels"),
        ("tasks", "0012_drop_indexes_import_never_reads"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
