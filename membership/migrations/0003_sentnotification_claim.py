"""A notification's row becomes a claim committed before sending, then marked sent.

Rows from before this migration were written in the same transaction as their e-mail, so they
are all sent: they get ``state='sent'`` and keep their ``sent_at``; only new rows start as claims.
"""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("membership", "0002_antitrustpolicy_antitrustacknowledgement_application_and_more"),
    ]

    operations = [
        migrations.AddField(
            model_name="sentnotification",
            name="state",
            field=models.CharField(
                choices=[("sending", "sending"), ("sent", "sent")], default="sent", max_length=10
            ),
        ),
        migrations.AlterField(
            model_name="sentnotification",
            name="state",
            field=models.CharField(
                choices=[("sending", "sending"), ("sent", "sent")],
                default="sending",
                max_length=10,
            ),
        ),
        migrations.AddField(
            model_name="sentnotification",
            name="claimed_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AlterField(
            model_name="sentnotification",
            name="sent_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterModelOptions(
            name="sentnotification",
            options={"ordering": ("-claimed_at",), "verbose_name": "sent notification"},
        ),
        migrations.AddConstraint(
            model_name="sentnotification",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("sent_at__isnull", True), ("state", "sending")),
                    models.Q(("sent_at__isnull", False), ("state", "sent")),
                    _connector="OR",
                ),
                name="sentnotification_sent_at_iff_sent",
            ),
        ),
    ]
