"""Test settings: only speed and isolation differ from production.

The database is PostgreSQL from ``DATABASE_URL`` (the test command sets it); the
constraints, row counts and locks under test are PostgreSQL's.
"""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/crm")

from crm_site.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
# A second alias on the same server, as a read replica would be (crm_site/db_routers.py): a test
# mirror of ``default``, so it reads the test database. Routing to it stays off
# (READ_REPLICA_ALIAS None) except in the tests that switch it on (tests/test_db_routers.py):
# a replica connection does not see the rows of a test's open transaction.
DATABASES["replica"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}  # noqa: F405
READ_REPLICA_ALIAS = None
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
LANGUAGE_CODE = "en"
# Nothing kept between requests: tests build different histories for the same periods.
# tests/metrics/test_figures_cache.py switches a real cache on for itself.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
# The suite makes many requests a minute from one address and user: rates no test reaches
# (DummyCache counts nothing anyway). tests/test_sign_in_security.py lowers them for itself.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {"anon": "100000/min", "user": "100000/min"},
}
