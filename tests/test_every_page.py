"""Checks over every page script: no bare expressions (Streamlit magic is off), no widget whose value is set twice."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]

#: widget -> how many positional arguments come before its value (label, options / min, max ...).
VALUE_POSITION = {"slider": 3, "number_input": 3, "select_slider": 2, "selectbox": 2, "radio": 2, "multiselect": 2,
                  "checkbox": 1, "toggle": 1, "segmented_control": 2, "pills": 2, "text_input": 1}
VALUE_KEYWORDS = {"value", "index", "default"}


def _docstring_nodes(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                out.add(id(first))
    return out


def test_magic_is_off():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["magicEnabled"] is False


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_no_bare_expressions(script):
    """A bare ``trainer.evaluator`` once printed an ImageEvaluator (docstring, tensors) on the GAN Lab."""
    tree = ast.parse(script.read_text())
    docs = _docstring_nodes(tree)
    bare = [f"{script.name}:{n.lineno}: {ast.unparse(n)[:60]}" for n in ast.walk(tree)
            if isinstance(n, ast.Expr) and id(n) not in docs and not isinstance(n.value, (ast.Call, ast.Await, ast.Yield))]
    assert not bare, bare


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_kept_widgets_take_no_second_default(script):
    """A widget seeded through session state (``key=keep(...)``) must not also pass ``value=``/``index=``."""
    tree = ast.parse(script.read_text())
    bad = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in VALUE_POSITION):
            continue
        key = next((k.value for k in node.keywords if k.arg == "key"), None)
        if not (isinstance(key, ast.Call) and getattr(key.func, "id", None) == "keep"):
            continue
        if {k.arg for k in node.keywords} & VALUE_KEYWORDS or len(node.args) > VALUE_POSITION[node.func.attr]:
            bad.append(f"{script.name}:{node.lineno}: {ast.unparse(node)[:80]}")
    assert not bad, bad


def test_switching_the_gan_world_sets_no_widget_twice(monkeypatch):
    """The GAN Lab puts the new world's learning rates on the sliders: Streamlit must not warn about it."""
    from types import SimpleNamespace

    from streamlit.elements.lib import policies
    from streamlit.testing.v1 import AppTest

    warnings: list[str] = []
    monkeypatch.setattr(policies, "runtime", SimpleNamespace(exists=lambda: True))  # AppTest has no runtime
    monkeypatch.setattr(policies, "_shown_default_value_warning", False)
    monkeypatch.setattr(policies._LOGGER, "warning", lambda msg, *args, **kw: warnings.append(msg % args))
    at = AppTest.from_file(str(ROOT / "pages" / "3_GAN_Lab.py"), default_timeout=180).run()
    at.radio(key="gan_kind").set_value("Images").run()
    assert not at.exception, at.exception
    assert at.select_slider(key="gan_lr_g").value == 2e-4  # the world's own default reached the slider
    assert not warnings, warnings
