from django.apps import AppConfig


class GroupsConfig(AppConfig):
    name = "groups"
    default_auto_field = "django.db.models.BigAutoField"
    demo_loader = "groups.demo.load"

    def ready(self) -> None:
        from asi_wg.caching import public_data
        from groups.models import (
            FocusArea,
            GroupLinkage,
            Phase,
            RevisionObjective,
            Standard,
            WorkingGroup,
        )

        # What the organisation's home and the group pages show to everyone.
        public_data(
            WorkingGroup,
            WorkingGroup.standards.through,
            FocusArea,
            GroupLinkage,
            Phase,
            RevisionObjective,
            Standard,
        )
