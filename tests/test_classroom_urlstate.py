"""Links that carry a lab's set-up: stylelab.classroom.urlstate (schemas, encode/decode, share_url) and qr."""

from __future__ import annotations

import io
import subprocess
import sys
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import pytest

from stylelab.classroom import urlstate as u
from stylelab.classroom.qr import MAX_URL_CHARS, qr_png
from stylelab.errors import ConfigError, StylelabError

LABS = ("loss", "style", "gan", "inpaint", "aesthetics")


def _random_value(p: u.Param, rng: np.random.Generator):
    """A random allowed value of control ``p`` (floats deliberately off any decimal grid)."""
    options = p.options()
    if p.kind == "list":
        opts = list(options)
        n = int(rng.integers(0, len(opts) + 1))
        return [opts[i] for i in sorted(rng.choice(len(opts), size=n, replace=False))]
    if options is not None:
        return options[int(rng.integers(len(options)))]
    if p.kind == "bool":
        return bool(rng.integers(2))
    if p.kind == "int":
        return int(rng.integers(int(p.lo), int(p.hi) + 1))
    return float(p.lo + (p.hi - p.lo) * rng.random())  # e.g. 0.7310585786300049: repr must round-trip it


def _valid_random(lab: str, rng: np.random.Generator) -> dict:
    sch = u.schema(lab)
    for _ in range(50):  # a cross-field rule (the inpainting rectangle) may refuse a draw: draw again
        values = {p.name: _random_value(p, rng) for p in sch.params}
        if not u._cross_problems(sch, values):
            return values
    raise AssertionError(f"no valid random {lab} set-up in 50 draws")


# ----------------------------------------------------------------------------- schemas
def test_every_lab_has_a_schema_with_unique_short_keys():
    assert u.labs() == LABS
    for lab in LABS:
        sch = u.schema(lab)
        keys = [p.key for p in sch.params]
        assert len(set(keys)) == len(keys) and len({p.name for p in sch.params}) == len(sch.params)
        assert all(1 <= len(k) <= 5 and k.isascii() and k not in u.RESERVED_KEYS | {u.VERSION_KEY} for k in keys)
        assert all(p.kind in u.KINDS for p in sch.params)
        for name, value in sch.defaults().items():  # every default is a value its own control allows
            assert sch.by_name[name].check(value) == value, (lab, name)


def test_a_schema_refuses_duplicate_keys():
    p = u.Param("a", "x", "int", 0, "a", 0, 1)
    with pytest.raises(ValueError, match="twice"):
        u.Schema("t", (p, u.Param("b", "x", "int", 0, "b", 0, 1)))
    with pytest.raises(ValueError, match="reserved"):
        u.Schema("t", (u.Param("a", "v", "int", 0, "a", 0, 1),))


def test_unknown_lab_is_a_typed_error():
    with pytest.raises(u.UrlStateError, match="labs are loss, style"):
        u.decode("painting", {})
    assert issubclass(u.UrlStateError, ConfigError) and issubclass(u.UrlStateError, StylelabError)


def test_schema_lists_agree_with_the_library():
    """The options a library module owns resolve from it; the defaults copied here match it."""
    from stylelab.aesthetics.adjustment import AdjustConfig
    from stylelab.features import VGG16_LAYERS
    from stylelab.gan import compare
    from stylelab.gan.config import LOSS_NAMES, TOY_DATASETS, GANConfig
    from stylelab.losses.distortions import DISTORTIONS
    from stylelab.losses.perceptual import DEFAULT_STYLE_LAYERS
    from stylelab.style.multistyle import NUM_STYLES

    gan = u.schema("gan").defaults()
    cfg = GANConfig()
    assert (gan["gan_data_toy"], gan["gan_loss"], gan["gan_batch"], gan["gan_seed"]) == (cfg.data, cfg.loss, cfg.batch_size, cfg.seed)
    assert (gan["gan_beta1"], gan["gan_beta2"], gan["gan_d_steps"], gan["gan_gp"]) == (cfg.beta1, cfg.beta2, cfg.d_steps, cfg.gp_weight)
    assert (gan["gan_n_points"], gan["gan_hidden"], gan["gan_base"]) == (cfg.n_points, cfg.hidden, cfg.base_channels)
    assert (gan["gan_smooth"], gan["gan_inoise"], gan["gan_idecay"]) == (cfg.label_smoothing, cfg.instance_noise,
                                                                        cfg.instance_noise_decay)
    assert gan["gan_lr_g"] == gan["gan_lr_d"] == cfg.lr_g_value
    assert (gan["gan_cmp_lr_g"], gan["gan_cmp_lr_d"], gan["gan_cmp_d_steps"]) == tuple(
        compare.STALL_SETTINGS[k] for k in ("lr_g", "lr_d", "d_steps"))
    assert gan["gan_cmp_steps"] == compare.DEFAULT_STEPS
    assert u.schema("gan").by_name["gan_loss"].options() == LOSS_NAMES
    assert u.schema("gan").by_name["gan_data_toy"].options() == TOY_DATASETS

    aes = u.schema("aesthetics").defaults()
    a = AdjustConfig()
    assert {t: aes[f"aes_w_{t}"] for t in a.weights} == a.weights and set(u.AES_TERMS) == set(a.weights)
    assert (aes["aes_t_col"], aes["aes_t_con"], aes["aes_t_sat"], aes["aes_t_exp"], aes["aes_adj_steps"]) == (
        a.color_target, a.contrast_target, a.saturation_target, a.exposure_target, a.steps)

    assert set(u.LOSS_LAYERS) <= set(VGG16_LAYERS) and tuple(DEFAULT_STYLE_LAYERS) == u.LOSS_STYLE_LAYERS
    assert u.schema("loss").defaults()["loss_study_names"] == list(DISTORTIONS)
    style = u.schema("style").by_name
    assert style["style_fast_a"].hi == style["style_fast_b"].hi == NUM_STYLES - 1
    for name in ("style_content", "style_style", "style_style2"):
        assert style[name].default in style[name].options()  # the bundled defaults are on this machine


def test_importing_urlstate_loads_no_torch():
    code = "import sys; import stylelab.classroom.urlstate, stylelab.classroom.lessons, stylelab.classroom.qr; " \
           "print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "False"


# ----------------------------------------------------------------------------- round trips
@pytest.mark.parametrize("lab", LABS)
def test_defaults_and_random_setups_round_trip_exactly(lab):
    defaults = u.schema(lab).defaults()
    assert u.decode(lab, u.encode(lab, defaults)) == defaults
    rng = np.random.default_rng(sum(map(ord, lab)))
    for _ in range(20):
        values = _valid_random(lab, rng)
        params = u.encode(lab, values)
        assert params[u.VERSION_KEY] == u.VERSION
        got = u.decode(lab, params)
        assert got == values
        assert all(type(got[k]) is type(v) for k, v in values.items())  # 0.0 stays a float, 3 an int
        assert u._query_bytes(params) <= u.MAX_QUERY_BYTES


def test_floats_travel_as_repr():
    value = 0.1 + 0.2  # 0.30000000000000004: a rounded text would lose it
    params = u.encode("aesthetics", {"aes_t_con": value})
    assert params["tcon"] == "0.30000000000000004"
    assert u.decode("aesthetics", params)["aes_t_con"] == value
    assert u.decode("style", {"b": "7"})["style_beta"] == 7.0  # a hand-typed integer for a float control
    assert u.decode("gan", {"lrg": "2e-4"})["gan_lr_g"] == 2e-4


def test_partial_links_fill_defaults_or_not():
    params = u.encode("style", {"style_beta": 7.0, "style_steps": 120})
    assert set(params) == {"v", "b", "n"}
    full = u.decode("style", params)
    assert full == {**u.schema("style").defaults(), "style_beta": 7.0, "style_steps": 120}
    assert u.decode("style", params, fill_defaults=False) == {"style_beta": 7.0, "style_steps": 120}
    short = u.encode("style", full, omit_defaults=True)
    assert set(short) == {"v", "b", "n"}


def test_tokens_lists_bools_and_images():
    params = u.encode("inpaint", {"inp_tool": "Random strokes", "inp_methods": ["telea", "dip"], "inp_img": "photo:coffee"})
    assert params["tool"] == "strokes" and params["m"] == "telea,dip" and params["img"] == "photo:coffee"
    assert u.decode("inpaint", {"tool": "Random strokes"})["inp_tool"] == "Random strokes"  # the long form reads too
    assert u.decode("inpaint", {"m": ""})["inp_methods"] == []
    assert u.decode("gan", {"cl": "3,5", "cond": "true"}, fill_defaults=False) == {"gan_classes": [3, 5], "gan_conditional": True}
    assert u.encode("style", {"style_param_twin": True})["twin"] == "1"
    assert u.decode("loss", {"dn": "colour shift,blur"})["loss_study_names"] == ["colour shift", "blur"]


def test_gan_defaults_follow_the_world_and_data():
    from stylelab.gan.config import DEFAULT_NOISE

    assert u.decode("gan", {"dt": "gaussian"})["gan_noise"] == DEFAULT_NOISE["gaussian"]
    images = u.decode("gan", {"w": "images"})
    assert images["gan_lr_g"] == images["gan_lr_d"] == 2e-4 and images["gan_n"] == 50 and images["gan_cmp_steps"] == 100
    assert u.decode("gan", {"w": "images", "lrg": "0.001", "sd": "0.3"})["gan_lr_g"] == 1e-3  # what the link says wins
    assert u.decode("gan", {"dt": "gaussian", "sd": "0.3"})["gan_noise"] == 0.3


def test_parse_qs_style_lists_are_read():
    assert u.decode("style", {"b": ["7.5"]}, fill_defaults=False) == {"style_beta": 7.5}


# ----------------------------------------------------------------------------- hostile links
def test_every_problem_is_listed_and_nothing_is_clamped():
    with pytest.raises(u.UrlStateError) as info:
        u.decode("style", {"b": "99", "zz": "1", "n": "abc", "c": "photo:nope", "opt": "sgd", "twin": "maybe"})
    err = info.value
    assert len(err.problems) == 6
    text = str(err)
    for part in ("outside [3, 8]", "unknown key 'zz'", "whole number", "not a bundled picture", "lbfgs, adam", "1 or 0"):
        assert part in text
    assert text.startswith("This link for the Style Studio has 6 problems")


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "1_0", "0x10", "1e999", " 7", "7 ", "", "७", "1,5"])
def test_numbers_must_be_plain_finite_decimals(text):
    with pytest.raises(u.UrlStateError):
        u.decode("style", {"b": text})


@pytest.mark.parametrize("params", [
    {"n": "3"}, {"n": "401"}, {"n": "60.5"}, {"n": "9" * 40}, {"sz": "100"}, {"lv": "4"}, {"b": "8.0001"},
    {"m": "gatys,fast"}, {"seed": "-1"}, {"seed": str(2**31)}, {"s": "../../etc/passwd"}, {"s": "painting:"},
])
def test_out_of_range_and_off_choice_values_are_refused(params):
    with pytest.raises(u.UrlStateError):
        u.decode("style", params)


def test_list_controls_refuse_duplicates_and_strangers():
    for text in ("telea,telea", "telea,magic", "telea,,ns"):
        with pytest.raises(u.UrlStateError):
            u.decode("inpaint", {"m": text})
    with pytest.raises(u.UrlStateError, match="appears more than once"):
        u.decode("style", {"b": ["7", "8"]})
    with pytest.raises(u.UrlStateError, match="must be text"):
        u.decode("style", {"b": 7})
    with pytest.raises(u.UrlStateError, match="mapping"):
        u.decode("style", "b=7")


def test_long_links_and_many_keys_are_refused_before_parsing():
    with pytest.raises(u.UrlStateError, match="at most 2048 bytes"):
        u.decode("style", {"c": "photo:" + "a" * 2100})
    with pytest.raises(u.UrlStateError, match="over 2048 bytes"):
        u.decode("style", {"c": "x" * 10**7})
    with pytest.raises(u.UrlStateError, match="at most 100"):
        u.decode("style", {f"k{i}": "1" for i in range(101)})


def test_versions_and_reserved_keys():
    assert u.decode("style", {"v": "1", "embed": "true", "embed_options": "dark_theme"}) == u.schema("style").defaults()
    with pytest.raises(u.UrlStateError, match="link format '2'"):
        u.decode("style", {"v": "2"})


def test_inpainting_rectangle_must_fit_the_working_size():
    assert u.decode("inpaint", {"sz": "192", "x": "150", "w": "40"})["inp_rx"] == 150
    with pytest.raises(u.UrlStateError, match="does not fit a 64 px picture"):
        u.decode("inpaint", {"sz": "64", "x": "150"})
    with pytest.raises(u.UrlStateError, match="does not fit"):
        u.encode("inpaint", {"inp_size": 64, "inp_rw": 100})


def test_encode_refuses_what_the_page_would_not_allow():
    with pytest.raises(u.UrlStateError) as info:
        u.encode("style", {"style_beta": 99.0, "style_nope": 1, "style_steps": True, "style_alpha": float("nan")})
    assert len(info.value.problems) == 4
    with pytest.raises(u.UrlStateError, match="whole number"):
        u.encode("style", {"style_steps": 60.5})
    assert u.encode("style", {"style_steps": 60.0})["n"] == "60"  # an integral float from a widget is fine


# ----------------------------------------------------------------------------- the link
def test_share_url_round_trips_through_a_real_url():
    values = {"style_beta": 7.25, "style_content": "photo:coffee", "style_method": "gatys"}
    url = u.share_url("http://10.0.0.5:8501/", "style", u.encode("style", values))
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("http", "10.0.0.5:8501", "/Style_Studio")
    assert u.decode("style", dict(parse_qsl(parts.query, keep_blank_values=True)), fill_defaults=False) == values
    assert u.share_url("https://class.example/app", "pages/2_Style_Studio.py", {}) == "https://class.example/app/Style_Studio"
    assert u.share_url("http://h", "GAN_Lab", {"v": "1"}) == "http://h/GAN_Lab?v=1"
    spaced = u.share_url("http://h", "loss", u.encode("loss", {"loss_study_names": ["colour shift"]}))
    assert " " not in spaced and "colour%20shift" in spaced


@pytest.mark.parametrize("base", ["javascript:alert(1)", "10.0.0.5:8501", "http://", "http://h/?x=1", "ftp://h"])
def test_share_url_refuses_a_strange_base(base):
    with pytest.raises(u.UrlStateError):
        u.share_url(base, "style", {})


def test_share_url_refuses_strange_pages_and_long_queries():
    with pytest.raises(u.UrlStateError, match="not a page"):
        u.share_url("http://h", "../admin", {})
    with pytest.raises(u.UrlStateError, match="at most 2048"):
        u.share_url("http://h", "style", {"c": "x" * 2100})


# ----------------------------------------------------------------------------- the page's widgets
def test_widget_state_and_values_from_state_are_inverse():
    values = {"style_beta": 7.0, "style_content": "photo:coffee", "style_style": "painting:composition-viii",
              "style_opt": "adam"}
    state = u.widget_state("style", values)
    assert state["style_content_src"] == "Photos" and state["style_content_Photos"] == "photo:coffee"
    assert state["style_style_src"] == "Paintings" and state["style_beta"] == 7.0
    got, unshareable = u.values_from_state("style", {**state, "unrelated": 1})
    assert got == values and unshareable == []
    got, unshareable = u.values_from_state("style", {"style_content_src": "Upload", "style_seed": 4})
    assert got == {"style_seed": 4} and unshareable == ["content image"]
    got, _ = u.values_from_state("inpaint", {"inp_methods": ("telea", "ns")})
    assert got == {"inp_methods": ["telea", "ns"]}
    with pytest.raises(u.UrlStateError):
        u.widget_state("style", {"nope": 1})


def test_link_from_state_is_the_share_button():
    state = {**u.widget_state("gan", {"gan_loss": "hinge", "gan_seed": 7}), "gan_n": 300}
    url, unshareable = u.link_from_state("gan", state, "http://h:8501")
    assert url == "http://h:8501/GAN_Lab?v=1&seed=7&loss=hinge&tn=300" and unshareable == []
    with pytest.raises(u.UrlStateError, match="gan_seed"):
        u.link_from_state("gan", {"gan_seed": -5}, "http://h:8501")


def test_the_package_exports_the_page_api():
    import stylelab.classroom as c

    assert {"Gallery", "decode", "encode", "link_from_state", "Lesson", "qr_png", "widget_state"} <= set(c.__all__)
    assert callable(c.lessons.lessons)  # the module, not shadowed by a function of the same name


# ----------------------------------------------------------------------------- QR code
def test_qr_png_is_a_scannable_size_png():
    import segno
    from PIL import Image

    url = u.share_url("http://10.0.0.5:8501", "gan", u.encode("gan", u.schema("gan").defaults()))
    png = qr_png(url, scale=4, border=4)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    side = segno.make(url, error="m", boost_error=False, micro=False).symbol_size(scale=4, border=4)
    im = Image.open(io.BytesIO(png))
    assert im.size == side
    px = np.asarray(im.convert("L"))
    assert set(np.unique(px)) == {0, 255} and px[0, 0] == 255  # black on white, with a white quiet zone


@pytest.mark.parametrize("bad", ["", None, 42, "x" * (MAX_URL_CHARS + 1)])
def test_qr_png_refuses_what_it_cannot_encode(bad):
    with pytest.raises(ConfigError):
        qr_png(bad)


def test_qr_png_checks_scale_and_border():
    for kwargs in ({"scale": 0}, {"scale": 2.5}, {"border": -1}, {"scale": True}):
        with pytest.raises(ConfigError):
            qr_png("http://h", **kwargs)
