"""The Celery application: worker and beat are started with ``celery -A asi_wg``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "asi_wg.settings")

app = Celery("asi_wg")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
