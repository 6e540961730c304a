from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = "Feedback"
    default_auto_field = "django.db.models.BigAutoField"
    demo_loader = "feedback.demo.load"
    scale_loader = "feedback.demo_scale.load"

    def ready(self) -> None:
        from asi_wg.caching import public_data
        from feedback import notifications, personal_data  # noqa: F401  (the app's declarations)
        from feedback.models import Framework
        from feedback.participant_selectors import group_page_open_round
        from groups.page import group_page_contribute

        notifications.register()
        group_page_contribute(group_page_open_round)
        # The answer form's list of frameworks is cached with the tenant's public data.
        public_data(Framework)
