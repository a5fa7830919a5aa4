"""`make backup` and the documented restore: a PostgreSQL dump restored into a new database keeps every row."""

import os
import subprocess

import psycopg2
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from municipalities.backup import BackupError, backup, restore

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="the dump/restore round trip is PostgreSQL's"
)


def fingerprints(dbname):
    """{table: (rows, md5 of all rows in a fixed order)} read through a connection of its own."""
    s = connection.settings_dict
    conn = psycopg2.connect(dbname=dbname, host=s["HOST"], port=s["PORT"] or 5432, user=s["USER"])
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
            tables = [r[0] for r in cursor.fetchall()]
            result = {}
            for table in tables:
                cursor.execute(
                    f"SELECT COUNT(*), md5(COALESCE(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \"{table}\" t"
                )
                result[table] = cursor.fetchone()
            return result
    finally:
        conn.close()


@pytest.mark.django_db(transaction=True)
def test_a_dump_restored_into_a_new_database_keeps_every_row(finalized, survey_campaign, tmp_path):
    source = connection.settings_dict["NAME"]
    target = f"{source}_restored"
    s = connection.settings_dict
    args = ["-h", s["HOST"], "-p", str(s["PORT"] or 5432), "-U", s["USER"]]
    subprocess.run(["dropdb", "--if-exists", *args, target], check=True)
    subprocess.run(["createdb", *args, target], check=True)
    try:
        folder = backup(tmp_path)
        assert (folder / "database.dump").stat().st_size > 0
        restore(folder, database_name=target)
        before, after = fingerprints(source), fingerprints(target)
        assert before.keys() == after.keys() and len(before) > 40
        assert before == after
        assert before["assessment_score"][0] > 0 and before["municipalities_municipality"][0] == 3
    finally:
        subprocess.run(["dropdb", "--if-exists", *args, target], check=True)


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_what_is_not_a_backup(tmp_path):
    with pytest.raises(BackupError, match="manifest"):
        restore(tmp_path)
    with pytest.raises(CommandError, match="Восстановление не выполнено"):
        call_command("restore", str(tmp_path), "--yes")
