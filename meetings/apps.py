from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "meetings"
    verbose_name = "Meetings"
    default_auto_field = "django.db.models.BigAutoField"
    demo_loader = "meetings.demo.load"

    def ready(self) -> None:
        from meetings import notifications, personal_data  # noqa: F401  (the app's declarations)

        notifications.register()
