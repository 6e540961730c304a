"""Imports run one way: asi_wg, then groups, membership, meetings, feedback (DESIGN.md).

A later app may import an earlier one, never the reverse; an earlier app that must react to a
later one offers a registry (``groups.page``, the ``demo_loader`` of each AppConfig). This test
reads every import statement of the apps, function-local ones included, so a new one that runs
the wrong way fails the build.
"""

from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings

LAYERS = ["asi_wg", "groups", "membership", "meetings", "feedback"]
ROOT = Path(settings.BASE_DIR)


def _imports(path: Path) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def _wrong_way_imports() -> list[str]:
    wrong = []
    for rank, app in enumerate(LAYERS):
        for path in sorted((ROOT / app).rglob("*.py")):
            for line, module in _imports(path):
                target = module.split(".")[0]
                if target in LAYERS and LAYERS.index(target) > rank:
                    wrong.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return wrong


def test_apps_import_only_the_layers_below_them() -> None:
    assert _wrong_way_imports() == []


def test_the_check_sees_a_wrong_way_import(tmp_path: Path) -> None:
    # The walker itself: a function-local upward import is found like a top-level one.
    module = tmp_path / "sample.py"
    module.write_text("def f():\n    from membership.models import Seat\n")
    assert _imports(module) == [(2, "membership.models")]


def test_installed_apps_list_the_layers_in_their_order() -> None:
    ours = [app for app in settings.INSTALLED_APPS if app in LAYERS]
    assert ours == LAYERS
