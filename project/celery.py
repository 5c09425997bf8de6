"""The Celery app: work on stored bytes runs in workers, on as many machines as the broker reaches.

Settings are Django's, under `CELERY_` (project/settings.py). Start a worker with
`celery -A project worker` (`make worker`) and the scheduler with `celery -A project beat`
(`make beat`); `make run` starts both next to Django on an embedded broker.
"""

import os

from celery import Celery
from kombu.transport import TRANSPORT_ALIASES

# The broker `make run` embeds (a SQLite file): `embedded+sqlite:///…` (project/embedded_broker.py).
TRANSPORT_ALIASES.setdefault("embedded", "project.embedded_broker:Transport")

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

app = Celery("project")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["uploads.processing", "uploads.webhooks"])
