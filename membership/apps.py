from django.apps import AppConfig


class MembershipConfig(AppConfig):
    name = "membership"
    verbose_name = "Membership"
    default_auto_field = "django.db.models.BigAutoField"
    demo_loader = "membership.demo.load"

    def ready(self) -> None:
        from groups.page import group_page_contribute
        from membership import personal_data  # noqa: F401  (the platform's declarations)
        from membership.selectors import group_page_participation

        group_page_contribute(group_page_participation)
