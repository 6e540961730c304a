"""The sign-in backends, reading the account of a session with a query compiled once.

Every signed-in request reads its account (``django.contrib.auth.get_user``). The backends'
``get_user`` builds that query afresh each time, which costs more than running it: a tenth of
an autosave's work. These are Django's and allauth's backends with that one read compiled
(``asi_wg.compiled``); signing in, permissions and the session's checks are theirs unchanged.
"""

from __future__ import annotations

from typing import Any

from allauth.account.auth_backends import AuthenticationBackend as AllauthBackend
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend

from asi_wg.compiled import Compiled
from asi_wg.models import User

_ACCOUNT = Compiled(User, lambda user_id: User.objects.filter(pk=user_id).order_by(), "user_id")


class _CompiledGetUser:
    def get_user(self, user_id: Any) -> User | None:
        try:
            pk = int(user_id)
        except (TypeError, ValueError):
            return None
        found = _ACCOUNT.rows(user_id=pk)
        if not found or not self.user_can_authenticate(found[0]):  # type: ignore[attr-defined]
            return None
        return found[0]


class ModelBackend(_CompiledGetUser, DjangoModelBackend):
    """Django's ``ModelBackend``."""


class AuthenticationBackend(_CompiledGetUser, AllauthBackend):
    """allauth's ``AuthenticationBackend``."""
