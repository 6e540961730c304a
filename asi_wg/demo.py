"""The demo, loaded app by app without the platform importing the apps above it.

Each app that has demo data names its loader in its ``AppConfig`` (``demo_loader``, a dotted
path to ``load(demo: Demo) -> None``); ``load_all`` calls them in ``INSTALLED_APPS`` order, which
is the order of the layers, so each loader finds what the ones below it made.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.utils.module_loading import import_string

from asi_wg.models import Organisation, User

DEMO_PASSWORD = "wg-demo-2025"  # noqa: S105 - published demo password, see README


@functools.cache
def demo_password_hash() -> str:
    """The demo password, hashed once for every demo account: hashing it per account (PBKDF2,
    slow on purpose) took some 0.6 s each, half a minute of ``load_demo``."""
    return make_password(DEMO_PASSWORD)


@dataclass
class Demo:
    """What the loaders made so far: tenants by slug, accounts by a short role name."""

    organisations: dict[str, Organisation] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)


def load_all() -> Demo:
    demo = Demo()
    for config in apps.get_app_configs():
        loader = getattr(config, "demo_loader", None)
        if loader:
            import_string(loader)(demo)
    return demo


def load_scale(count: int) -> list[str]:
    """Add the synthetic tenants ``scale-01`` … of the benchmark up to ``count`` (see
    ``feedback.demo_scale``, named by its AppConfig's ``scale_loader``); return the slugs made."""
    made: list[str] = []
    for config in apps.get_app_configs():
        loader = getattr(config, "scale_loader", None)
        if loader:
            made += import_string(loader)(count)
    return made
