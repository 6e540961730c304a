"""The roles of the person making a request, asked once per object and request.

A role is a guardian object permission on the organisation or on a working group. guardian's
own check (``user.has_perm(perm, obj)``) builds a new checker each time and costs two queries
(the person's permissions, then those of their groups); a page, its navigation and its selectors
ask several times. ``has_role`` answers the same question with one query per object, kept on the
request for the rest of it.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from django.http import HttpRequest
from guardian.utils import get_group_obj_perms_model, get_user_obj_perms_model


def _codenames(user: Any, obj: Model) -> frozenset[str]:
    """The permissions ``user`` holds on ``obj``, directly or through their groups (one query)."""
    direct = get_user_obj_perms_model(obj).objects.filter(  # type: ignore[attr-defined]
        user=user, content_object=obj
    )
    through_groups = get_group_obj_perms_model(obj).objects.filter(  # type: ignore[attr-defined]
        group__user=user, content_object=obj
    )
    union = direct.values_list("permission__codename", flat=True).union(
        through_groups.values_list("permission__codename", flat=True)
    )
    return frozenset(union)


def has_role(request: HttpRequest, codename: str, obj: Model) -> bool:
    """Whether the signed-in person holds ``codename`` on ``obj``: guardian's answer (an inactive
    account holds nothing, an active superuser everything), one query per object and request."""
    user = request.user
    if not user.is_active:
        return False
    if user.is_superuser:
        return True
    memo: dict[tuple[Any, str, Any], frozenset[str]] = request.__dict__.setdefault("_roles", {})
    key = (user.pk, obj._meta.label, obj.pk)  # signing in changes the person mid-request
    if key not in memo:
        memo[key] = _codenames(user, obj)
    return codename in memo[key]
