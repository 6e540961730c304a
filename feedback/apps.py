from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = "Feedback"
    default_auto_field = "django.db.models.BigAutoField"
    demo_loader = "feedback.demo.load"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from feedback import notifications, personal_data  # noqa: F401  (the app's declarations)
        from feedback.participant_selectors import forget_seated, group_page_open_round
        from groups.page import group_page_contribute
        from membership.models import Seat

        notifications.register()
        group_page_contribute(group_page_open_round)
        post_save.connect(forget_seated, sender=Seat, dispatch_uid="feedback-forget-seated")
        post_delete.connect(forget_seated, sender=Seat, dispatch_uid="feedback-forget-seated-del")
