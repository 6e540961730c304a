"""The declaration of personal data (``membership.personal_data``) misses nothing: every text
field of every model linked to a person, and every key of every audit entry's data, is declared
personal or not. The export and erasure both walk these declarations."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.db import models

from asi_wg.models import User
from membership import personal_data
from membership.models import Application, Offer, ParticipantProfile, Seat

PERSON_MODELS = (User, ParticipantProfile, Application, Seat, Offer)
APPS = ["asi_wg", "groups", "membership", "meetings", "feedback"]
ROOT = Path(settings.BASE_DIR)


def _linked_to_a_person(model: type[models.Model]) -> bool:
    return model in PERSON_MODELS or any(
        field.is_relation and field.concrete and field.related_model in PERSON_MODELS
        for field in model._meta.fields
    )


def _text_fields(model: type[models.Model]) -> list[str]:
    """Fields that can hold free text: not a choice of codes, not a key."""
    return [
        field.name
        for field in model._meta.concrete_fields
        if isinstance(field, models.CharField | models.TextField | models.JSONField)
        and not field.choices
        and not field.primary_key
    ]


def undeclared_text_fields() -> list[str]:
    missing = []
    for model in apps.get_models():
        if model._meta.proxy or not _linked_to_a_person(model):
            continue
        declaration = personal_data.declaration_for(model)
        declared = (
            set(declaration.fields + declaration.mentions + declaration.not_personal)
            if declaration
            else set()
        )
        missing += [
            f"{model._meta.label}.{name}" for name in _text_fields(model) if name not in declared
        ]
    return sorted(missing)


def test_every_text_field_linked_to_a_person_is_declared() -> None:
    assert undeclared_text_fields() == []


def test_an_undeclared_field_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    register = dict(personal_data._REGISTER)
    del register[Seat._meta.label_lower]
    monkeypatch.setattr(personal_data, "_REGISTER", register)
    assert undeclared_text_fields() == [
        "membership.Seat.end_note",
        "membership.Seat.override_reason",
    ]


def test_declared_fields_exist_and_are_text() -> None:
    for declaration in personal_data.declarations():
        for name in declaration.fields + declaration.mentions + declaration.not_personal:
            assert name in _text_fields(declaration.model), f"{declaration.label}.{name}"


# --- Audit data -------------------------------------------------------------------------------


def _audit_calls(source: str) -> list[tuple[int, str, str]]:
    """(line, action, data key) of every ``audit_record(action=..., data={...})`` call with
    literal keys; an action chosen by a condition counts each of its strings."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name != "audit_record":
            continue
        arguments = {keyword.arg: keyword.value for keyword in node.keywords}
        actions = [
            n.value
            for n in ast.walk(arguments.get("action", ast.Constant(None)))
            if isinstance(n, ast.Constant) and isinstance(n.value, str)
        ]
        data = arguments.get("data")
        keys = [
            k.value
            for k in getattr(data, "keys", [])
            if isinstance(k, ast.Constant) and isinstance(k.value, str)
        ]
        found += [(node.lineno, action, key) for action in actions for key in keys]
    return found


def undeclared_audit_keys() -> list[str]:
    missing = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            for line, action, key in _audit_calls(path.read_text()):
                if key not in personal_data.audit_declared_keys(action):
                    missing.append(f"{path.relative_to(ROOT)}:{line} {action} {key}")
    return missing


def test_every_key_of_audit_data_is_declared() -> None:
    assert undeclared_audit_keys() == []


def test_an_undeclared_audit_key_is_found() -> None:
    source = (
        "audit_record(organisation=o, actor=u, action='a.b' if x else 'a.c',"
        " data={'why': why, 'count': 2})\n"
    )
    assert _audit_calls(source) == [
        (1, "a.b", "why"),
        (1, "a.b", "count"),
        (1, "a.c", "why"),
        (1, "a.c", "count"),
    ]


def test_the_audit_check_reads_the_services() -> None:
    calls = _audit_calls((ROOT / "membership" / "services.py").read_text())
    assert ("application.decline", "reason") in {(action, key) for _, action, key in calls}


# --- Steps that fit on a screen ---------------------------------------------------------------


def test_each_step_of_the_export_and_erasure_fits_on_a_screen() -> None:
    tree = ast.parse((ROOT / "membership" / "privacy.py").read_text())
    lengths = {
        node.name: (node.end_lineno or node.lineno) - node.lineno + 1
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef)
    }
    long = [f"{name}: {lines} lines" for name, lines in lengths.items() if lines > 40]
    assert long == []
