"""The one settings module: production is declared, the embedded default needs nothing.

Each case imports ``crm_site.settings`` in a subprocess with a clean environment (only
``PATH`` plus what the case sets, and ``DJANGO_ENV_FILE`` pointing at nothing so a
developer's ``.env`` cannot leak in), because settings are read once per process.
"""

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_text() -> str:
    return (ROOT / "README.md").read_text()


PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "production-secret-for-the-test",
    "DATABASE_URL": "postgres://crm:pw@db.internal:6432/crm_prod",
    "REDIS_URL": "redis://cache.internal:6380/2",
    "DJANGO_ALLOWED_HOSTS": "crm.example.com,www.crm.example.com",
}

DUMP_SETTINGS = """
import json, django
django.setup()
from django.conf import settings as s
db = s.DATABASES["default"]
print(json.dumps({
    "DEBUG": s.DEBUG,
    "ENGINE": db["ENGINE"],
    "NAME": str(db["NAME"]),
    "HOST": db.get("HOST", ""),
    "PORT": str(db.get("PORT", "")),
    "USER": db.get("USER", ""),
    "BROKER": s.CELERY_BROKER_URL,
    "RESULTS": s.CELERY_RESULT_BACKEND,
    "SECRET_KEY": s.SECRET_KEY,
    "ALLOWED_HOSTS": s.ALLOWED_HOSTS,
    "STATICFILES": s.STORAGES["staticfiles"]["BACKEND"],
    "SECURE_COOKIES": getattr(s, "SESSION_COOKIE_SECURE", False),
}))
"""


def load_settings(environment: dict[str, str]) -> subprocess.CompletedProcess:
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "crm_site.settings",
        "DJANGO_ENV_FILE": os.devnull,
        **environment,
    }
    return subprocess.run(
        [sys.executable, "-c", DUMP_SETTINGS], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def loaded(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_without_secret_key_stops_with_a_clear_message():
    environment = {key: value for key, value in PRODUCTION.items() if key != "DJANGO_SECRET_KEY"}

    result = load_settings(environment)

    assert result.returncode != 0
    assert "django.core.exceptions.ImproperlyConfigured: DJANGO_SECRET_KEY must be set" in result.stderr


def test_production_with_an_empty_secret_key_stops_too():
    result = load_settings({**PRODUCTION, "DJANGO_SECRET_KEY": ""})

    assert result.returncode != 0
    assert "ImproperlyConfigured: DJANGO_SECRET_KEY must be set" in result.stderr


def test_production_without_database_url_stops_with_a_clear_message():
    environment = {key: value for key, value in PRODUCTION.items() if key != "DATABASE_URL"}

    result = load_settings(environment)

    assert result.returncode != 0
    assert "django.core.exceptions.ImproperlyConfigured: DATABASE_URL must be set" in result.stderr


def test_production_settings_use_postgresql_and_redis_from_the_urls():
    settings = loaded(load_settings(PRODUCTION))

    assert settings == {
        "DEBUG": False,
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "crm_prod",
        "HOST": "db.internal",
        "PORT": "6432",
        "USER": "crm",
        "BROKER": "redis://cache.internal:6380/2",
        "RESULTS": "redis://cache.internal:6380/2",
        "SECRET_KEY": "production-secret-for-the-test",
        "ALLOWED_HOSTS": ["crm.example.com", "www.crm.example.com"],
        "STATICFILES": "whitenoise.storage.CompressedManifestStaticFilesStorage",
        "SECURE_COOKIES": True,
    }


def test_secret_key_can_come_from_a_mounted_file(tmp_path):
    secret_file = tmp_path / "secret_key"
    secret_file.write_text("from-a-docker-secret")
    environment = {key: value for key, value in PRODUCTION.items() if key != "DJANGO_SECRET_KEY"}

    settings = loaded(load_settings({**environment, "DJANGO_SECRET_KEY_FILE": str(secret_file)}))

    assert settings["SECRET_KEY"] == "from-a-docker-secret"


def test_no_environment_at_all_gives_the_embedded_sqlite_and_filesystem_broker(tmp_path):
    database = tmp_path / "embedded.sqlite3"

    settings = loaded(load_settings({"DJANGO_SQLITE_PATH": str(database)}))

    assert settings["DEBUG"] is True
    assert settings["ENGINE"] == "django.db.backends.sqlite3"
    assert settings["NAME"] == str(database)
    assert settings["BROKER"] == "filesystem://"
    assert settings["RESULTS"] is None
    assert settings["SECRET_KEY"] == "dev-only-not-secret"


def test_embedded_default_database_is_db_sqlite3_in_the_work_tree():
    settings = loaded(load_settings({}))

    assert settings["NAME"] == str(ROOT / "db.sqlite3")


def test_env_file_is_read_when_present(tmp_path):
    env_file = tmp_path / "site.env"
    env_file.write_text("DJANGO_SECRET_KEY=from-the-env-file\nDJANGO_ALLOWED_HOSTS=env-file.example.com\n")
    environment = {key: value for key, value in PRODUCTION.items() if key != "DJANGO_SECRET_KEY"}
    del environment["DJANGO_ALLOWED_HOSTS"]

    settings = loaded(load_settings({**environment, "DJANGO_ENV_FILE": str(env_file)}))

    assert settings["SECRET_KEY"] == "from-the-env-file"
    assert settings["ALLOWED_HOSTS"] == ["env-file.example.com"]


def settings_variables() -> set[str]:
    """Every environment variable ``crm_site/settings.py`` reads through ``env.*(...)``."""
    tree = ast.parse((ROOT / "crm_site" / "settings.py").read_text())
    names = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)):
            continue
        func = node.func
        is_env_call = (
            isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "env"
        )
        if is_env_call or (isinstance(func, ast.Name) and func.id == "_required"):
            names.add(str(node.args[0].value))
    return names


def test_readme_and_env_example_document_every_setting_variable():
    variables = settings_variables()
    readme = readme_text()
    env_example = (ROOT / ".env.example").read_text()

    assert {"DJANGO_DEBUG", "DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL"} <= variables
    assert not [name for name in sorted(variables) if f"`{name}`" not in readme]
    for name in ("DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL"):
        assert name in env_example


def test_readme_says_truthfully_which_management_commands_exist():
    from django.core.management import get_commands

    rows = re.findall(
        r"^\| `([a-z_]+)[^|]*\|[^|]*\|[^|]*\| (exists|planned)[^|]*\|$", readme_text(), flags=re.MULTILINE
    )
    commands = get_commands()

    assert {"recycle_pool", "seed_demo", "rollup_metrics"} <= {name for name, _status in rows}
    wrong = [(name, status) for name, status in rows if (name in commands) != (status == "exists")]
    assert not wrong, f"update the README's 'Periodic jobs by hand' table: {wrong}"


DUMP_DEPLOYMENT = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({
    "aliases": {
        alias: [db.get("HOST", ""), str(db["NAME"]), db["CONN_MAX_AGE"], db["DISABLE_SERVER_SIDE_CURSORS"]]
        for alias, db in s.DATABASES.items()
    },
    "replica": s.READ_REPLICA_ALIAS,
    "pooling": s.DB_TRANSACTION_POOLING,
    "sessions": s.SESSION_ENGINE,
    "cache": s.CACHES["default"]["BACKEND"],
    "beat": s.CELERY_BEAT_SCHEDULER,
}))
"""


def load_deployment(environment: dict[str, str]) -> dict:
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "crm_site.settings",
        "DJANGO_ENV_FILE": os.devnull,
    }
    result = subprocess.run(
        [sys.executable, "-c", DUMP_DEPLOYMENT],
        cwd=ROOT,
        env={**env, **environment},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return loaded(result)


def test_production_keeps_connections_and_sessions_in_redis_without_pgbouncer():
    settings = load_deployment(PRODUCTION)

    assert settings["aliases"] == {"default": ["db.internal", "crm_prod", 60, False]}
    assert settings["replica"] is None
    assert settings["pooling"] is False
    assert settings["sessions"] == "django.contrib.sessions.backends.cached_db"
    assert settings["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert settings["beat"] == "crm_site.beat:LockedDatabaseScheduler"


def test_transaction_pooling_closes_connections_and_turns_server_side_cursors_off():
    settings = load_deployment({**PRODUCTION, "DJANGO_DB_TRANSACTION_POOLING": "1"})
    each_on_its_own = load_deployment(
        {**PRODUCTION, "DJANGO_CONN_MAX_AGE": "0", "DJANGO_DISABLE_SERVER_SIDE_CURSORS": "1"}
    )

    assert settings["pooling"] is True
    assert settings["aliases"]["default"][2:] == [0, True]
    assert each_on_its_own["pooling"] is False
    assert each_on_its_own["aliases"]["default"][2:] == [0, True]


def test_a_replica_url_adds_the_replica_alias_with_the_same_connection_settings():
    settings = load_deployment(
        {
            **PRODUCTION,
            "DJANGO_DB_TRANSACTION_POOLING": "1",
            "DATABASE_REPLICA_URL": "postgres://crm:pw@standby.internal:5432/crm_prod",
        }
    )

    assert settings["aliases"] == {
        "default": ["db.internal", "crm_prod", 0, True],
        "replica": ["standby.internal", "crm_prod", 0, True],
    }
    assert settings["replica"] == "replica"


def test_the_embedded_default_keeps_sessions_in_the_database_and_the_cache_in_memory(tmp_path):
    settings = load_deployment({"DJANGO_SQLITE_PATH": str(tmp_path / "embedded.sqlite3")})

    assert settings["sessions"] == "django.contrib.sessions.backends.db"
    assert settings["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert list(settings["aliases"]) == ["default"]
