"""``make backup`` / ``make restore``: the database and the uploaded files, checked on the way back.

    python -m crm_site.backup create [--into DIR]     # make backup [BACKUP_DIR=...]
    python -m crm_site.backup restore DIR             # make restore BACKUP=DIR

``create`` writes a new folder (default ``var/backups/<UTC time>/``) holding

- ``database.dump``: ``pg_dump --format=custom`` of ``DATABASE_URL`` (``BACKUP_DATABASE_URL``
  overrides it: give the PostgreSQL server itself, not PgBouncer, whose transaction pool does not
  keep pg_dump's session). One consistent snapshot; ownership and grants left out, so it
  restores under any role;
- ``media.tar.gz``: everything under ``MEDIA_ROOT`` (import files and their reports);
- ``manifest.json``: when it was made, the app's version, the migration heads applied to the
  database (app → newest applied migration), the database's name and server version, and each
  file with its size and SHA-256.

``restore`` first checks every file against the manifest and stops, changing nothing, on any
difference (a truncated copy, a flipped bit, a file missing). Then it restores into a **fresh**
database — ``DATABASE_URL`` (or ``--database-url``): created when it does not exist, refused when
it already has tables, so a restore never mixes with or overwrites live data — with
``pg_restore --exit-on-error``, and unpacks the media files into ``MEDIA_ROOT``. It ends by
saying whether this code has migrations the backup's database had not applied (run
``manage.py migrate`` then).

A nightly dump is a point in time: what changed since is lost with the machine. Production runs
PostgreSQL's continuous archiving as well (base backups plus WAL, point-in-time recovery);
docs/DEPLOY.md says how. These dumps remain the portable copy: another server, another major
version, a test restore.
"""

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tarfile
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import django

MANIFEST = "manifest.json"
DUMP = "database.dump"
MEDIA = "media.tar.gz"
FORMAT = 1


class BackupError(Exception):
    """A backup or restore that must stop; the message says why."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _connection_parts(url: str) -> dict[str, str]:
    parsed = urlparse(url)
    if parsed.scheme not in ("postgres", "postgresql", "pgsql"):
        raise BackupError(f"backups need PostgreSQL; the database URL is {parsed.scheme}://")
    return {
        "host": parsed.hostname or "127.0.0.1",
        "port": str(parsed.port or 5432),
        "user": unquote(parsed.username or "postgres"),
        "password": unquote(parsed.password or ""),
        "dbname": parsed.path.lstrip("/"),
    }


def _pg_env(parts: dict[str, str]) -> dict[str, str]:
    env = os.environ | {"PGHOST": parts["host"], "PGPORT": parts["port"], "PGUSER": parts["user"]}
    if parts["password"]:
        env["PGPASSWORD"] = parts["password"]
    return env


def _run(command: list[str], *, env: dict[str, str]) -> str:
    # Fixed programs (pg_dump, pg_restore, psql); the arguments come from our own settings.
    result = subprocess.run(command, env=env, capture_output=True, text=True)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed ({result.returncode}): {result.stderr.strip()}")
    return result.stdout


def _psql(parts: dict[str, str], sql: str, *, dbname: str | None = None) -> str:
    return _run(
        ["psql", "-X", "-qAt", "-v", "ON_ERROR_STOP=1", "-d", dbname or parts["dbname"], "-c", sql],
        env=_pg_env(parts),
    ).strip()


def _database_url() -> str:
    from django.conf import settings

    url = os.environ.get("BACKUP_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if not url:
        db = settings.DATABASES["default"]
        if db["ENGINE"] != "django.db.backends.postgresql":
            raise BackupError("backups need PostgreSQL: set DATABASE_URL (or BACKUP_DATABASE_URL)")
        url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    return url


def _migration_heads(parts: dict[str, str]) -> dict[str, str]:
    """App label → its newest applied migration, as recorded in the database."""
    rows = _psql(parts, "SELECT app, max(name) FROM django_migrations GROUP BY app ORDER BY app")
    return dict(line.split("|", 1) for line in rows.splitlines() if line)


def _code_heads() -> dict[str, str]:
    from django.db.migrations.loader import MigrationLoader

    heads: dict[str, str] = {}
    for app, name in MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes():
        heads[app] = max(heads.get(app, ""), name)
    return heads


def create(into: Path | None = None) -> Path:
    """Write a backup folder and answer its path."""
    from django.conf import settings

    parts = _connection_parts(_database_url())
    created = datetime.now(UTC)
    target = into or Path(settings.BASE_DIR) / "var" / "backups" / created.strftime("%Y%m%dT%H%M%SZ")
    target.mkdir(parents=True, exist_ok=False)
    _run(
        [
            "pg_dump",
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            f"--file={target / DUMP}",
            parts["dbname"],
        ],
        env=_pg_env(parts),
    )
    media_root = Path(settings.MEDIA_ROOT)
    with tarfile.open(target / MEDIA, "w:gz") as archive:
        if media_root.is_dir():
            for path in sorted(media_root.rglob("*")):
                archive.add(path, arcname=str(path.relative_to(media_root)), recursive=False)
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "created_at": created.isoformat(),
        "app_version": metadata.version("crm"),
        "database": {
            "name": parts["dbname"],
            "server_version": _psql(parts, "SHOW server_version"),
        },
        "migrations": _migration_heads(parts),
        "files": [
            {"name": name, "bytes": (target / name).stat().st_size, "sha256": sha256_of(target / name)}
            for name in (DUMP, MEDIA)
        ],
    }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return target


def verify(source: Path) -> dict[str, Any]:
    """The manifest, once every file it lists is there with its size and SHA-256."""
    try:
        manifest = json.loads((source / MANIFEST).read_text())
    except (OSError, ValueError) as error:
        raise BackupError(f"{source / MANIFEST}: cannot read the manifest ({error})") from error
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{source / MANIFEST}: unknown backup format {manifest.get('format')!r}")
    listed = {entry["name"] for entry in manifest["files"]}
    if listed != {DUMP, MEDIA}:
        raise BackupError(f"{source / MANIFEST}: lists {sorted(listed)}, expected {[DUMP, MEDIA]}")
    for entry in manifest["files"]:
        path = source / entry["name"]
        if not path.is_file():
            raise BackupError(f"{path}: missing")
        if path.stat().st_size != entry["bytes"] or sha256_of(path) != entry["sha256"]:
            raise BackupError(f"{path}: checksum mismatch (the file is not the one the backup wrote)")
    return manifest


def restore(
    source: Path, *, database_url: str | None = None, media_root: Path | None = None
) -> dict[str, Any]:
    """Check ``source`` and restore it into a fresh database; answer the manifest."""
    from django.conf import settings

    manifest = verify(source)
    parts = _connection_parts(database_url or _database_url())
    name = parts["dbname"]
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_-]*", name):
        raise BackupError(f"restore into a database named with letters, digits, _ and - only, not {name!r}")
    exists = _psql(parts, f"SELECT 1 FROM pg_database WHERE datname = '{name}'", dbname="postgres")  # noqa: S608
    if exists:
        tables = _psql(
            parts,
            "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
        )
        if int(tables):
            raise BackupError(f"database {name!r} already has {tables} tables: restore into a fresh database")
    else:
        _psql(parts, f'CREATE DATABASE "{name}"', dbname="postgres")
    _run(
        ["pg_restore", "--exit-on-error", "--no-owner", "--no-privileges", "-d", name, str(source / DUMP)],
        env=_pg_env(parts),
    )
    media_target = media_root or Path(settings.MEDIA_ROOT)
    media_target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(source / MEDIA, "r:gz") as archive:
        archive.extractall(media_target, filter="data")
    return manifest


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_site.settings")
    django.setup()
    parser = argparse.ArgumentParser(prog="python -m crm_site.backup", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    create_parser = commands.add_parser("create", help="write a backup folder")
    create_parser.add_argument("--into", type=Path, help="the new folder (default var/backups/<UTC time>)")
    restore_parser = commands.add_parser("restore", help="check a backup folder and restore it")
    restore_parser.add_argument("source", type=Path)
    restore_parser.add_argument("--database-url", help="the fresh database (default DATABASE_URL)")
    args = parser.parse_args(argv)
    try:
        if args.command == "create":
            target = create(args.into)
            print(f"backup written to {target}")
            return 0
        manifest = restore(args.source, database_url=args.database_url)
    except BackupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"restored the backup of {manifest['created_at']} (version {manifest['app_version']})")
    pending = {app: head for app, head in _code_heads().items() if manifest["migrations"].get(app, "") < head}
    if pending:
        print(f"this code has newer migrations for {', '.join(sorted(pending))}: run manage.py migrate")
    return 0


if __name__ == "__main__":
    sys.exit(main())
