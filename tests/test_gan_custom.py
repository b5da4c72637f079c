"""Your own 2-D distribution: reading a CSV of points (good files and every kind of bad one), points from a
canvas drawing, the mixture they define, and the 2-D GAN run on them (record replay, checkpoints, page)."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from stylelab.errors import CheckpointError, ConfigError, RecordError, StylelabError
from stylelab.gan import custom
from stylelab.gan.custom import CustomGANConfig, CustomPointsGAN, PointsError
from stylelab.gan.train import GANConfig, GANTrainer

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "pages" / "3_GAN_Lab.py")


# ----------------------------------------------------------------------------- good CSVs
def _by_hand(rows: list[tuple[float, float]]) -> np.ndarray:
    """p' = T (p - mean) / max |p - mean| (infinity norm over both axes), T = 3."""
    p = np.asarray(rows, dtype=np.float64)
    c = p - p.mean(axis=0)
    return 3.0 * c / np.abs(c).max()


@pytest.mark.parametrize("text", [
    "x,y\n1,2\n3,5\n-4,0.5\n10,1e1\n",
    "\ufeffx;y\r\n1;2\r\n3;5\r\n-4;0.5\r\n10;1e1\r\n",  # BOM, semicolons, Windows line ends
    "# my points\n1\t2\n\n3\t5\n-4\t.5\n10\t1E+1\n",  # a comment, tabs, a blank line
    "1 2\n3 5\n  -4   0.5\n+10 10.0\n",  # spaces, no header
])
def test_a_good_csv_is_centred_and_scaled_as_documented(text):
    got = custom.parse_points_csv(text.encode("utf-8"))
    assert got.dtype == torch.float32 and got.shape == (4, 2)
    np.testing.assert_allclose(got.numpy(), _by_hand([(1, 2), (3, 5), (-4, 0.5), (10, 10)]), rtol=1e-6, atol=1e-6)
    assert float(got.abs().max()) == pytest.approx(3.0)  # one axis touches the edge of [-3, 3]^2


def test_normalising_keeps_the_shape_and_reports_the_transform():
    raw = custom.read_points_csv(b"0,0\n4,0\n0,2\n")
    norm = custom.normalise_points(raw)
    assert norm.centre == pytest.approx((4 / 3, 2 / 3)) and norm.scale == pytest.approx(3.0 / (8 / 3))
    np.testing.assert_allclose(norm.points.numpy(), ((raw - raw.mean(0)) * norm.scale).numpy(), rtol=1e-6)
    d = norm.points.double()
    assert float((d[1] - d[0]).norm() / (d[2] - d[0]).norm()) == pytest.approx(2.0)  # one scale for both axes


# ----------------------------------------------------------------------------- bad CSVs: a clear, typed message
@pytest.mark.parametrize("data, words", [
    (b"", "empty"),
    (b"  \n\n# only a comment\n", "empty"),
    (b"x\n1\n2\n3\n", "one column"),
    (b"1,2,3\n4,5,6\n7,8,9\n", "3 columns"),
    (b"1,2\n3,nan\n5,6\n", "finite"),
    (b"1,2\n3,inf\n5,6\n", "finite"),
    (b"1,2\n3,-Infinity\n5,6\n", "finite"),
    (b"name,colour\nalice,red\nbob,blue\n", "not a number"),
    (b"1,2\n3,four\n5,6\n", "Line 2"),
    (b"1,2\n3,4\n5,1e300\n", "beyond"),
    (b"1,2\n3,4\n5,-2e6\n", "beyond"),
    (b"1,2\n3,4\n", "at least 3"),
    (b"1,2\n1,2\n1,2\n1,2\n", "same place"),
    ("\n".join(f"{i},{i % 7}" for i in range(custom.MAX_ROWS + 1)).encode(), "at most"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "not a text CSV"),
    (b"1,2\n" * (custom.MAX_BYTES // 4 + 10), "MB"),
])
def test_a_bad_csv_is_a_points_error_that_says_why(data, words):
    with pytest.raises(PointsError, match=words) as info:
        custom.parse_points_csv(data)
    assert isinstance(info.value, StylelabError) and isinstance(info.value, ConfigError)


def test_a_bad_csv_is_never_clamped_or_trimmed():
    ok = "\n".join(f"{i},{i % 7}" for i in range(custom.MAX_ROWS)).encode()
    assert custom.parse_points_csv(ok).shape == (custom.MAX_ROWS, 2)  # the limit itself is fine
    assert custom.parse_points_csv(b"1,2\n3,4\n5,1e6\n").shape == (3, 2)  # a value at the limit is kept
    with pytest.raises(PointsError):
        custom.parse_points_csv(b"1,2\n3,4\n5,1000001\n")
    with pytest.raises(PointsError):
        custom.parse_points_csv("1,2\n3,4".encode("utf-16"))
    with pytest.raises(PointsError):
        custom.parse_points_csv("1,2\n3,4\n5,6")  # text, not bytes


def test_typed_points_follow_the_same_rules():
    assert custom.parse_points_text("0,0\n1,1\n2,0\n").shape == (3, 2)
    with pytest.raises(PointsError, match="Line 2"):
        custom.parse_points_text("0,0\nfoo,3\n2,0\n")


# ----------------------------------------------------------------------------- points drawn on the canvas
def _dot(x: float, y: float, r: float = 3, sw: float = 2) -> dict:
    """A streamlit-drawable-canvas 'point' object as its frontend makes it (origin left/center)."""
    return {"type": "circle", "left": x - (r + sw / 2), "top": y, "radius": r, "strokeWidth": sw,
            "originX": "left", "originY": "center", "scaleX": 1, "scaleY": 1, "angle": 0}


def test_dots_on_the_canvas_map_to_the_plot_square():
    drawing = {"objects": [_dot(0, 0), _dot(160, 160), _dot(320, 80), _dot(240, 320)]}
    got = custom.points_from_canvas(drawing, 320, 320)
    e = custom.CANVAS_EXTENT  # x = E (2u/W - 1), y = E (1 - 2v/H)
    want = [(-e, e), (0, 0), (e, e / 2), (e / 2, -e)]
    np.testing.assert_allclose(got.numpy(), np.array(want), atol=1e-5)


def test_a_stroke_gives_its_vertices_and_moving_it_moves_them():
    path = [["M", 100, 100], ["Q", 110, 100, 120, 110], ["L", 140, 130]]
    stroke = {"type": "path", "path": path, "left": 98.5, "top": 98.5, "width": 40, "height": 30, "strokeWidth": 3,
              "pathOffset": {"x": 120, "y": 115}, "originX": "left", "originY": "top", "scaleX": 1, "scaleY": 1}
    got = custom.points_from_canvas({"objects": [stroke]}, 320, 320)
    want = [[4 * (2 * u / 320 - 1), 4 * (1 - 2 * v / 320)] for u, v in ((100, 100), (120, 110), (140, 130))]
    np.testing.assert_allclose(got.numpy(), np.array(want), atol=1e-5)
    moved = custom.points_from_canvas({"objects": [{**stroke, "left": 98.5 + 32, "top": 98.5 - 16}]}, 320, 320)
    np.testing.assert_allclose((moved - got).numpy(), np.tile([[0.8, 0.4]], (3, 1)), atol=1e-5)  # 32 px = 0.8 units


def test_a_rotated_dot_stays_where_its_centre_is():
    # a dot rotated 90 degrees about its origin (left, center): its centre swings from (x + r + sw/2, y) to below it
    d = {**_dot(100, 100), "angle": 90}
    got = custom.points_from_canvas({"objects": [d, _dot(10, 10), _dot(20, 20)]}, 320, 320)
    u, v = 100 - 4, 100 + 4  # the origin (96, 100) plus the half-width 4 rotated onto the y axis
    np.testing.assert_allclose(got[0].numpy(), [4 * (2 * u / 320 - 1), 4 * (1 - 2 * v / 320)], atol=1e-5)


def test_an_empty_or_tiny_drawing_is_a_clear_message():
    for drawing in (None, {}, {"objects": []}, {"objects": [{"type": "rect", "left": 1, "top": 1}]}):
        with pytest.raises(PointsError, match="no points"):
            custom.points_from_canvas(drawing, 320, 320)
    with pytest.raises(PointsError, match="at least 3"):
        custom.points_from_canvas({"objects": [_dot(1, 1), _dot(2, 2)]}, 320, 320)


# ----------------------------------------------------------------------------- the distribution and the run
def test_the_mixture_is_the_points_plus_gaussian_spread_drawn_as_documented():
    points = torch.tensor(custom.SMILE, dtype=torch.float32)
    got = custom.sample_custom(points, 500, 0.1, generator=torch.Generator().manual_seed(7))
    g = torch.Generator().manual_seed(7)  # by hand: eps first, then the indices
    eps = torch.randn(500, 2, generator=g)
    idx = torch.randint(points.shape[0], (500,), generator=g)
    assert torch.equal(got, points[idx] + 0.1 * eps)
    exact = custom.sample_custom(points, 200, 0.0, generator=torch.Generator().manual_seed(1))
    assert all(any(torch.equal(x, p) for p in points) for x in exact)  # no spread: only the points themselves


def _small(points=None, **kw) -> CustomPointsGAN:
    cfg = CustomGANConfig(**{**dict(n_points=256, hidden=16, batch_size=32, metrics_every=2, eval_samples=64, seed=2), **kw})
    return CustomPointsGAN(cfg, torch.tensor(custom.SMILE) if points is None else points)


def test_the_run_is_the_2d_gan_on_the_points():
    run = _small()
    ring = GANTrainer(GANConfig(data="ring", n_points=256, hidden=16, batch_size=32, metrics_every=2, eval_samples=64, seed=2))
    assert type(run.G) is type(ring.G) and all(torch.equal(a, b) for a, b in zip(run.G.parameters(), ring.G.parameters()))
    assert run.real.shape == (256, 2) and run.config.lr_g_value == ring.config.lr_g_value
    rows = [run.step() for _ in range(4)]
    assert all(math.isfinite(r["loss_d"]) for r in rows) and "energy_distance" in rows[1]
    assert run.config.is_toy and run.modes is None and run.collapse_warning() is None


def test_the_record_replays_with_its_points_and_the_checkpoint_carries_them():
    run = _small()
    for _ in range(3):
        run.step()
    again = CustomPointsGAN.from_record(run.record().to_json(), **run.inputs())
    for _ in range(3):
        again.step()
    assert again.history == run.history
    with pytest.raises(RecordError, match="points"):
        CustomPointsGAN.from_record(run.record())
    with pytest.raises(RecordError):
        GANTrainer.from_record(run.record())  # a gan-custom record is not a plain GAN record
    loaded = CustomPointsGAN.load(io.BytesIO(run.to_bytes()))
    assert loaded.step_count == 3 and torch.equal(loaded.points, run.points)
    assert loaded.step() == _continue(run)
    other = _small(points=torch.tensor(custom.SMILE) * 2)
    with pytest.raises(CheckpointError, match="other points"):
        other.load_state_dict(run.state_dict())


def _continue(run: CustomPointsGAN) -> dict:
    return run.step()


def test_bad_settings_are_refused():
    with pytest.raises(ConfigError):
        CustomGANConfig(data="ring")
    with pytest.raises(ConfigError):
        CustomGANConfig(n_points=3)
    with pytest.raises(ConfigError):
        CustomGANConfig(data_noise=5.0)
    with pytest.raises(ConfigError):
        CustomPointsGAN(GANConfig(), torch.tensor(custom.SMILE))
    with pytest.raises(PointsError):
        _small(points=torch.tensor([[0.0, float("nan")], [1, 1], [2, 2]]))
    with pytest.raises(PointsError):
        _small(points=torch.zeros(5, 3))


def test_custom_run_keeps_the_set_up_of_a_2d_run():
    base = GANConfig(data="spiral", loss="hinge", hidden=32, batch_size=16, d_steps=2, seed=9)
    run = custom.custom_run(torch.tensor(custom.SMILE), base=base)
    assert (run.config.loss, run.config.hidden, run.config.batch_size, run.config.d_steps, run.seed) == ("hinge", 32, 16, 2, 9)
    assert run.config.data == "custom" and run.config.data_noise == custom.DEFAULT_CUSTOM_NOISE


# ----------------------------------------------------------------------------- the page (AppTest)
def test_gan_page_trains_on_typed_points_and_explains_a_bad_line(monkeypatch):
    pytest.importorskip("streamlit")
    from pagecheck import assert_clean
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("STYLELAB_LIVE", "inline")
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    at.radio(key="gan_steps_source").set_value("points").run()
    at.radio(key="gan_steps_how").set_value("text").run()
    assert_clean(at)
    at.text_area(key="gan_steps_text").set_value("x, y\n0, 0\nfoo, 1\n2, 2\n").run()
    assert any("Line 3" in e.value and "not a number" in e.value for e in at.error)
    assert at.button(key="gan_steps_new").disabled
    at.text_area(key="gan_steps_text").set_value("0,0\n0,1\n1,0\n1,1\n0.5,0.5\n").run()
    assert_clean(at)
    at.button(key="gan_steps_new").click().run()
    s = at.session_state["gan_steps_run"]
    assert s.trainer.kind == "gan-custom" and s.trainer.points.shape == (5, 2)
    at.selectbox(key="gan_steps_n").set_value(50).run()
    at.button(key="gan_steps_train").click().run()
    for _ in range(40):
        if not at.session_state["gan_steps_running"]:
            break
        at.run()
    assert_clean(at)
    assert s.iterations_done == 50 and s.trainer.step_count == 50 and s.config.pace_s == 0.0
    assert at.session_state["gan_run"].step_count == 0  # the page's own run is untouched
