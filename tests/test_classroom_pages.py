"""AppTests of the classroom in the app: links that carry a set-up, lessons, publish, gallery, teacher.

The gallery lives in a temp SQLite file per test (``STYLELAB_GALLERY_DB``); the teacher's key and
the app's public address come from the environment, as on a classroom server.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
import torch
from pagecheck import assert_clean
from streamlit.testing.v1 import AppTest

from stylelab.classroom import lessons, urlstate
from stylelab.classroom.gallery import Gallery
from stylelab.record import ExperimentRecord

ROOT = Path(__file__).resolve().parents[1]
GALLERY_PAGE = str(ROOT / "pages" / "6_Class_Gallery.py")
TEACHER_PAGE = str(ROOT / "pages" / "7_Teacher.py")
HOSTILE = "<script>alert(1)</script> **bold** ![x](http://evil.example/x.png)"

#: a page with two Style Studio controls and the classroom bar (the widgets as the lab pages draw them)
STYLE_SCRIPT = """
import streamlit as st
from stylelab.ui import classroom, keep
bar = classroom.classroom_slot("style")
beta = st.slider("log10 beta", 3.0, 8.0, step=0.25, key=keep("style_beta", 6.0))
steps = st.number_input("steps", 4, 400, key=keep("style_steps", 60))
if st.session_state.get("result") is not None:
    classroom.offer("style", st.session_state["result"], st.session_state["record"])
classroom.classroom_bar("style", where=bar)
"""
#: per lab page: controls of its first view set through a link (images by name)
LAB_LINKS = {
    "loss": ("1_Loss_Lab.py", {"loss_size": 160, "loss_layer": "relu4_1", "loss_content": "photo:coffee"}),
    "style": ("2_Style_Studio.py", {"style_size": 128, "style_beta": 7.0, "style_steps": 120, "style_opt": "adam",
                                    "style_content": "photo:coffee"}),
    "gan": ("3_GAN_Lab.py", {"gan_seed": 7, "gan_batch": 128, "gan_d_steps": 3, "gan_loss": "hinge"}),
    "inpaint": ("4_Inpainting_Lab.py", {"inp_size": 96, "inp_dip_iters": 600, "inp_img": "photo:coffee"}),
    "aesthetics": ("5_Aesthetics_Lab.py", {"aes_size": 256, "aes_palette_k": 6, "aes_img": "photo:coffee"}),
}
WIDGETS = ("slider", "select_slider", "selectbox", "radio", "number_input", "multiselect", "checkbox", "toggle",
           "segmented_control")


def _shown(at: AppTest, key: str):
    """The value the widget with session key ``key`` shows (whatever its kind)."""
    for kind in WIDGETS:
        try:
            return getattr(at, kind)(key=key).value
        except KeyError:
            continue
    raise AssertionError(f"no widget with key {key!r} on the page")


@pytest.fixture()
def gallery_db(tmp_path, monkeypatch):
    path = tmp_path / "gallery.sqlite3"
    monkeypatch.setenv("STYLELAB_GALLERY_DB", str(path))
    monkeypatch.delenv("STYLELAB_PUBLIC_URL", raising=False)
    return path


def _picture(seed: int = 0) -> torch.Tensor:
    return torch.rand(3, 40, 56, generator=torch.Generator().manual_seed(seed))


def _gan_record(seed: int = 3) -> ExperimentRecord:
    from stylelab.run import catalog

    run = catalog()["gan-2d"](seed=seed)
    run.step()
    return run.record()


def _query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def _style_app(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_string(STYLE_SCRIPT, default_timeout=60)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at


# ----------------------------------------------------------------------------- links
def test_link_puts_its_setup_on_the_controls_once(gallery_db):
    at = _style_app(urlstate.encode("style", {"style_beta": 7.25, "style_steps": 120})).run()
    assert_clean(at)
    assert at.slider(key="style_beta").value == 7.25
    assert at.number_input(key="style_steps").value == 120
    # the student moves a slider: the link (still in the address bar) does not put it back
    at.slider(key="style_beta").set_value(4.5).run()
    assert at.slider(key="style_beta").value == 4.5
    at.run()
    assert at.slider(key="style_beta").value == 4.5


def test_share_box_link_carries_the_controls_and_no_token(gallery_db, monkeypatch):
    monkeypatch.setenv("STYLELAB_PUBLIC_URL", "http://10.0.0.5:8501")
    token = "A" * 43  # the class server's token shape, under its query key
    from stylelab.ui.session import token_param

    at = _style_app({token_param(): token, **urlstate.encode("style", {"style_steps": 90})}).run()
    assert_clean(at)
    assert at.number_input(key="style_steps").value == 90
    at.slider(key="style_beta").set_value(7.5).run()
    links = [c.value for c in at.code if c.value.startswith("http://10.0.0.5:8501/Style_Studio?")]
    assert links, [c.value for c in at.code]
    link = links[0]
    assert token not in link
    values = urlstate.decode("style", _query_of(link))
    assert values["style_beta"] == 7.5 and values["style_steps"] == 90
    assert len(at.get("imgs")) + len(at.image) >= 1  # the QR code for the projector


@pytest.mark.parametrize("lab", list(LAB_LINKS))
def test_lab_page_shows_a_links_setup(lab, gallery_db):
    """Round trip through the real page: encode -> the address -> the page's widgets show the values."""
    page, values = LAB_LINKS[lab]
    at = AppTest.from_file(str(ROOT / "pages" / page), default_timeout=180)
    for key, text in urlstate.encode(lab, values).items():
        at.query_params[key] = text
    at.run()
    assert_clean(at)
    for key, value in values.items():
        if urlstate.schema(lab).by_name[key].kind == "image":
            group = urlstate.image_group(value)
            assert _shown(at, f"{key}_src") == group
            assert _shown(at, f"{key}_{group}") == value
        else:
            assert _shown(at, key) == value, key
    # and the page's own "Share this set-up" link carries them back
    link = next(c.value for c in at.code if f"/{urlstate.LAB_PAGES[lab]}?" in c.value)
    assert {k: v for k, v in urlstate.decode(lab, _query_of(link)).items() if k in values} == values


@pytest.mark.parametrize("lab", ["style", "gan"])
def test_lab_page_bad_link_shows_an_error_and_works(lab, gallery_db):
    page, _ = LAB_LINKS[lab]
    at = AppTest.from_file(str(ROOT / "pages" / page), default_timeout=180)
    at.query_params["seed"] = "-5"
    at.query_params["nope"] = "1"
    at.run()
    assert not at.exception
    errors = [e.value for e in at.error if "link's set-up" in e.value]
    assert len(errors) == 1 and "seed='-5'" in errors[0] and "unknown key 'nope'" in errors[0]


def test_share_box_names_what_a_link_cannot_carry(gallery_db):
    at = _style_app()
    at.session_state["style_content_src"] = "Upload"  # an uploaded photo
    at.session_state["style_tv"] = 3.0  # beyond the control's range (as a record could set it)
    at.run()
    assert not at.exception
    notes = [c.value for c in at.caption if "cannot carry" in c.value]
    assert notes and "content image" in notes[0] and "λ_TV (is outside [-4, 1])" in notes[0]
    link = next(c.value for c in at.code if "/Style_Studio?" in c.value)
    assert "tv" not in _query_of(link) and "c" not in _query_of(link) and _query_of(link)["b"] == "6.0"


def test_lab_query_drops_streamlit_keys_and_the_session_token():
    from stylelab.ui import classroom
    from stylelab.ui.session import token_param

    token = "b" * 43
    key = token_param()
    assert classroom.lab_query("style", {"embed": "true", key: token, "b": "7.0"}) == {"b": ["7.0"]}
    # the token's key is no control of any lab, so the style image ("s") travels beside it
    assert all(key not in urlstate.schema(lab).by_key for lab in urlstate.labs())
    assert classroom.lab_query("style", {key: token, "s": "painting:spring"}) == {"s": ["painting:spring"]}
    assert classroom.lab_query("gan", {key: token, "seed": ["1", "2"]}) == {"seed": ["1", "2"]}


def test_streamlit_keys_alone_change_nothing(gallery_db):
    at = _style_app({"embed": "true"}).run()
    assert_clean(at)
    assert at.slider(key="style_beta").value == 6.0


def test_bad_link_shows_one_error_listing_every_problem(gallery_db):
    at = _style_app({"b": "99", "zz": "1", "n": "many"}).run()
    assert not at.exception
    assert len(at.error) == 1
    text = at.error[0].value
    assert "b='99'" in text and "outside [3, 8]" in text and "unknown key 'zz'" in text and "n='many'" in text
    assert at.slider(key="style_beta").value == 6.0  # the defaults, nothing clamped
    assert at.number_input(key="style_steps").value == 60


def test_lesson_button_sets_up_the_lesson_and_its_link(gallery_db):
    lesson = lessons.get("style-alpha-beta")
    at = _style_app().run()
    at.button(key=f"style_lesson_{lesson.id}").click().run()
    assert_clean(at)
    values = lesson.values()
    assert at.slider(key="style_beta").value == values["style_beta"]
    assert at.number_input(key="style_steps").value == values["style_steps"]
    assert any(lesson.title in s.value for s in at.success)
    assert {k: at.query_params[k][0] if isinstance(at.query_params[k], list) else at.query_params[k]
            for k in lesson.params} == lesson.params
    # the applied lesson is not applied again over the student's changes
    at.slider(key="style_beta").set_value(3.5).run()
    assert at.slider(key="style_beta").value == 3.5


def test_teacher_suggestion_shows_as_a_banner(gallery_db):
    from stylelab.ui import classroom

    classroom.suggest_lesson("style-total-variation")
    at = _style_app().run()
    assert_clean(at)
    assert any("Your teacher suggests" in i.value and lessons.get("style-total-variation").title in i.value
               for i in at.info)
    at.button(key="style_suggested_open").click().run()
    assert at.slider(key="style_beta").value == lessons.get("style-total-variation").values()["style_beta"]
    classroom.suggest_lesson(None)
    at = _style_app().run()
    assert not any("Your teacher suggests" in i.value for i in at.info)


# ----------------------------------------------------------------------------- publish + gallery
def test_publish_adds_an_entry(gallery_db):
    at = _style_app()
    at.session_state["result"] = _picture()
    at.session_state["record"] = _gan_record()
    at.run()
    at.text_input(key="style_publish_caption").input("my ring").run()
    at.button(key="style_publish_publish").click().run()
    assert_clean(at)
    assert Gallery(gallery_db).count() == 1
    entry = Gallery(gallery_db).list()[0]
    assert entry.caption == "my ring" and entry.lab == "gan"
    assert any(f"#{entry.id}" in t.value for t in at.toast)


def test_publish_error_is_shown_not_raised(gallery_db):
    at = _style_app()
    at.session_state["result"] = torch.full((3, 8, 8), float("nan"))
    at.session_state["record"] = _gan_record()
    at.run()
    at.button(key="style_publish_publish").click().run()
    assert not at.exception
    assert any("Could not publish" in e.value for e in at.error)
    assert Gallery(gallery_db).count() == 0


def test_publish_from_the_gan_lab_adds_an_entry(gallery_db):
    at = AppTest.from_file(str(ROOT / "pages" / "3_GAN_Lab.py"), default_timeout=180).run()
    assert not [b for b in at.button if b.key == "gan_publish_publish"]  # no result yet: nothing to publish
    at.button(key="gan_step").click().run()
    for _ in range(20):  # the step may land on a worker: wait for the paused run's result
        if [b for b in at.button if b.key == "gan_publish_publish"]:
            break
        at.run()
    at.text_input(key="gan_publish_caption").input("one step of the ring").run()
    at.button(key="gan_publish_publish").click().run()
    assert_clean(at)
    entries = Gallery(gallery_db).list()
    assert [(e.lab, e.caption) for e in entries] == [("gan", "one step of the ring")]
    assert entries[0].record.config["data"] == "ring" and entries[0].width > 0


def test_gallery_page_shows_entries_escaped_and_survives_a_restart(gallery_db):
    g = Gallery(gallery_db)
    first = g.publish(_picture(0), _gan_record(), caption=HOSTILE)
    g.close()
    at = AppTest.from_file(GALLERY_PAGE, default_timeout=60).run()
    assert_clean(at)
    shown = [h.proto.body for h in at.get("html")]
    assert not any("<script>" in m for m in shown) and not any(HOSTILE in m.value for m in at.markdown)
    # shown as typed: HTML-escaped, in an HTML paragraph (never read as Markdown: no picture, no link)
    assert any(f">{html.escape(HOSTILE)}</p>" in m for m in shown)
    assert len(at.get("image")) >= 1
    links = [b.proto.url for b in at.get("link_button")]
    assert links and links[0].startswith("http://localhost:8501/GAN_Lab?")
    opened = urlstate.decode("gan", _query_of(links[0]))
    assert opened["gan_seed"] == 3 and opened["gan_data_toy"] == "ring"
    assert [d.proto.label for d in at.get("download_button")] == ["Record (JSON)"]
    # a "restart": a new Gallery on the same file publishes; the page shows both, newest first
    second = Gallery(gallery_db).publish(_picture(1), _gan_record(4), caption="second")
    at.run()
    captions = [c.value for c in at.caption]
    assert any("2 entries" in c for c in captions)
    assert any(">second</p>" in h.proto.body for h in at.get("html"))
    order = [c for c in captions if c.startswith("#")]
    assert order[0].startswith(f"#{second} ") and order[1].startswith(f"#{first} ")


def test_gallery_page_filters_by_lab_and_pages(gallery_db):
    g = Gallery(gallery_db)
    rec = _gan_record()
    for i in range(13):
        g.publish(_picture(i), rec, caption=f"gan {i}")
    at = AppTest.from_file(GALLERY_PAGE, default_timeout=60).run()
    assert any("13 entries · page 1 of 2" in c.value for c in at.caption)
    at.button(key="gal_next").click().run()
    assert_clean(at)
    assert any("page 2 of 2" in c.value for c in at.caption)
    at.segmented_control(key="gal_lab").set_value("style").run()
    assert any("Nothing published yet in the Style Studio" in i.value for i in at.info)


# ----------------------------------------------------------------------------- teacher
def test_teacher_page_is_off_without_its_key(gallery_db, monkeypatch):
    monkeypatch.delenv("STYLELAB_TEACHER_KEY", raising=False)
    at = AppTest.from_file(TEACHER_PAGE, default_timeout=60).run()
    assert not at.exception
    assert any("Teacher page is off" in e.value for e in at.error)
    assert not at.subheader and not at.text_input


def test_teacher_page_refuses_a_wrong_key_and_opens_with_the_right_one(gallery_db, monkeypatch):
    monkeypatch.setenv("STYLELAB_TEACHER_KEY", "correct horse")
    Gallery(gallery_db).publish(_picture(), _gan_record(), caption="to delete")
    at = AppTest.from_file(TEACHER_PAGE, default_timeout=60).run()
    assert not at.exception and not at.subheader  # only the key box
    at.text_input(key="teacher_key_input").input("wrong horse")
    at.button[0].click().run()  # the form's submit button
    assert any("not the teacher key" in e.value for e in at.error)
    assert not at.subheader and not at.dataframe
    at.text_input(key="teacher_key_input").input("correct horse")
    at.button[0].click().run()
    assert_clean(at)
    heads = [s.value for s in at.subheader]
    assert heads == ["The lesson the class should open", "The class server", "The class gallery"]
    assert any(m.label == "Sessions" for m in at.metric)
    assert any(re.match(r"Live pages: \d+ redraw every [\d.]+ s", c.value) for c in at.caption)  # the redraw budget
    # the lesson for the class, stored server-side
    at.selectbox(key="teacher_lesson").set_value("gan-wgan-gp").run()
    at.button(key="teacher_suggest").click().run()
    from stylelab.ui import classroom

    assert classroom.suggested_lesson().id == "gan-wgan-gp"
    # delete a gallery entry
    at.button(key="teacher_delete").click().run()
    assert Gallery(gallery_db).count() == 0
    classroom.suggest_lesson(None)


def test_teacher_cancels_any_run(gallery_db, monkeypatch):
    from stylelab.ui.session import scheduler

    monkeypatch.setenv("STYLELAB_TEACHER_KEY", "k")
    sched = scheduler()
    token = sched.open_session()
    handle = sched.submit(token, "gan-2d", seed=0)
    handle.pause()
    try:
        at = AppTest.from_file(TEACHER_PAGE, default_timeout=60).run()
        at.text_input(key="teacher_key_input").input("k")
        at.button[0].click().run()
        assert_clean(at)
        table = at.dataframe[-1].value
        assert handle.id in list(table["run"]) and token not in at.dataframe[-1].value.to_csv()
        at.selectbox(key="teacher_run").set_value(handle.id)
        at.button(key="teacher_cancel").click().run()
        assert handle.wait(timeout=30) == "cancelled"
    finally:
        sched.close_session(token)


def test_teacher_page_is_in_the_navigation_only_with_its_key(gallery_db, monkeypatch):
    from stylelab.ui import classroom

    monkeypatch.delenv("STYLELAB_TEACHER_KEY", raising=False)
    assert [p for p, _, _ in classroom.classroom_pages()] == ["pages/6_Class_Gallery.py"]
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    with pytest.raises(ValueError):
        at.switch_page("pages/7_Teacher.py")
    at.switch_page("pages/6_Class_Gallery.py")
    monkeypatch.setenv("STYLELAB_TEACHER_KEY", "k")
    assert [p for p, _, _ in classroom.classroom_pages()][-1] == "pages/7_Teacher.py"
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.switch_page("pages/7_Teacher.py").run()
    assert not at.exception and any(t.label == "Teacher key" for t in at.text_input)


def test_teacher_key_compare(monkeypatch):
    from stylelab.ui import classroom

    monkeypatch.setenv("STYLELAB_TEACHER_KEY", "s3cret")
    assert classroom.teacher_key_ok("s3cret") and not classroom.teacher_key_ok("s3cre")
    assert not classroom.teacher_key_ok("") and not classroom.teacher_key_ok(None)  # type: ignore[arg-type]
    monkeypatch.setenv("STYLELAB_TEACHER_KEY", "  ")
    assert not classroom.teacher_key_ok("  ") and not classroom.teacher_key_set()


def test_every_shipped_lesson_and_record_kind_makes_a_link():
    """Every lesson opens its lab; a record of every run kind gives a link its lab's schema reads back."""
    from stylelab.ui import classroom

    for lesson in lessons.lessons():
        assert lesson.values()
    rec = ExperimentRecord(lab="style", config={"kind": "gatys", "size": 128, "steps": 60, "content_weight": 1.0,
                                                "style_weight": 1e7, "tv_weight": 0.01, "optimizer": "adam"}, seed=5)
    values, missing = classroom.record_link_values(rec)
    assert values["style_beta"] == 7.0 and values["style_tv"] == -2.0 and values["style_opt"] == "adam"
    assert values["style_seed"] == 5 and not missing
    rec = ExperimentRecord(lab="style", config={"kind": "gatys", "size": 33, "style_weight": 0.0})
    values, missing = classroom.record_link_values(rec)
    assert "style_size" not in values and "style_beta" not in values  # never clamped: left out, and said so
    assert any("working size" in m for m in missing) and any("log10" in m for m in missing)
    fill = ExperimentRecord(lab="inpaint", config={
        "mask": {"tool": "Rectangle", "size": [96, 96], "x": 10, "y": 12, "w": 30, "h": 20, "feather": 2},
        "methods": ["telea", "ns"], "checkpoint": None, "dip_iterations": 300})
    values, missing = classroom.record_link_values(fill)
    assert values == {"inp_methods": ["telea", "ns"], "inp_dip_iters": 300, "inp_tool": "Rectangle", "inp_feather": 2,
                      "inp_size": 96, "inp_rx": 10, "inp_ry": 12, "inp_rw": 30, "inp_rh": 20} and not missing
    drawn = ExperimentRecord(lab="inpaint", config={"mask": {"tool": "Draw", "size": [128, 96]}, "methods": ["telea"]})
    values, missing = classroom.record_link_values(drawn)
    assert "inp_tool" not in values and any("mask tool" in m for m in missing)  # a drawn hole cannot travel
