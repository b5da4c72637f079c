"""The one equation registry: every entry well formed, names unique, and every page's names resolve."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from stylelab import equations
from stylelab.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def _balanced(latex: str) -> bool:
    """Braces balance (ignoring escaped ones) and \\left / \\right pair up: what KaTeX needs at least."""
    depth = 0
    for i, ch in enumerate(latex):
        if i and latex[i - 1] == "\\":
            continue
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    pairs = [len(re.findall(rf"\\{word}(?![a-zA-Z])", latex)) for word in ("left", "right")]
    return depth == 0 and pairs[0] == pairs[1]


def test_every_entry_is_well_formed():
    reg = equations.registry()
    assert len(reg) >= 40
    for name, eq in reg.items():
        assert eq.name == name and re.fullmatch(r"[a-z]+(\.[a-z0-9_+\-]+)+", name), name
        assert eq.label and eq.latex.strip(), name
        assert _balanced(eq.latex), f"{name}: unbalanced braces in {eq.latex!r}"
        assert eq.group in equations.GROUPS and eq.direction in equations.DIRECTIONS, name
        assert eq.fn is None or callable(eq.fn), name
        if eq.range is not None:
            lo, hi = eq.range
            assert lo < hi, name


def test_the_balance_check_catches_a_broken_formula():
    assert _balanced(r"\frac{a}{b}") and _balanced(r"\{x\}")
    assert not _balanced(r"\frac{a}{b") and not _balanced(r"x}{")
    assert _balanced(r"x \leftarrow \left( y \right)") and not _balanced(r"\left( y")


def test_measures_shared_by_two_labs_are_one_entry_with_one_range():
    from stylelab.aesthetics.scorecard import MEASURES, SHARED_WITH_LOSSES
    from stylelab.losses.registry import REGISTRY

    for measure, loss in SHARED_WITH_LOSSES.items():
        m, spec, eq = MEASURES[measure], REGISTRY[loss], equations.get(f"loss.{loss}")
        assert m.latex == spec.latex == eq.latex, measure
        assert m.range == spec.range == eq.range, measure
        assert m.equation_name == eq.name
        assert f"aesthetics.{measure}" not in equations.registry()  # never described twice
    assert equations.get("loss.rms_contrast").range == (0.0, 0.35)
    assert equations.get("loss.colorfulness").group == "measure"


def test_labs_objectives_are_registered():
    from stylelab.aesthetics.adjustment import TERM_NAMES

    for name in ("loss.mixing_objective", "loss.tv_per_pixel", "loss.mixing_update", "aesthetics.adjust_objective",
                 "aesthetics.apply_tone", *(f"aesthetics.term.{t}" for t in TERM_NAMES)):
        assert equations.get(name).latex
    assert [e.name for e in equations.by_group("objective", lab="aesthetics")] == ["aesthetics.adjust_objective"]


def test_an_unknown_name_is_a_typed_error_with_close_names():
    with pytest.raises(ConfigError, match="loss.tv_l2"):
        equations.get("loss.tv_l3")


_CALL = re.compile(r"""(?:equations\.|\b)(?:latex|get)\(\s*["']([a-z]+\.[\w.\-]+)["']""")


def test_every_name_a_page_or_ui_module_asks_for_exists():
    sources = sorted(ROOT.glob("pages/*.py")) + sorted((ROOT / "stylelab" / "ui").glob("*.py"))
    asked = {(p.name, m) for p in sources for m in _CALL.findall(p.read_text(encoding="utf-8"))}
    reg = equations.registry()
    missing = sorted((page, name) for page, name in asked if name not in reg)
    assert not missing, f"pages ask for equations that do not exist: {missing}"
