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


# ----------------------------------------------------------------------------- pages are layout only (issue 14)
PAGES = sorted((ROOT / "pages").glob("*.py"))
#: "at most ~300 lines" (the issue's budget)
MAX_PAGE_LINES = 300


def _calls(tree: ast.AST) -> list[tuple[str, ast.Call]]:
    """Every call in a page as (dotted name, node): ``torch.save``, ``st.latex``, ``ExperimentRecord``..."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            try:
                out.append((ast.unparse(node.func), node))
            except Exception:  # pragma: no cover - unparse handles every expression
                continue
    return out


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_page_is_layout_only(page):
    """No page saves tensors, hand-builds records, holds LaTeX, or writes its own run loop (the library does)."""
    text = page.read_text()
    tree = ast.parse(text)
    bad = []
    for name, node in _calls(tree):
        where = f"{page.name}:{node.lineno}: {ast.unparse(node)[:70]}"
        if name in ("torch.save", "save"):
            bad.append(f"{where}  (use run.to_bytes() / stylelab.checkpoint)")
        elif name.split(".")[-1] == "ExperimentRecord":
            bad.append(f"{where}  (use run.record())")
        elif (name in ("st.latex", "latex", "ui.equation", "equation") and node.args
              and isinstance(node.args[0], (ast.Constant, ast.JoinedStr))):
            bad.append(f"{where}  (LaTeX comes from stylelab.equations)")
        elif name in ("st.fragment", "fragment"):
            bad.append(f"{where}  (stylelab.ui.live.live_run owns the fragment)")
    for node in ast.walk(tree):
        if isinstance(node, ast.While) and "perf_counter" in ast.unparse(node.test):
            bad.append(f"{page.name}:{node.lineno}: while ... perf_counter  (use stylelab.run.advance / live_run)")
        if isinstance(node, (ast.FunctionDef, ast.Attribute)) and getattr(node, "attr", None) == "fragment":
            bad.append(f"{page.name}:{node.lineno}: @st.fragment  (stylelab.ui.live.live_run owns the fragment)")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_page_fits_its_budget(page):
    lines = len(page.read_text().splitlines())
    assert lines <= MAX_PAGE_LINES, f"{page.name} has {lines} lines (budget ~300): move logic into the lab"
