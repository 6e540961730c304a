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
        group_archive_check_register(group_archive_refusal)
