from django.apps import AppConfig


class PlatformConfig(AppConfig):
    name = "asi_wg"
    verbose_name = "Platform"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from asi_wg import caching, pagecache

        caching.connect_signals()
        pagecache.connect_signals()
