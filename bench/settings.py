"""Settings for the list benchmark: production-like (DEBUG off), served in-process.

Differences from a production deployment, each without effect on the timed code: the test
client's host name is allowed, static files need no ``collectstatic`` manifest (templates
only build URLs to them), and cookies are not marked secure (the client speaks plain HTTP).
"""

import os

os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-not-secret")
os.environ.setdefault("DJANGO_SECURE_COOKIES", "0")
os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")

from crm_site.settings import *  # noqa: F403

ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
