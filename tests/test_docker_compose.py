"""docker-compose.yml and the Dockerfile, checked without a Docker engine.

No Docker engine runs where the tests run, so the compose file is parsed (PyYAML, with the
``${VAR:-default}`` / ``${VAR:?message}`` interpolation compose applies) and every service,
command, health check, ``depends_on`` condition and the environment the production settings
need is checked; the web environment is then handed to the real settings module in a
subprocess. When a compose implementation is installed (``docker compose`` or Debian's
``docker-compose``), ``config`` validates the file against the compose schema as well.
"""

import ast
import gc
import json
import os
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
WORKER_SERVICES = ("worker", "worker-recycle", "worker-imports")
APP_SERVICES = ("web", *WORKER_SERVICES, "beat")
ALL_SERVICES = {"postgres", "redis", "pgbouncer", "migrate", "static", "proxy", *APP_SERVICES}
PGBOUNCER_URL = "postgres://crm:pg-secret@pgbouncer:6432/crm"
POSTGRES_URL = "postgres://crm:pg-secret@postgres:5432/crm"
# What an operator puts in .env; everything else has a default in the compose file.
OPERATOR_ENV = {
    "DJANGO_SECRET_KEY": "a-long-random-secret-for-the-test",
    "DJANGO_ALLOWED_HOSTS": "crm.example.com",
    "POSTGRES_PASSWORD": "pg-secret",
}

_VARIABLE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


class MissingVariable(Exception):
    pass


def interpolate(value: object, env: dict[str, str]) -> object:
    """Compose's variable substitution: ``${X}``, ``${X:-default}``, ``${X:?error}``, ``$$``."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name, operator, argument = match.groups()
        current = env.get(name)
        unset = current is None or (operator is not None and operator.startswith(":") and current == "")
        if operator in ("?", ":?") and unset:
            raise MissingVariable(f"{name}: {argument}")
        if operator in ("-", ":-") and unset:
            return argument
        return current or ""

    return _VARIABLE.sub(substitute, value)


def load_compose(env: dict[str, str] | None = None) -> dict:
    compose = interpolate(yaml.safe_load(COMPOSE_FILE.read_text()), OPERATOR_ENV if env is None else env)
    assert isinstance(compose, dict)
    return compose


def required_settings_variables() -> set[str]:
    """The variables ``crm_site/settings.py`` refuses to boot without (its ``_required(...)`` calls)."""
    tree = ast.parse((ROOT / "crm_site" / "settings.py").read_text())
    return {
        str(node.args[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "_required"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }


def command_of(service: dict) -> list[str]:
    command = service["command"]
    return command.split() if isinstance(command, str) else list(command)


def health_test_of(service: dict) -> str:
    test = service["healthcheck"]["test"]
    return test if isinstance(test, str) else " ".join(test)


def test_compose_runs_the_proxy_web_pgbouncer_postgres_redis_workers_beat_and_one_shot_steps():
    services = load_compose()["services"]

    assert set(services) == ALL_SERVICES


def test_postgres_and_redis_are_pinned_with_volumes_and_health_checks():
    compose = load_compose()
    postgres, redis = compose["services"]["postgres"], compose["services"]["redis"]

    assert postgres["image"] == "postgres:15"
    assert redis["image"].startswith("redis:7")
    assert "pg_isready" in health_test_of(postgres)
    assert "redis-cli ping" in health_test_of(redis)
    for service in (postgres, redis):
        volume = service["volumes"][0].split(":")[0]
        assert volume in compose["volumes"], "data must live in a named volume"
        assert service["restart"] == "unless-stopped"


def test_web_runs_gunicorn_with_workers_from_the_environment_and_probes_healthz():
    raw_web = yaml.safe_load(COMPOSE_FILE.read_text())["services"]["web"]
    web = load_compose({**OPERATOR_ENV, "WEB_CONCURRENCY": "7"})["services"]["web"]

    command = command_of(web)
    assert command[:2] == ["gunicorn", "crm_site.wsgi:application"]
    assert "--workers=7" in command
    assert any("${WEB_CONCURRENCY" in part for part in command_of(raw_web))
    assert "http://127.0.0.1:8000/healthz" in health_test_of(web)
    # Replicas publish nothing (so `--scale web=N` cannot collide on a port): the proxy does.
    assert "ports" not in web
    assert web["expose"] == ["8000"]


def test_gunicorn_reads_the_repository_config_from_its_working_directory():
    """The image's and compose's gunicorn run in /app, the checkout's root: gunicorn.conf.py there
    gives threads, the connections a process takes, no keep-alive, worker recycling and the gc hook,
    and the command line sets none of them (an option there would silently override it)."""
    gunicorn = Path(sys.executable).parent / "gunicorn"
    printed = subprocess.run(
        [str(gunicorn), "--print-config", "crm_site.wsgi:application"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    config = dict(re.findall(r"^(\w+)\s+= (.*)$", printed, flags=re.MULTILINE))
    assert config["config"] == "./gunicorn.conf.py"
    assert (config["worker_class"], config["threads"], config["keepalive"]) == ("gthread", "4", "0")
    # A process accepts only what its threads can serve; the rest wait for whichever frees first.
    assert config["worker_connections"] == config["threads"]
    assert int(config["max_requests"]) >= 10_000
    assert config["timeout"] == "120"
    assert "post_worker_init()" in config["post_worker_init"]
    command = command_of(load_compose()["services"]["web"])
    assert not [
        part
        for part in command
        if part.split("=")[0]
        in ("--threads", "--worker-class", "-k", "--max-requests", "--worker-connections")
    ]
    assert (ROOT / "Dockerfile").read_text().count("WORKDIR /app") == 1


def test_a_worker_freezes_what_the_application_loaded():
    namespace = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    try:
        namespace["post_worker_init"](None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_the_proxy_is_nginx_with_the_repository_config_serving_the_static_volume():
    services = load_compose()["services"]
    proxy, static = services["proxy"], services["static"]
    config = (ROOT / "deploy" / "nginx.conf").read_text()

    assert proxy["image"].startswith("nginx:")
    assert proxy["ports"] == ["80:80"]
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in proxy["volumes"]
    assert "static:/srv/static:ro" in proxy["volumes"]
    assert proxy["depends_on"] == {
        "static": {"condition": "service_completed_successfully"},
        "web": {"condition": "service_healthy"},
    }
    assert "/healthz" in health_test_of(proxy)
    # The one-shot copy of the image's collected files into that volume.
    assert static["volumes"] == ["static:/srv/static"]
    assert "/app/staticfiles/." in " ".join(command_of(static))
    assert static["restart"] == "no"
    # nginx serves /static/ from the volume, refuses /media/ (private uploads), and resolves
    # `web` at request time through Docker's DNS, so replicas added by --scale are used.
    assert re.search(r"location /static/ \{\s*alias /srv/static/;", config)
    assert re.search(r"location /media/ \{\s*return 404;", config)
    assert "resolver 127.0.0.11 valid=10s" in config
    assert "set $web http://web:8000;" in config
    assert "proxy_pass $web;" in config
    assert "proxy_set_header X-Forwarded-Proto $forwarded_proto;" in config
    assert "client_max_body_size 55m;" in config  # imports upload up to 50 MB


def test_pgbouncer_pools_transactions_in_front_of_postgres_and_the_app_is_set_for_it():
    services = load_compose()["services"]
    pgbouncer = services["pgbouncer"]

    assert pgbouncer["environment"]["POOL_MODE"] == "transaction"
    assert pgbouncer["environment"]["DATABASE_URL"] == POSTGRES_URL
    assert pgbouncer["environment"]["LISTEN_PORT"] == "6432"
    assert "options" in pgbouncer["environment"]["IGNORE_STARTUP_PARAMETERS"].split(",")
    assert pgbouncer["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert "pg_isready" in health_test_of(pgbouncer)
    # jit=off for every session on the server, since PgBouncer drops the per-connection option.
    assert command_of(services["postgres"]) == ["postgres", "-c", "jit=off"]
    for name in APP_SERVICES:
        environment = services[name]["environment"]
        assert environment["DATABASE_URL"] == PGBOUNCER_URL, name
        assert environment["DJANGO_DB_TRANSACTION_POOLING"] == "1", name
        assert environment["DJANGO_CONN_MAX_AGE"] == "0", name
        assert environment["DJANGO_DISABLE_SERVER_SIDE_CURSORS"] == "1", name


@pytest.mark.parametrize("service_name", WORKER_SERVICES)
def test_workers_run_celery_workers_checked_by_inspect_ping(service_name):
    worker = load_compose()["services"][service_name]

    assert command_of(worker)[:4] == ["celery", "-A", "crm_site", "worker"]
    health = health_test_of(worker)
    assert "celery -A crm_site inspect ping" in health
    # The worker names itself worker@<container host name> and pings exactly that name.
    assert "--hostname=worker@%h" in command_of(worker)
    assert "--destination worker@$HOSTNAME" in health
    assert worker["volumes"] == ["media:/app/var/media"]
    assert worker["stop_grace_period"] == "60s"


def _queues(service: dict) -> set[str]:
    (option,) = [part for part in command_of(service) if part.startswith("--queues=")]
    return set(option.removeprefix("--queues=").split(","))


def test_each_queue_group_has_a_worker_service_and_every_queue_is_consumed():
    from django.conf import settings

    services = load_compose()["services"]

    assert _queues(services["worker-imports"]) == {"imports"}
    assert _queues(services["worker-recycle"]) == {"recycle"}
    assert _queues(services["worker"]) == {"default", "metrics"}
    consumed = set().union(*(_queues(services[name]) for name in WORKER_SERVICES))
    assert consumed == set(settings.CRM_CELERY_QUEUES)
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    assert routed | {settings.CELERY_TASK_DEFAULT_QUEUE} <= consumed


def test_beat_runs_the_database_scheduler_and_has_a_health_check():
    beat = load_compose()["services"]["beat"]

    command = command_of(beat)
    assert command[:4] == ["celery", "-A", "crm_site", "beat"]
    assert "--scheduler=crm_site.beat:LockedDatabaseScheduler" in command  # single by a lock
    assert health_test_of(beat) == "CMD python -m crm_site.health --broker"


def test_migrations_run_once_in_a_one_shot_service_before_the_app_starts():
    services = load_compose()["services"]
    migrate = services["migrate"]

    assert command_of(migrate) == ["python", "manage.py", "migrate", "--noinput"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    # Straight to PostgreSQL: DDL holds locks across statements, not for a transaction pool.
    assert migrate["environment"]["DATABASE_URL"] == POSTGRES_URL
    assert migrate["environment"]["DJANGO_DB_TRANSACTION_POOLING"] == "0"
    for name in APP_SERVICES:
        assert services[name]["depends_on"] == {
            "pgbouncer": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
            "migrate": {"condition": "service_completed_successfully"},
        }, name


def test_app_services_restart_and_have_health_checks_with_timings():
    services = load_compose()["services"]

    for name in APP_SERVICES:
        service = services[name]
        assert service["restart"] == "unless-stopped", name
        assert service["image"] == "crm:latest", name
        assert service["build"] == ".", name
        for timing in ("interval", "timeout", "retries", "start_period"):
            assert timing in service["healthcheck"], (name, timing)


def test_app_services_get_every_variable_the_production_settings_require():
    required = required_settings_variables()
    services = load_compose()["services"]

    assert {"DJANGO_SECRET_KEY", "DATABASE_URL"} <= required  # the parser still finds them
    for name in (*APP_SERVICES, "migrate"):
        environment = services[name]["environment"]
        assert environment["DJANGO_DEBUG"] == "0", name
        assert environment["DATABASE_URL"] == (POSTGRES_URL if name == "migrate" else PGBOUNCER_URL), name
        assert environment["REDIS_URL"] == "redis://redis:6379/0", name
        assert environment["DJANGO_ALLOWED_HOSTS"] == "crm.example.com", name
        for variable in required:
            assert environment.get(variable), (name, variable)


def test_compose_refuses_to_interpolate_without_the_operator_secrets():
    for missing in OPERATOR_ENV:
        env = {key: value for key, value in OPERATOR_ENV.items() if key != missing}
        with pytest.raises(MissingVariable, match=missing):
            load_compose(env)


@pytest.mark.parametrize("service_name", APP_SERVICES)
def test_app_service_environment_boots_the_production_settings(service_name):
    environment = load_compose()["services"][service_name]["environment"]
    script = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "db = s.DATABASES['default']; "
        "print(json.dumps([s.DEBUG, db['ENGINE'], db['HOST'], db['NAME'], s.CELERY_BROKER_URL, "
        "s.SECRET_KEY, s.STORAGES['staticfiles']['BACKEND'], db['CONN_MAX_AGE'], "
        "db['DISABLE_SERVER_SIDE_CURSORS'], s.DB_TRANSACTION_POOLING, s.SESSION_ENGINE, "
        "s.CACHES['default']['BACKEND'], sorted(s.DATABASES)]))"
    )
    env = {
        **{key: str(value) for key, value in environment.items()},
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "crm_site.settings",
        "DJANGO_ENV_FILE": os.devnull,
    }

    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [
        False,
        "django.db.backends.postgresql",
        "pgbouncer",
        "crm",
        "redis://redis:6379/0",
        OPERATOR_ENV["DJANGO_SECRET_KEY"],
        "whitenoise.storage.CompressedManifestStaticFilesStorage",
        0,
        True,
        True,
        "django.contrib.sessions.backends.cached_db",
        "django.core.cache.backends.redis.RedisCache",
        ["default"],  # no DATABASE_REPLICA_URL: no replica alias
    ]


def test_dockerfile_builds_assets_with_npm_collects_static_and_drops_root():
    dockerfile = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (\S+)(?: AS (\S+))?", dockerfile, flags=re.MULTILINE)

    assert stages[-1][0] == "python:3.11-slim"
    assert stages[0][0].startswith("node:")
    assert re.search(r"^RUN npm ci\b", dockerfile, flags=re.MULTILINE)
    assert f"COPY --from={stages[0][1]} /build/node_modules/ node_modules/" in dockerfile
    assert re.search(r"pip install[^\n]*-e \.", dockerfile)
    assert "manage.py collectstatic --noinput" in dockerfile
    users = re.findall(r"^USER (\S+)", dockerfile, flags=re.MULTILINE)
    assert users
    assert users[-1] not in ("root", "0")
    for needed in ("package.json", "package-lock.json", "pyproject.toml"):
        assert (ROOT / needed).is_file(), needed


def test_dockerignore_keeps_local_state_and_secrets_out_of_the_image():
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}

    assert {".venv", "node_modules", "db.sqlite3", ".env", "var", ".git", "staticfiles"} <= ignored


def _compose_command() -> list[str] | None:
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run([docker, "compose", "version"], capture_output=True, timeout=30)
        if probe.returncode == 0:
            return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def test_docker_compose_config_validates_the_file(tmp_path):
    compose = _compose_command()
    if compose is None:
        pytest.skip(
            "no compose implementation here: the docker client has no compose plugin and Debian's "
            "docker-compose is not installed (scripts/test.sh installs it); the parsed checks above still ran"
        )
    env_file = tmp_path / "compose.env"
    env_file.write_text("".join(f"{key}={value}\n" for key, value in OPERATOR_ENV.items()))
    empty_env_file = tmp_path / "empty.env"
    empty_env_file.write_text("")
    clean_env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    base = [*compose, "--project-directory", str(ROOT), "-f", str(COMPOSE_FILE)]

    result = subprocess.run(
        [*base, "--env-file", str(env_file), "config"],
        capture_output=True,
        text=True,
        env=clean_env,
        timeout=60,
    )
    refused = subprocess.run(
        [*base, "--env-file", str(empty_env_file), "config"],
        capture_output=True,
        text=True,
        env=clean_env,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    resolved = yaml.safe_load(result.stdout)["services"]
    assert set(resolved) == ALL_SERVICES
    assert resolved["web"]["environment"]["DJANGO_SECRET_KEY"] == OPERATOR_ENV["DJANGO_SECRET_KEY"]
    assert resolved["worker"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert refused.returncode != 0
    assert "in .env" in refused.stderr  # the message the compose file gives for a missing secret
