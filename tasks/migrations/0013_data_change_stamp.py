"""The data stamp under cached aggregates (tasks/changes.py): a change log written by database triggers.
Written out here, not imported, so that the migration keeps doing what it did when it was written."""

from django.db import migrations

TABLE = "ipplan_data_change"
EPOCH_TABLE = "ipplan_data_epoch"
TASKS = "tasks_task"
OTHER_TABLES = ("tasks_measure", "tasks_plan", "agencies_agency", "agencies_liaison")
BUCKETS = 32

POSTGRESQL = [
    f"CREATE TABLE {TABLE} (id bigserial PRIMARY KEY, bucket smallint NULL)",
    f"INSERT INTO {TABLE} DEFAULT VALUES",
    f"CREATE TABLE {EPOCH_TABLE} (epoch uuid NOT NULL)",
    f"INSERT INTO {EPOCH_TABLE} VALUES (gen_random_uuid())",
    # A write that concerns every agency.
    "CREATE FUNCTION ipplan_note_data_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN INSERT INTO {TABLE} DEFAULT VALUES; RETURN NULL; END $$",
    # A write to tasks: the buckets of the agencies it touched, before and after (transition tables).
    "CREATE FUNCTION ipplan_note_task_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"IF TG_OP = 'INSERT' THEN INSERT INTO {TABLE} (bucket) SELECT DISTINCT agency_id % {BUCKETS} FROM new_rows; "
    f"ELSIF TG_OP = 'DELETE' THEN INSERT INTO {TABLE} (bucket) "
    f"SELECT DISTINCT agency_id % {BUCKETS} FROM old_rows; "
    f"ELSE INSERT INTO {TABLE} (bucket) SELECT agency_id % {BUCKETS} FROM old_rows "
    f"UNION SELECT agency_id % {BUCKETS} FROM new_rows; "
    "END IF; RETURN NULL; END $$",
    f"CREATE TRIGGER ipplan_data_change_insert AFTER INSERT ON {TASKS} REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION ipplan_note_task_change()",
    f"CREATE TRIGGER ipplan_data_change_update AFTER UPDATE ON {TASKS} "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ipplan_note_task_change()",
    f"CREATE TRIGGER ipplan_data_change_delete AFTER DELETE ON {TASKS} REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION ipplan_note_task_change()",
    f"CREATE TRIGGER ipplan_data_change AFTER TRUNCATE ON {TASKS} FOR EACH STATEMENT "
    "EXECUTE FUNCTION ipplan_note_data_change()",
    *(
        f"CREATE TRIGGER ipplan_data_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION ipplan_note_data_change()"
        for table in OTHER_TABLES
    ),
]

# Row 0: every agency; row b + 1: bucket b.
SQLITE_TOKEN = f"UPDATE {TABLE} SET token = randomblob(16) WHERE id = "
SQLITE = [
    f"CREATE TABLE {TABLE} (id integer PRIMARY KEY, token blob NOT NULL)",
    *(f"INSERT INTO {TABLE} (id, token) VALUES ({row}, randomblob(16))" for row in range(BUCKETS + 1)),
    f"CREATE TRIGGER ipplan_data_change_{TASKS}_insert AFTER INSERT ON {TASKS} "
    f"BEGIN {SQLITE_TOKEN}NEW.agency_id % {BUCKETS} + 1; END",
    f"CREATE TRIGGER ipplan_data_change_{TASKS}_update AFTER UPDATE ON {TASKS} "
    f"BEGIN {SQLITE_TOKEN}OLD.agency_id % {BUCKETS} + 1; {SQLITE_TOKEN}NEW.agency_id % {BUCKETS} + 1; END",
    f"CREATE TRIGGER ipplan_data_change_{TASKS}_delete AFTER DELETE ON {TASKS} "
    f"BEGIN {SQLITE_TOKEN}OLD.agency_id % {BUCKETS} + 1; END",
    *(
        f"CREATE TRIGGER ipplan_data_change_{table}_{event.lower()} AFTER {event} ON {table} BEGIN {SQLITE_TOKEN}0; END"
        for table in OTHER_TABLES
        for event in ("INSERT", "UPDATE", "DELETE")
    ),
]


def install(apps, schema_editor) -> None:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        for statement in POSTGRESQL if connection.vendor == "postgresql" else SQLITE:
            cursor.execute(statement)


def uninstall(apps, schema_editor) -> None:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for name in ("ipplan_data_change_insert", "ipplan_data_change_update", "ipplan_data_change_delete"):
                cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {TASKS}")
            for table in (TASKS, *OTHER_TABLES):
                cursor.execute(f"DROP TRIGGER IF EXISTS ipplan_data_change ON {table}")
            cursor.execute("DROP FUNCTION IF EXISTS ipplan_note_task_change()")
            cursor.execute("DROP FUNCTION IF EXISTS ipplan_note_data_change()")
            cursor.execute(f"DROP TABLE IF EXISTS {EPOCH_TABLE}")
        else:
            for table in (TASKS, *OTHER_TABLES):
                for event in ("insert", "update", "delete"):
                    cursor.execute(f"DROP TRIGGER IF EXISTS ipplan_data_change_{table}_{event}")
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")


class Migration(migrations.Migration):
    dependencies = [
        ("agencies", "0003_robots_and_liaison_channels"),
        ("tasks", "0012_drop_indexes_import_never_reads"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
