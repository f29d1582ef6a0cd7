.PHONY: help demo test fmt lint migrate worker beat bench messages backup restore

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

demo:  ## set up and start the site with demo data (SQLite, no services needed)
	bash scripts/demo.sh

test:  ## install what tests need and run lint plus the whole suite (PostgreSQL, Redis, Chromium)
	bash scripts/test.sh

fmt:  ## format and fix lint
	.venv/bin/ruff format . && .venv/bin/ruff check --fix .

lint:  ## ruff, format check, migrations check, mypy
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/python manage.py makemigrations --check --dry-run && .venv/bin/mypy .

migrate:  ## apply migrations
	.venv/bin/python manage.py migrate

# Every queue by default; `make worker QUEUES=imports` runs a worker for one group (docs/DEPLOY.md).
QUEUES ?= default,imports,recycle,metrics

worker:  ## run a Celery worker (QUEUES=default,imports,recycle,metrics)
	.venv/bin/celery -A crm_site worker -Q $(QUEUES) --loglevel=info

beat:  ## run Celery beat with the database scheduler (a second one waits: crm_site/beat.py)
	.venv/bin/celery -A crm_site beat --loglevel=info

# Not scanned for strings (tests/test_translations.py ignores the same); compilemessages skips
# them too, so it compiles only locale/ and leaves the installed packages' catalogues alone.
MESSAGES_IGNORE = --ignore=.venv --ignore=node_modules --ignore=bench --ignore=staticfiles \
	--ignore=var --ignore=test-artifacts --ignore=tests '--ignore=*.egg-info'

messages:  ## refresh and compile the zh-hans catalogue (translate the new entries in between, then run it again)
	.venv/bin/python manage.py makemessages -l zh_Hans --no-obsolete $(MESSAGES_IGNORE) && .venv/bin/python manage.py compilemessages -l zh_Hans $(MESSAGES_IGNORE)

bench:  ## benchmarks at 1,000,000 customers on PostgreSQL (see bench/README.md)
	bash bench/run.sh

backup:  ## pg_dump (custom format) + media files + manifest with checksums, into var/backups/<time>/ (or BACKUP_DIR)
	.venv/bin/python -m crm_site.backup create $(if $(BACKUP_DIR),--into $(BACKUP_DIR))

restore:  ## check BACKUP=<folder> against its manifest, restore it into a fresh DATABASE_URL and MEDIA_ROOT
	@test -n "$(BACKUP)" || { echo "usage: make restore BACKUP=var/backups/<time>"; exit 2; }
	.venv/bin/python -m crm_site.backup restore $(BACKUP)
