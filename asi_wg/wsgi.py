"""WSGI entry point: ``gunicorn asi_wg.wsgi``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "asi_wg.settings")

application = get_wsgi_application()
