"""Notebook 00 answers every wrong formula of the source audit: one section per item, each with the
formula as it circulates, what is wrong, the correct form and a code cell with saved outputs.

The list of wrong items is read from the audit (``../shared/sources/FORMULAS.md``, its "19 items are
wrong" line) when it is checked out next to the repository, else from ``WRONG_ITEMS`` below; when both
are there they must agree. These tests read the committed notebook (no kernel): that it still runs is
``tests/test_notebooks.py``'s job.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "00_common_mistakes.ipynb"
FORMULAS = ROOT.parent / "shared" / "sources" / "FORMULAS.md"
WRONG_ITEMS = ("1", "3", "4", "5", "7", "14", "17", "18", "19", "20", "22", "23",
               "C1", "C2", "C3", "C4", "C5", "C6", "C8")
WRONG_LINE = re.compile(r"\*\*(\d+) items are wrong or partly wrong\*\*\s*\(([^)]*)\)")
SECTION = re.compile(r'<a id="item-([0-9a-z]+)"></a>\s*\n+\s*##\s+Item\s+(\S+)\s+·', re.I)


def wrong_items() -> list[str]:
    if FORMULAS.is_file():
        m = WRONG_LINE.search(FORMULAS.read_text(encoding="utf-8"))
        assert m, f"{FORMULAS} has no '**N items are wrong or partly wrong** (...)' line"
        ids = [s.strip() for s in m.group(2).split(",")]
        assert len(ids) == int(m.group(1)), f"the audit says {m.group(1)} items but lists {len(ids)}"
        return ids
    return list(WRONG_ITEMS)


def load() -> list[dict]:
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    for c in cells:
        c["text"] = "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
    return cells


def sections(cells: list[dict]) -> dict[str, list[dict]]:
    """``{item id: the cells from its heading up to the next level-2 heading}``."""
    out: dict[str, list[dict]] = {}
    current: str | None = None
    for c in cells:
        if c["cell_type"] == "markdown" and re.search(r"^##\s", c["text"], re.M):
            m = SECTION.search(c["text"])
            current = None
            if m:
                anchor, title_id = m.group(1), m.group(2)
                assert anchor == title_id.lower(), f"anchor item-{anchor} under the heading of item {title_id}"
                assert title_id not in out, f"item {title_id} has two sections"
                current = title_id
                out[current] = []
        if current is not None:
            out[current].append(c)
    return out


def test_the_fallback_list_matches_the_audit():
    if not FORMULAS.is_file():
        pytest.skip("the shared sources are not checked out next to the repository")
    assert wrong_items() == list(WRONG_ITEMS)


def test_every_wrong_item_has_its_own_section():
    found = sections(load())
    ids = wrong_items()
    assert len(ids) == 19
    assert sorted(found) == sorted(ids), f"missing {sorted(set(ids) - set(found))}, extra {sorted(set(found) - set(ids))}"


@pytest.mark.parametrize("item", wrong_items())
def test_each_section_explains_and_runs_its_example(item: str):
    cells = sections(load()).get(item)
    assert cells, f"no section for item {item}"
    prose = "\n".join(c["text"] for c in cells if c["cell_type"] == "markdown")
    for part in ("As it circulates", "What is wrong", "Correct"):
        assert part in prose, f"item {item}: no '{part}' paragraph"
    assert "$" in prose or "`" in prose, f"item {item}: the formula is not written out"
    code = [c for c in cells if c["cell_type"] == "code"]
    assert code, f"item {item}: no code cell"
    for c in code:
        assert c.get("execution_count") is not None and c.get("outputs"), f"item {item}: a code cell without saved outputs"
        assert not [o for o in c["outputs"] if o.get("output_type") == "error"], f"item {item}: a saved error"
    assert any("assert " in c["text"] for c in code), f"item {item}: the example checks nothing"
    assert any("stylelab" in c["text"] or re.search(r"\b(L|vgg|to_unit|train_d|DCGenerator)\b[.(]", c["text"]) for c in code), \
        f"item {item}: the example does not use stylelab"


def test_the_table_links_every_section():
    cells = load()
    table = next(c["text"] for c in cells[:4] if c["cell_type"] == "markdown" and "| item |" in c["text"])
    linked = re.findall(r"\]\(#item-([0-9a-z]+)\)", table)
    assert sorted(linked) == sorted(i.lower() for i in wrong_items())


def test_objectives_exercises_with_folded_solutions_and_summary():
    cells = load()
    assert "learning objectives" in cells[0]["text"].lower()
    exercises = [c for c in cells if c["cell_type"] == "markdown" and re.search(r"^###\s*Exercise\s+\d", c["text"], re.M)]
    solutions = [c for c in cells if c["cell_type"] == "code" and "solution" in c["metadata"].get("tags", [])]
    assert len(exercises) >= 3 and len(solutions) >= len(exercises)
    assert all(c["metadata"].get("jupyter", {}).get("source_hidden") is True for c in solutions)
    assert all(c.get("outputs") for c in solutions), "solutions run too"
    assert any(re.search(r"^##\s*Summary\b", c["text"], re.M) for c in cells if c["cell_type"] == "markdown")


def test_names_the_mistake_not_the_article():
    text = NOTEBOOK.read_text(encoding="utf-8")
    sources = "".join(c["text"] for c in load())
    assert not re.search(r"\b00[0-4]:\d+", sources), "an article:line reference"
    assert not re.search(r"00[0-4]_[0-9a-f]{16}", text), "a source article's file name"


def test_no_global_rng_and_small():
    code = "\n".join(c["text"] for c in load() if c["cell_type"] == "code")
    assert not re.search(r"torch\.manual_seed|np\.random\.seed|random\.seed\(|torch\.cuda\.manual_seed", code)
    assert NOTEBOOK.stat().st_size < 1_500_000
