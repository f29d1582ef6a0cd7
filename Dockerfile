# syntax=docker/dockerfile:1
# The CRM image: one image for web (gunicorn), worker and beat (celery) and the one-shot migrate
# service of docker-compose.yml, which picks the process with its `command`.

# --- front-end packages (package.json / package-lock.json) -------------------------------------
FROM node:20-bookworm-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error

# --- the application ---------------------------------------------------------------------------
FROM python:3.11-slim AS app

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# PostgreSQL's client tools (15, as the server) for `python -m crm_site.backup` in a container of
# this image: pg_dump, pg_restore, psql (docs/DEPLOY.md, "Backups").
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 crm \
    && useradd --system --uid 10001 --gid crm --home-dir /app --shell /usr/sbin/nologin crm

WORKDIR /app

# Dependencies first, from pyproject.toml alone, so that a code change reuses this layer.
COPY pyproject.toml README.md ./
RUN mkdir -p crm_site customers public_pool metrics && pip install .

# Then the project itself, installed editable so that BASE_DIR (templates/, locale/, static/)
# is /app whichever way a process imports it.
COPY . .
RUN pip install --no-deps --force-reinstall -e .

# The front-end packages that STATICFILES_DIRS serves, then every static file collected and
# compressed once, at build time (whitenoise serves them with far-future cache headers).
# The settings need production variables to load; these placeholders exist only for this step.
COPY --from=assets /build/node_modules/ node_modules/
RUN DJANGO_DEBUG=0 \
    DJANGO_SECRET_KEY=collectstatic-build-step-only \
    DATABASE_URL=sqlite:////tmp/collectstatic.sqlite3 \
    REDIS_URL=redis://collectstatic.invalid:6379/0 \
    python manage.py collectstatic --noinput --verbosity 0 \
    && mkdir -p var/media \
    && chown -R crm:crm var

USER crm
EXPOSE 8000
CMD ["gunicorn", "crm_site.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
