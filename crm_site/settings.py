"""Settings for every environment, driven by environment variables.

With no environment at all the site runs as a development site on SQLite with a
filesystem Celery broker, so the README's first command works on a fresh machine.
Production is declared with ``DJANGO_DEBUG=0``; then ``DJANGO_SECRET_KEY`` and
``DATABASE_URL`` are required and the boot stops with a clear message without them.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.FileAwareEnv()
# DJANGO_ENV_FILE names another file (tests point it at nothing so a developer's .env cannot leak in).
ENV_FILE = Path(env.str("DJANGO_ENV_FILE", default=str(BASE_DIR / ".env")))
if ENV_FILE.is_file():
    environ.FileAwareEnv.read_env(ENV_FILE)

DEBUG = env.bool("DJANGO_DEBUG", default=True)  # the embedded default is a development site


def _required(name: str) -> str:
    value = env.str(name, default="")
    if not value:
        raise ImproperlyConfigured(f"{name} must be set when DJANGO_DEBUG=0.")
    return value


SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="") or (
    "dev-only-not-secret" if DEBUG else _required("DJANGO_SECRET_KEY")
)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "template_partials",
    "django_celery_beat",
    "audit",
    "jobs",
    "customers",
    "public_pool",
    "metrics",
    "csp",  # Content-Security-Policy (see "Headers" below)
    "axes",  # sign-in lockout (see "Sign-in" below); its admin lists and unlocks lockouts
]

MIDDLEWARE = [
    "crm_site.health.HealthCheckMiddleware",  # first: probes come by IP, before host validation
    "django.middleware.security.SecurityMiddleware",
    "crm_site.headers.CSPMiddleware",  # django-csp's, with the policy built once (crm_site/headers.py)
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last: turns a sign-in that axes refused into the lockout answer (crm_site/lockout.py).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "crm_site.urls"
WSGI_APPLICATION = "crm_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "public_pool.context_processors.notifications",
            ],
        },
    },
]

# The embedded default's SQLite file; DJANGO_SQLITE_PATH moves it (a smoke test uses a temp file).
SQLITE_PATH = env.path("DJANGO_SQLITE_PATH", default=BASE_DIR / "db.sqlite3")
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{SQLITE_PATH}")}
if not DEBUG and "DATABASE_URL" not in env:
    _required("DATABASE_URL")
# Behind PgBouncer in transaction mode (docs/DEPLOY.md) a server connection belongs to a client
# for one transaction only, so nothing may outlive a transaction on it: DJANGO_DB_TRANSACTION_POOLING=1
# closes Django's connection after each request (CONN_MAX_AGE 0: PgBouncer keeps the real ones
# open), turns off server-side cursors (.iterator() would open a named cursor WITHOUT HOLD in one
# transaction and fetch from it in the next) and makes the periodic jobs' run lock a row instead
# of a session advisory lock (public_pool/services/run_lock.py). DJANGO_CONN_MAX_AGE and
# DJANGO_DISABLE_SERVER_SIDE_CURSORS set the first two on their own.
DB_TRANSACTION_POOLING = env.bool("DJANGO_DB_TRANSACTION_POOLING", default=False)
DATABASES["default"]["CONN_MAX_AGE"] = env.int(
    "DJANGO_CONN_MAX_AGE", default=0 if DB_TRANSACTION_POOLING else 60
)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env.bool(
    "DJANGO_DISABLE_SERVER_SIDE_CURSORS", default=DB_TRANSACTION_POOLING
)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A small team on one file: every transaction takes the write lock when it begins
    # (IMMEDIATE), so two writers queue for up to ``timeout`` seconds instead of one failing with
    # "database is locked" when it tries to upgrade a read to a write; WAL lets readers (pages,
    # the Celery worker) go on while one writes; synchronous=NORMAL is safe with WAL.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Covering indexes (``include=``, for the current-period KPIs at a million customers) are
    # PostgreSQL's; SQLite builds the same indexes without the extra columns, which is all a
    # small team's file needs, so its warning about them (models.W040) would only be noise.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
elif DATABASES["default"]["ENGINE"].startswith("django.db.backends.postgresql"):
    # No JIT compilation: our heavy statements (roll-ups, KPI aggregates, recycle batches) run
    # for tens to hundreds of milliseconds, and compiling them cost more than it saved (the
    # nightly roll-up of one day: 5.5 s with JIT, 2.4 s without, at a million customers).
    # Through PgBouncer the startup option is dropped (its ignore_startup_parameters): there the
    # server itself runs with jit=off (docker-compose.yml, docs/DEPLOY.md).
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c jit=off".strip()
# An optional read replica (a streaming standby): DATABASE_REPLICA_URL adds the ``replica`` alias,
# and crm_site/db_routers.py sends the reads of dashboards, reports and CSV exports there; every
# write, and every read of a request that writes or must see its own writes (claims, releases,
# forms, sign-in, sessions), stays on ``default``. Without it everything reads from ``default``.
REPLICA_ALIAS = "replica"
if env.str("DATABASE_REPLICA_URL", default=""):
    _replica = env.db("DATABASE_REPLICA_URL")
    for _key in ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS", "DISABLE_SERVER_SIDE_CURSORS"):
        _replica[_key] = DATABASES["default"][_key]
    _replica["OPTIONS"] = {**DATABASES["default"].get("OPTIONS", {}), **_replica.get("OPTIONS", {})}
    DATABASES[REPLICA_ALIAS] = _replica
# The alias report reads go to (None: ``default``); crm_site.db_routers.replica_alias() reads it.
READ_REPLICA_ALIAS = REPLICA_ALIAS if REPLICA_ALIAS in DATABASES else None
DATABASE_ROUTERS = ["crm_site.db_routers.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "customers.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# axes' backend first: it refuses a locked-out username or address before the password is checked.
AUTHENTICATION_BACKENDS = [
    "crm_site.lockout.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = env.str("DJANGO_LANGUAGE_CODE", default="en")
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Our number formats over Django's (zh-hans: 2,177,800 rather than 2177800); see the module.
FORMAT_MODULE_PATH = ["crm_site.formats"]
USE_I18N = True
USE_TZ = True
# The company's time zone: KPI periods and "today" are days in this zone.
TIME_ZONE = env.str("CRM_TIME_ZONE", default="Asia/Shanghai")

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
if DEBUG:
    # WhiteNoise serves from finders in development but warns when collectstatic's folder is missing.
    STATIC_ROOT.mkdir(exist_ok=True)
NODE_MODULES = BASE_DIR / "node_modules"
# Front-end libraries come from npm (package.json) and are served straight from node_modules.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", NODE_MODULES / "bootstrap" / "dist"),
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/echarts", NODE_MODULES / "echarts" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=BASE_DIR / "var" / "media")

EMAIL_BACKEND = env.str(
    "DJANGO_EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env.str("DJANGO_EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("DJANGO_EMAIL_PORT", default=25)
DEFAULT_FROM_EMAIL = env.str("DJANGO_DEFAULT_FROM_EMAIL", default="crm@localhost")

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    # Usually the TLS proxy redirects and sets HSTS; these let Django do it where none does.
    # /healthz is answered before SecurityMiddleware, so plain-HTTP probes keep working.
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SSL_REDIRECT", default=False)
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=False)
    SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=False)

# --- Headers ----------------------------------------------------------------------------------
# Every answer says what it may load: scripts and styles only from our own static files (no
# inline <script>, no on*= handlers, no style="" attributes: JavaScript lives in static/js and
# sets styles through the DOM, which CSP allows). The one allowance is style-src-attr, for
# ECharts' SVG charts (see below); scripts have no 'unsafe-inline' at all. img-src allows data: URIs for
# Bootstrap's inline SVG icons and the empty favicon. tests/browser/test_csp.py loads every
# main page in Chromium with this policy and fails on any violation.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # style="" attributes only (never <style> elements or stylesheets from elsewhere):
        # ECharts' SVG renderer writes them with setAttribute, which CSP judges as inline.
        # An attribute can restyle an element but runs no code; our own templates use none.
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
SECURE_REFERRER_POLICY = "same-origin"  # other sites never see our URLs (customer ids, searches)
SECURE_CONTENT_TYPE_NOSNIFF = True  # X-Content-Type-Options: nosniff

# --- Sign-in: lockout (django-axes) and API tokens -----------------------------------------
# After AXES_FAILURE_LIMIT wrong passwords for one username, or from one address, further
# sign-ins (the login page, the admin login and POST /api/auth/token/) are refused for the
# cool-off time, the right password included: 429 ``locked_out`` with ``Retry-After``.
# Admins unlock early in the admin (Axes → Access attempts: delete the row).
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = env.int("CRM_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("CRM_LOGIN_LOCKOUT_MINUTES", default=15))
# Each parameter counts on its own: one username from any address, one address for any username.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# The lock ends cool-off after the failure that set it; tries while locked do not extend it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True  # a successful sign-in forgets that user's earlier failures
AXES_LOCKOUT_CALLABLE = "crm_site.lockout.lockout_response"
# Behind DJANGO_NUM_PROXIES proxies the client's address is taken from X-Forwarded-For (the
# right-most entries are the proxies'); with none it is the connection's address.
NUM_PROXIES = env.int("DJANGO_NUM_PROXIES", default=0)
if NUM_PROXIES:
    AXES_IPWARE_PROXY_COUNT = NUM_PROXIES
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
# An API token stops working after this many days without use (each use restarts the count).
API_TOKEN_IDLE_DAYS = env.int("CRM_API_TOKEN_IDLE_DAYS", default=30)

# --- Request size limits ----------------------------------------------------------------------
# A body other than uploaded files (JSON, form fields) over 2.5 MB is refused (400 on a page,
# 413 ``too_large`` under /api/); so is a form with more than 2,000 fields. Uploaded files over
# 2.5 MB go to a temporary file instead of memory; an import file is capped by
# ``public_pool.services.imports.MAX_FILE_BYTES`` (50 MB) with a message saying so.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000
DATA_UPLOAD_MAX_NUMBER_FILES = 10
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# --- REST API ---------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # The token first: its ``WWW-Authenticate: Token`` makes refusals 401 rather than 403.
        "customers.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "crm_site.api.PageNumberPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "crm_site.schema.AutoSchema",
    "EXCEPTION_HANDLER": "crm_site.api.exception_handler",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "crm_site.negotiation.ContentNegotiation",
    "DEFAULT_PARSER_CLASSES": [
        "crm_site.parsers.SizeLimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # Request rates per signed-in user and per anonymous address; beyond them 429 ``throttled``.
    "DEFAULT_THROTTLE_CLASSES": [
        "crm_site.throttling.AnonRateThrottle",
        "crm_site.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("CRM_API_ANON_RATE", default="60/min"),
        "user": env.str("CRM_API_USER_RATE", default="1200/min"),
    },
    # 0: the connection's address, never a client-sent X-Forwarded-For (DRF's None would trust it).
    "NUM_PROXIES": NUM_PROXIES,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "CRM API",
    "DESCRIPTION": "Customers, follow-ups and the public pool (公海).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Served from the drf-spectacular-sidecar package, so /api/docs/ works with no internet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Name the enums after their choices, so another app's ``kind`` field cannot collide with ours.
    "ENUM_NAME_OVERRIDES": {
        "FollowUpKindEnum": "customers.models.FollowUpKind",
        "PoolEventKindEnum": "public_pool.models.PoolEventKind",
        "NotificationKindEnum": "public_pool.models.NotificationKind",
        "ExtensionStatusEnum": "public_pool.models.ExtensionStatus",
        "ImportStatusEnum": "public_pool.models.ImportStatus",
        "ImportApiStatusEnum": "public_pool.api.imports.API_STATUS_VALUES",
    },
    # Read-only text with no value answers "" (never null): crm_site/schema.py documents it.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "crm_site.schema.allow_blank_read_only_strings",
    ],
}

# --- Celery -----------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
if not REDIS_URL:
    # The embedded default: a broker that needs no server, in folders under var/.
    _broker_dir = Path(env.str("CELERY_BROKER_DIR", default=str(BASE_DIR / "var" / "celery-broker")))
    for _sub in ("out", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        # Broadcast (control) messages, which kombu would otherwise write to ./control.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# django-celery-beat's database scheduler behind a lock, so that a second beat waits instead of
# sending every job twice (crm_site/beat.py).
CELERY_BEAT_SCHEDULER = "crm_site.beat:LockedDatabaseScheduler"
# Queues by kind of work, so that workers can be given to each: a 1,000,000-row import (minutes)
# never delays the recycle job, and the nightly roll-ups never delay either. Every worker command
# names its queues (``-Q``; docker-compose.yml runs one worker service per group, ``make worker``
# and the demo consume all four); a task not listed goes to ``default`` (team chat posts, unless
# PUBLIC_POOL_TEAM_CHAT_QUEUE names another). A worker started without ``-Q`` consumes all four
# (CELERY_TASK_QUEUES), so a plain ``celery -A crm_site worker`` never leaves imports or the
# recycle job waiting in a queue nobody reads.
CRM_CELERY_QUEUES = ("default", "imports", "recycle", "metrics")
CELERY_TASK_QUEUES = tuple(Queue(name) for name in CRM_CELERY_QUEUES)
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "public_pool.tasks.import_customers_task": {"queue": "imports"},
    "public_pool.tasks.post_team_chat_task": {"queue": "default"},
    # recycle, warnings, the recycled digest, priorities, policy refreshes: the pool's jobs
    "public_pool.tasks.*": {"queue": "recycle"},
    # roll-ups, dashboard warming, value tiers, churn flags (their stable names are metrics.*)
    "metrics.*": {"queue": "metrics"},
}
# Defaults for the periodic jobs; django-celery-beat copies them into the database, where admins
# can change them without a deploy. Each job is also a management command (see README).
CELERY_BEAT_SCHEDULE: dict[str, dict] = {}
CELERY_BEAT_SCHEDULE |= {
    # Public pool: every 15 minutes, send customers whose recycle rule fired back to a pool.
    "public_pool.recycle": {
        "task": "public_pool.tasks.recycle_pool_task",
        "schedule": crontab(minute="*/15"),
    },
    # Public pool: every day at 08:00, warn owners (and managers) before customers are recycled.
    "public_pool.warn_recycle": {
        "task": "public_pool.tasks.warn_recycle_task",
        "schedule": crontab(hour=8, minute=0),
    },
    # Public pool: every day at 08:10, e-mail each manager the team's customers recycled since
    # the last digest.
    "public_pool.team_recycled_digest": {
        "task": "public_pool.tasks.team_recycled_digest_task",
        "schedule": crontab(hour=8, minute=10),
    },
    # Public pool: every night at 01:15, re-score pooled leads (recency decays with time).
    "public_pool.priorities": {
        "task": "public_pool.tasks.recompute_pool_priorities_task",
        "schedule": crontab(hour=1, minute=15),
    },
    # Metrics: every night at 00:30, roll up yesterday's KPI figures (idempotent; a rerun replaces the day).
    "metrics.rollup": {
        "task": "metrics.tasks.rollup_metrics_task",
        "schedule": crontab(hour=0, minute=30),
    },
    # Metrics: every night at 02:00, after the roll-up, tiers and churn flags, cache last week's,
    # month's and quarter's dashboard figures for the company and every team.
    "metrics.warm_dashboards": {
        "task": "metrics.tasks.warm_dashboards_task",
        "schedule": crontab(hour=2, minute=0),
    },
    # Metrics: every night at 00:50, recompute customer lifetime value and value tiers A/B/C
    # (before the 01:15 re-scoring; tier changes mark recycle policies for re-matching).
    "metrics.recompute_value_tiers": {
        "task": "metrics.pool_tasks.recompute_value_tiers_task",  # its stable name (metrics.tasks)
        "schedule": crontab(hour=0, minute=50),
    },
    # Metrics: every night at 01:40, flag paying customers at risk of churning.
    "metrics.flag_churn_risk": {
        "task": "metrics.pool_tasks.flag_churn_risk_task",  # its stable name (metrics.tasks)
        "schedule": crontab(hour=1, minute=40),
    },
}

# --- Customer lists ---------------------------------------------------------------------------
# Lists longer than this show PostgreSQL's estimate of their length ("about 1,000,000")
# instead of counting every row (customers.pagination).
CUSTOMER_LIST_EXACT_COUNT = env.int("CUSTOMER_LIST_EXACT_COUNT", default=10_000)

# Seconds between the plain progress lines of long commands when stdout is not a terminal
# (crm_site/progress.py; on a terminal the bar redraws ten times a second).
PROGRESS_INTERVAL_SECONDS = env.float("PROGRESS_INTERVAL_SECONDS", default=5.0)

# --- Public pool ------------------------------------------------------------------------------
# Customers per recycle transaction (each batch is one statement plus its scoring).
PUBLIC_POOL_RECYCLE_BATCH_SIZE = env.int("PUBLIC_POOL_RECYCLE_BATCH_SIZE", default=5000)
# Rows per import transaction (each chunk: one COPY, one INSERT ... SELECT, its events).
PUBLIC_POOL_IMPORT_CHUNK_SIZE = env.int("PUBLIC_POOL_IMPORT_CHUNK_SIZE", default=2000)
PUBLIC_POOL_EXTENSION_DAYS = 14  # days an extension asks for unless the rep says otherwise
PUBLIC_POOL_ESCALATE_HOURS = 24  # tell the manager when a warned deadline is this close
# The Celery queue of team group-chat posts (outbound HTTP); empty: the default queue.
PUBLIC_POOL_TEAM_CHAT_QUEUE = env.str("PUBLIC_POOL_TEAM_CHAT_QUEUE", default="") or None
PUBLIC_POOL_DISTRIBUTE_MAX = 500  # leads one automatic distribution hands out at most

# --- Metrics: surveys -------------------------------------------------------------------------
# Days a survey link (NPS/CSAT) stays valid after it is sent.
METRICS_SURVEY_LINK_DAYS = env.int("METRICS_SURVEY_LINK_DAYS", default=14)
# The site's public address, for links in e-mails sent outside a request (survey links).
CRM_SITE_URL = env.str("CRM_SITE_URL", default="http://localhost:8000")

# --- Metrics: pool KPIs, churn warning, value tiers (metrics.kpis.pool, metrics.services.churn, metrics.services.tiers)
# Pool conversion: a claimed lead counts as converted when a deal is won within this many days.
METRICS_POOL_CONVERSION_DAYS = env.int("METRICS_POOL_CONVERSION_DAYS", default=90)
# Stale pool stock: leads sitting in a pool longer than this many days without being claimed.
METRICS_STALE_POOL_DAYS = env.int("METRICS_STALE_POOL_DAYS", default=30)
# Churn warning: flag a paying customer with no follow-up for this many days ...
METRICS_CHURN_NO_FOLLOWUP_DAYS = env.int("METRICS_CHURN_NO_FOLLOWUP_DAYS", default=60)
# ... or with a detractor NPS answer (0-6) within this many days ...
METRICS_CHURN_NPS_LOOKBACK_DAYS = env.int("METRICS_CHURN_NPS_LOOKBACK_DAYS", default=90)
# ... or with no purchase for longer than this factor times its own median purchase interval.
METRICS_CHURN_INTERVAL_FACTOR = 1.5
# Customer lifetime value: expected lifespan in years and gross margin (1.0 = revenue).
METRICS_CLV_LIFESPAN_YEARS = env.float("METRICS_CLV_LIFESPAN_YEARS", default=3.0)
METRICS_CLV_GROSS_MARGIN = env.float("METRICS_CLV_GROSS_MARGIN", default=1.0)
# --- Metrics: sales KPIs (metrics.kpis.sales) -----------------------------------------------------
# Retention: a paying customer is active when it won a deal within this many days before period end.
METRICS_RETENTION_WINDOW_DAYS = env.int("METRICS_RETENTION_WINDOW_DAYS", default=365)
# Customer acquisition cost: labour cost per active rep and month, and other cost per month,
# added to campaign spend (company scope).
METRICS_CAC_LABOUR_COST_PER_REP_MONTH = env.float("METRICS_CAC_LABOUR_COST_PER_REP_MONTH", default=0.0)
METRICS_CAC_OTHER_COST_PER_MONTH = env.float("METRICS_CAC_OTHER_COST_PER_MONTH", default=0.0)
# Seconds a closed period's dashboard figures stay cached (metrics/figures_cache.py); each
# nightly roll-up starts fresh ones anyway.
METRICS_CACHE_SECONDS = env.int("METRICS_CACHE_SECONDS", default=6 * 3600)

# The cache: Redis when REDIS_URL is set (shared by every web process), else in-process memory.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "crm"}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# Sessions: with Redis, read from the cache and written through to the database (a restart of
# Redis signs nobody out, and no web process reads the session table on every request); without
# it, the database as before.
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db" if REDIS_URL else "django.contrib.sessions.backends.db"
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
}
