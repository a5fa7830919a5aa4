"""Backup and restore of the whole platform: the database and the uploaded files.

PostgreSQL is dumped with `pg_dump --format=custom` (consistent: one snapshot, while the platform runs) and
restored with `pg_restore --clean`; the embedded SQLite through sqlite3's online backup API. Uploaded files are
archived when they are on local disk; on S3-compatible storage the bucket's own versioning keeps them."""

import datetime
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.storage.filesystem import FileSystemStorage
from django.db import connection, connections


class BackupError(Exception):
    pass


def _pg_env(db):
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return env


def _pg_args(db):
    args = []
    if db.get("HOST"):
        args += ["-h", str(db["HOST"])]
    if db.get("PORT"):
        args += ["-p", str(db["PORT"])]
    if db.get("USER"):
        args += ["-U", str(db["USER"])]
    return args


def _run(command, env=None):
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=3600)
    except FileNotFoundError:
        raise BackupError(f"не найдена программа {command[0]} (postgresql-client)") from None
    if done.returncode != 0:
        raise BackupError(f"{command[0]}: {done.stderr.strip()[:2000]}")
    return done


def row_counts(alias="default"):
    """{table: rows} of every table of the database: what a restore must give back exactly."""
    conn = connections[alias]
    with conn.cursor() as cursor:
        tables = conn.introspection.table_names(cursor)
        counts = {}
        for table in tables:
            cursor.execute(f"SELECT COUNT(*) FROM {conn.ops.quote_name(table)}")
            counts[table] = cursor.fetchone()[0]
    return counts


def backup(directory, *, alias="default", now=None):
    """Write <directory>/muko-<time>/ with database.dump (or database.sqlite3), media.tar.gz and manifest.json;
    returns the path of that folder."""
    db = connections[alias].settings_dict
    stamp = (now or datetime.datetime.now()).strftime("%Y%m%d-%H%M%S")
    target = Path(directory) / f"muko-{stamp}"
    target.mkdir(parents=True, exist_ok=False)
    vendor = connections[alias].vendor
    if vendor == "postgresql":
        _run(
            ["pg_dump", "--format=custom", "--no-owner", "--file", str(target / "database.dump"), *_pg_args(db)]
            + [db["NAME"]],
            env=_pg_env(db),
        )
    elif vendor == "sqlite":
        source = sqlite3.connect(db["NAME"])
        try:
            with sqlite3.connect(target / "database.sqlite3") as copy:
                source.backup(copy)
        finally:
            source.close()
    else:
        raise BackupError(f"неподдерживаемая база данных: {vendor}")
    media = isinstance(default_storage, FileSystemStorage) and Path(settings.MEDIA_ROOT).is_dir()
    if media:
        with tarfile.open(target / "media.tar.gz", "w:gz") as archive:
            archive.add(settings.MEDIA_ROOT, arcname="media")
    manifest = {
        "created": stamp,
        "database": vendor,
        "media": media,
        "rows": row_counts(alias),
    }
    (target / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
    return target


def restore(folder, *, alias="default", database_name=None):
    """Restore a backup folder into the database of `alias` (or into `database_name` on the same PostgreSQL
    server, for a trial restore), and the media files. Returns the manifest."""
    folder = Path(folder)
    manifest_path = folder / "manifest.json"
    if not manifest_path.exists():
        raise BackupError(f"{folder}: нет manifest.json — это не папка резервной копии")
    manifest = json.loads(manifest_path.read_text())
    db = connections[alias].settings_dict
    vendor = connections[alias].vendor
    if manifest["database"] != vendor:
        raise BackupError(f"копия сделана из {manifest['database']}, а база сейчас {vendor}")
    if vendor == "postgresql":
        connection.close()
        _run(
            ["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", *_pg_args(db)]
            + ["--dbname", database_name or db["NAME"], str(folder / "database.dump")],
            env=_pg_env(db),
        )
    else:
        connections[alias].close()
        with sqlite3.connect(folder / "database.sqlite3") as source, sqlite3.connect(db["NAME"]) as copy:
            source.backup(copy)
    if manifest.get("media") and database_name is None:
        media_root = Path(settings.MEDIA_ROOT)
        with tarfile.open(folder / "media.tar.gz") as archive:
            staging = media_root.with_name(media_root.name + ".restoring")
            shutil.rmtree(staging, ignore_errors=True)
            archive.extractall(staging, filter="data")  # no absolute paths, no links out of the folder
            shutil.rmtree(media_root, ignore_errors=True)
            (staging / "media").rename(media_root)
            shutil.rmtree(staging, ignore_errors=True)
    return manifest
