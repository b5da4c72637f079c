"""Lesson presets (stylelab/classroom/lessons.json): every one decodes with its lab's schema."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit

import pytest

from stylelab.classroom import lessons as L
from stylelab.classroom import urlstate as u
from stylelab.errors import ConfigError

SHIPPED = L.lessons()


def test_two_or_three_lessons_per_lab():
    for lab in u.labs():
        assert 2 <= len(L.lessons(lab)) <= 3, lab
    assert len({x.id for x in SHIPPED}) == len(SHIPPED)


@pytest.mark.parametrize("lesson", SHIPPED, ids=lambda x: x.id)
def test_every_preset_decodes_and_links(lesson):
    values = lesson.values()  # raises UrlStateError if any param is off the schema
    assert set(values) == set(u.schema(lesson.lab).defaults())
    assert u.decode(lesson.lab, lesson.params, fill_defaults=False)  # the lesson sets something
    assert lesson.params.get(u.VERSION_KEY) == u.VERSION
    url = lesson.url("http://10.0.0.5:8501")
    parts = urlsplit(url)
    assert parts.path == "/" + u.LAB_PAGES[lesson.lab]
    assert u.decode(lesson.lab, dict(parse_qsl(parts.query, keep_blank_values=True))) == values
    # the exact text of the preset is what encode() would write for those values (stable links)
    given = u.decode(lesson.lab, lesson.params, fill_defaults=False)
    assert u.encode(lesson.lab, given) == lesson.params


@pytest.mark.parametrize("lesson", SHIPPED, ids=lambda x: x.id)
def test_every_prompt_asks_for_a_prediction(lesson):
    assert "predict" in lesson.prompt.lower()
    assert 60 <= len(lesson.prompt) <= L.MAX_PROMPT and len(lesson.title) <= L.MAX_TITLE


def test_the_minimax_lesson_is_the_stall_regime():
    from stylelab.gan import compare

    v = L.get("gan-minimax-stall").values()
    assert (v["gan_section"], v["gan_cmp_a"], v["gan_cmp_b"]) == ("compare", "minimax", "ns")
    assert (v["gan_cmp_lr_g"], v["gan_cmp_lr_d"], v["gan_cmp_d_steps"]) == tuple(
        compare.STALL_SETTINGS[k] for k in ("lr_g", "lr_d", "d_steps"))
    wgan = L.get("gan-wgan-gp").values()
    assert wgan["gan_loss"] == "wgan-gp" and wgan["gan_gp"] == 1.0 and wgan["gan_d_steps"] == 5  # 8/8 ring modes by step 2000


def test_get_and_filter_refuse_unknown_names():
    with pytest.raises(ConfigError, match="gan-minimax-stall"):
        L.get("nope")
    with pytest.raises(ConfigError, match="No lab"):
        L.lessons("painting")


def _write(tmp_path, lessons, fmt=L.FORMAT):
    path = tmp_path / "lessons.json"
    path.write_text(json.dumps({"format": fmt, "lessons": lessons}), encoding="utf-8")
    return path


GOOD = {"id": "x-one", "lab": "style", "title": "T", "prompt": "Predict, then press Start.", "params": {"v": "1", "b": "7.0"}}


def test_a_teacher_file_loads(tmp_path):
    (lesson,) = L.load_lessons(_write(tmp_path, [GOOD]))
    assert lesson.values()["style_beta"] == 7.0


@pytest.mark.parametrize("bad", [
    {**GOOD, "lab": "painting"},
    {**GOOD, "id": "Has Spaces"},
    {**GOOD, "title": ""},
    {**GOOD, "prompt": "x" * (L.MAX_PROMPT + 1)},
    {**GOOD, "params": {"b": 7.0}},
    {**GOOD, "extra": 1},
    {k: v for k, v in GOOD.items() if k != "params"},
    "not an object",
])
def test_malformed_lessons_are_refused(tmp_path, bad):
    with pytest.raises(ConfigError):
        L.load_lessons(_write(tmp_path, [bad]))


def test_malformed_files_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="twice"):
        L.load_lessons(_write(tmp_path, [GOOD, GOOD]))
    with pytest.raises(ConfigError, match="format"):
        L.load_lessons(_write(tmp_path, [GOOD], fmt="other/1"))
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid JSON"):
        L.load_lessons(broken)
    with pytest.raises(ConfigError, match="Cannot read"):
        L.load_lessons(tmp_path / "missing.json")


def test_a_preset_off_the_schema_fails_when_decoded(tmp_path):
    (lesson,) = L.load_lessons(_write(tmp_path, [{**GOOD, "params": {"b": "99"}}]))
    with pytest.raises(u.UrlStateError, match="outside"):
        lesson.values()
