from typing import Any

from django.apps import AppConfig


class MembershipConfig(AppConfig):
    name = "membership"
    verbose_name = "Membership"
    default_auto_field = "django.db.models.BigAutoField"
    demo_loader = "membership.demo.load"

    def ready(self) -> None:
        from groups.page import group_page_contribute
        from groups.services import group_archive_check_register
        from membership import personal_data  # noqa: F401  (the platform's declarations)
        from membership.selectors import group_page_participation
        from membership.services import group_archive_refusal

        group_page_contribute(group_page_participation)
        _public_data()
        group_archive_check_register(group_archive_refusal)


def _seated_organisations(user: Any) -> list[int]:
    from django_scopes import scopes_disabled

    from membership.models import Seat

    with scopes_disabled():
        return list(
            Seat.objects.filter(holder=user, ended_at__isnull=True)
            .values_list("group__organisation_id", flat=True)
            .distinct()
        )


def _only_signed_in(user: Any, signal: dict[str, Any]) -> bool:
    return set(signal.get("update_fields") or ()) == {"last_login"}


def _public_data() -> None:
    """Who takes part in a group is on its public page: seats, the profiles and Members they
    name, and the names of people who consented to be named."""
    from asi_wg.caching import public_data
    from asi_wg.models import User
    from membership.models import Member, ParticipantProfile, Seat

    public_data(Seat, ParticipantProfile, Member)
    public_data(User, organisations=_seated_organisations, skip=_only_signed_in)
