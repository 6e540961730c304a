"""The Celery application: worker and beat are started with ``celery -A asi_wg``."""

import os

from celery import Celery
from kombu.transport import TRANSPORT_ALIASES

# filesystem:// (the embedded default's broker) is kombu's transport writing each message whole
# before a worker can take it (asi_wg/broker.py), in every process that queues or runs jobs.
TRANSPORT_ALIASES["filesystem"] = "asi_wg.broker:Transport"

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "asi_wg.settings")

app = Celery("asi_wg")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
