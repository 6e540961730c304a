"""django-import-export resources for the feedback models, bound to one organisation (the
machinery of ``groups.resources.TenantResource``: scoped lookups, ``full_clean`` on each row,
and all or nothing through the tenant admin)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from import_export import fields, widgets

from feedback.models import Criterion, DraftDocument, Framework
from groups.models import WorkingGroup
from groups.resources import TenantResource


class GroupSlugsWidget(widgets.ManyToManyWidget):
    """Groups named by their slugs, separated by ";". An unknown slug (or another tenant's) is
    an error on the row, not silently dropped as the stock widget does."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(WorkingGroup, separator=";", field="slug", **kwargs)

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        slugs = [s.strip() for s in str(value or "").split(self.separator) if s.strip()]
        found = WorkingGroup.objects.filter(slug__in=slugs)
        missing = sorted(set(slugs) - {group.slug for group in found})
        if missing:
            raise ValueError(_("No such group: %(slugs)s.") % {"slugs": ", ".join(missing)})
        return found


class FrameworkResource(TenantResource):
    class Meta:
        model = Framework
        fields = ("name", "position")
        import_id_fields = ("name",)
        clean_model_instances = True
        skip_unchanged = True


class CriterionResource(TenantResource):
    """Criteria by document version label and reference; the groups responsible by slug."""

    document = fields.Field(
        attribute="document",
        column_name="document",
        widget=widgets.ForeignKeyWidget(DraftDocument, field="version_label"),
    )
    groups = fields.Field(attribute="groups", column_name="groups", widget=GroupSlugsWidget())

    def import_instance(self, instance: Any, row: Any, **kwargs: Any) -> None:
        if isinstance(row.get("reference"), float):
            # A spreadsheet that stored "5.10" as a number holds 5.1: which one was meant is lost.
            raise ValidationError(
                {"reference": _("Format the reference column as text (5.10 is not 5.1).")}
            )
        super().import_instance(instance, row, **kwargs)
        if instance.document_id is None:
            raise ValidationError({"document": _("Name the draft document by its version.")})
        # An empty XLSX cell arrives as None (a CSV one as ""): text columns are never null.
        for name in ("reference", "title", "text", "guidance"):
            value = getattr(instance, name)
            setattr(instance, name, "" if value is None else str(value).strip())

    def get_queryset(self) -> Any:
        return Criterion.objects.select_related("document").order_by("document", "sort_key")

    class Meta:
        model = Criterion
        # Never the id: a criterion is matched within the tenant by document and reference.
        fields = ("document", "reference", "title", "text", "guidance", "groups")
        import_id_fields = ("document", "reference")
        clean_model_instances = True
        skip_unchanged = True
