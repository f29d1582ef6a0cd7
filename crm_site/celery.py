"""The Celery application.

Configuration comes from Django settings (``CELERY_*``), so the embedded default
(filesystem broker) and production (Redis) differ only in environment variables.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_site.settings")

app = Celery("crm_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
