"""Platform-wide rows that belong to no tenant."""

from django.db import models


class JobHeartbeat(models.Model):
    """When a scheduled job last ran: /healthz shows whether beat and a worker are alive."""

    name = models.CharField(max_length=100, unique=True)
    last_run_at = models.DateTimeField()
    runs = models.PositiveBigIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = "job heartbeat"

    def __str__(self) -> str:
        return f"{self.name} at {self.last_run_at:%Y-%m-%d %H:%M:%S}"
