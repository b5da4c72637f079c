"""The classroom load test: its statistics with known answers, its options, and one small real run."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from stylelab.errors import ConfigError
from stylelab.serve import bench as lt_bench
from stylelab.serve import loadtest as lt


# ----------------------------------------------------------------------------- percentiles
def test_percentile_known_answers():
    xs = [1.0, 2.0, 3.0, 4.0]
    assert lt.percentile(xs, 50) == pytest.approx(2.5)  # h = 1.5: between 2 and 3
    assert lt.percentile(xs, 95) == pytest.approx(3.85)  # h = 2.85: 3 + 0.85 * 1
    assert lt.percentile(xs, 0) == 1.0 and lt.percentile(xs, 100) == 4.0
    assert lt.percentile([7.0], 95) == 7.0
    assert lt.percentile([5, 1, 3], 50) == 3.0  # order of the input does not matter


def test_percentile_matches_numpy_linear():
    rng = np.random.default_rng(0)
    xs = rng.exponential(1.0, 37).tolist()
    for q in (5, 50, 95, 99):
        assert lt.percentile(xs, q) == pytest.approx(float(np.percentile(xs, q)))


def test_percentile_of_nothing_is_none_and_bad_input_is_refused():
    assert lt.percentile([], 95) is None
    with pytest.raises(ConfigError):
        lt.percentile([1.0], 101)
    with pytest.raises(ConfigError):
        lt.percentile([1.0, float("nan")], 50)


# ----------------------------------------------------------------------------- fairness
def test_fairness_is_slowest_over_fastest():
    assert lt.fairness([2.0, 4.0, 8.0]) == pytest.approx(0.25)
    assert lt.fairness([3.0, 3.0]) == 1.0
    assert lt.fairness([5.0]) == 1.0
    assert lt.fairness([0.0, 10.0]) == 0.0  # one student starved


def test_fairness_without_progress_is_not_measured():
    assert lt.fairness([]) is None
    assert lt.fairness([0.0, 0.0]) is None
    with pytest.raises(ConfigError):
        lt.fairness([1.0, -1.0])


def test_progress_rate_leaves_the_start_up_out():
    # nothing for 15 s (a cold model load), then 1 step at 15 s and 3 at 20 s: 2 steps in 5 s
    assert lt.progress_rate([[5.0, 0], [10.0, 0], [15.0, 1], [20.0, 3]]) == (pytest.approx(0.4), 15.0)
    assert lt.progress_rate([[4.0, 8]]) == (2.0, 4.0)  # one reading: steps / time since the press
    assert lt.progress_rate([[3.0, 0], [6.0, 0]]) == (0.0, None)  # never started
    assert lt.progress_rate([]) == (0.0, None)


# ----------------------------------------------------------------------------- grouping and the summary
ROWS = [
    {"kind": "gan", "loads": [1.0], "steps": 100, "rate": 10.0, "errors": [], "client": "browser", "first_step_s": 2.5},
    {"kind": "gatys", "loads": [2.0], "steps": 6, "rate": 0.3, "errors": []},
    {"kind": "gan", "loads": [3.0], "steps": 40, "rate": 4.0, "errors": ["TimeoutError: x"]},
    {"kind": "browse", "loads": [0.5, 1.5, 4.0], "steps": 0, "rate": 0.0, "errors": [], "client": "protocol"},
    {"kind": "gatys", "loads": [1.0], "steps": 3, "rate": 0.15, "errors": []},
]


def test_by_kind_groups_in_first_seen_order():
    groups = lt.by_kind(ROWS)
    assert list(groups) == ["gan", "gatys", "browse"]
    assert [r["steps"] for r in groups["gan"]] == [100, 40]
    assert [r["steps"] for r in groups["gatys"]] == [6, 3]


def test_summarize_known_answers():
    s = lt.summarize(ROWS, {"peak_rss_mb": 900.0, "cpu_after_close_pct": 3.0}, rss_cap_mb=1000.0)
    loads = [1.0, 2.0, 3.0, 0.5, 1.5, 4.0, 1.0]
    assert s["page_load_s"]["n"] == 7
    assert s["page_load_s"]["p50"] == pytest.approx(np.percentile(loads, 50))
    assert s["page_load_s"]["p95"] == pytest.approx(np.percentile(loads, 95))
    assert s["page_load_s"]["max"] == 4.0
    by_client = s["page_load_s"]["by_client"]
    assert by_client["protocol"] == {"n": 3, "p50": 1.5, "p95": pytest.approx(np.percentile([0.5, 1.5, 4.0], 95)), "max": 4.0}
    assert by_client["browser"]["n"] == 4  # rows without a client are browser tabs
    assert s["kinds"]["gan"] == {"sessions": 2, "steps_min": 40, "steps_max": 100, "rate_min": 4.0, "rate_max": 10.0,
                                 "fairness": pytest.approx(0.4), "first_step_s_max": 2.5}
    assert s["kinds"]["gatys"]["fairness"] == pytest.approx(0.5)
    assert s["kinds"]["browse"] == {"sessions": 1, "loads": 3}
    assert s["fairness_min"] == pytest.approx(0.4)  # the worst kind
    assert s["errors"] == 1
    aims = s["aims"]
    assert aims["page load p95 <= 2 s"] is False
    assert aims["fairness >= 0.5"] is False
    assert aims["zero errors"] is False
    assert aims["peak RSS <= 1000 MB"] is True
    assert [v for k, v in aims.items() if k.startswith("runs freed")] == [True]


def test_summarize_marks_what_was_not_measured():
    s = lt.summarize([{"kind": "gan", "loads": [], "steps": 0, "rate": 0.0, "errors": []}])
    assert s["page_load_s"] == {"n": 0, "p50": None, "p95": None, "max": None,
                                "by_client": {"browser": {"n": 0, "p50": None, "p95": None, "max": None}}}
    assert s["kinds"]["gan"]["fairness"] is None and s["fairness_min"] is None
    assert s["aims"]["page load p95 <= 2 s"] is None
    assert s["aims"]["fairness >= 0.5"] is False  # a heavy kind that never progressed fails the aim
    assert s["aims"]["zero errors"] is True
    json.dumps(s, allow_nan=False)


def test_steps_read_from_every_page_style():
    assert lt.steps_in("step 12 / 60 · 3.0 s · running") == 12  # the live driver
    assert lt.steps_in("step 7/60 · 1.0 s") == 7  # the older Style Studio
    assert lt.steps_in("Step 300 · running · 90 steps/s; fixed noise, step 299") == 300  # GAN Lab
    assert lt.steps_in("Deep Image Prior: 25/400 iterations, 4 s") == 25  # the older Inpainting Lab
    assert lt.steps_in("Steps (loss evaluations) 60") is None


# ----------------------------------------------------------------------------- options
def test_plan_two_thirds_heavy_cycling_kinds():
    cfg = lt.LoadTestConfig(sessions=30)
    plan = cfg.plan()
    assert cfg.n_heavy == 20 and len(plan) == 30
    assert plan[:5] == ["gan", "gatys", "dip", "train", "gan"] and plan.count("browse") == 10
    assert lt.LoadTestConfig(sessions=2, heavy=1, kinds=("gan",)).plan() == ["gan", "browse"]
    assert cfg.n_protocol == 8  # all browsing sessions but two speak the websocket protocol
    assert lt.LoadTestConfig(sessions=2, heavy=1).n_protocol == 0
    assert lt.LoadTestConfig(sessions=5, heavy=1, protocol_browse=4).n_protocol == 4


def test_clients_keep_a_real_tab_of_every_kind():
    clients = lt.LoadTestConfig(sessions=30).clients()
    plan = lt.LoadTestConfig(sessions=30).plan()
    pairs = list(zip(plan, clients))
    for kind in ("gan", "gatys", "dip", "train"):  # the first of the kind in a tab, the rest over the protocol
        mine = [c for k, c in pairs if k == kind]
        assert mine[0] == "browser" and set(mine[1:]) == {"protocol"} and len(mine) == 5
    assert [c for k, c in pairs if k == "browse"] == ["browser"] * 2 + ["protocol"] * 8
    tabs = lt.LoadTestConfig(sessions=30, protocol_heavy=False, protocol_browse=0).clients()
    assert set(tabs) == {"browser"}


def test_protocol_sessions_open_the_set_up_a_tab_clicks_through():
    """A protocol client cannot click: its lab opens in the same set-up through the lab's URL state."""
    from urllib.parse import parse_qs

    from stylelab.classroom import urlstate

    def decoded(lab: str, query: str) -> dict:
        return urlstate.decode(lab, {k: v[0] for k, v in parse_qs(query).items()})

    dip = decoded("inpaint", lt.protocol_setup("dip"))
    assert dip["inp_tool"] == "Centre hole"
    defaults = urlstate.schema("inpaint").defaults()["inp_methods"]
    assert list(dip["inp_methods"]) == list(defaults) + ["dip"]  # Deep Image Prior added to the defaults
    assert decoded("style", lt.protocol_setup("train"))["style_method"] == "train"
    assert lt.protocol_setup("gan") == lt.protocol_setup("gatys") == ""  # their button is on the page as it opens
    with pytest.raises(ConfigError, match="chess"):
        lt.protocol_setup("chess")


def test_media_urls_are_the_pictures_of_an_image_element():
    from streamlit.proto.Element_pb2 import Element

    el = Element()
    for url in ("/media/a.png", "/media/b.jpg", "data:image/png;base64,AAAA"):
        el.imgs.imgs.add().url = url
    assert lt._media_urls(el) == ["/media/a.png", "/media/b.jpg"]  # inline data needs no fetch
    md = Element()
    md.markdown.body = "![x](/media/c.png)"
    assert lt._media_urls(md) == []


def test_media_fetcher_fetches_each_address_once_and_counts_failures():
    import http.server
    import threading as th

    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the http.server name)
            hits.append(self.path)
            if self.path == "/media/gone.png":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", "5")
            self.end_headers()
            self.wfile.write(b"12345")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    th.Thread(target=server.serve_forever, daemon=True).start()
    try:
        async def scenario():
            media = lt.MediaFetcher(f"http://127.0.0.1:{server.server_port}", timeout=10)
            media.add(["/media/a.png", "/media/b.png", "/media/a.png"])
            media.add(["/media/gone.png", "/media/b.png"])
            await media.drain(10)
            return media

        import asyncio
        import concurrent.futures

        # in a thread of its own: a browser test before this one may leave an event loop running here
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            media = pool.submit(lambda: asyncio.run(scenario())).result(timeout=60)
    finally:
        server.shutdown()
    assert sorted(hits) == ["/media/a.png", "/media/b.png", "/media/gone.png"]
    assert (media.fetched, media.bytes, media.failed) == (2, 10, 1)


@pytest.mark.parametrize("kw", [{"sessions": 0}, {"seconds": 0}, {"heavy": 5, "sessions": 4}, {"kinds": ("chess",)},
                                {"poll_s": -1.0}, {"ramp_s": -2.0},
                                {"sessions": 4, "heavy": 2, "protocol_browse": 3}])
def test_bad_options_are_refused(kw):
    with pytest.raises(ConfigError):
        lt.LoadTestConfig(**kw)


def test_missing_app_dir_is_a_clear_error(tmp_path):
    with pytest.raises(lt.LoadTestError, match="no app.py"):
        lt.AppServer(tmp_path)


def test_bench_figures_names_are_stable():
    result = {"summary": lt.summarize(ROWS, {"peak_rss_mb": 900.0, "cpu_after_close_pct": 3.0})}
    f = lt_bench.figures(result)
    assert f["page load p95"][1] == "s" and f["peak server RSS"] == (900.0, "MB")
    assert f["gan: fairness"][0] == pytest.approx(0.4)
    assert "dip: fairness" not in f  # no such session in this classroom
    assert lt_bench.config(quick=False).plan().count("browse") == 10


# ----------------------------------------------------------------------------- a real, small classroom
@pytest.mark.slow
@pytest.mark.browser
def test_small_classroom_end_to_end(tmp_path):
    """Three sessions for 20 s: a GAN Lab tab playing, a browsing tab, a browsing protocol client."""
    if not Path(lt.CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip("Debian chromium is not installed")
    pytest.importorskip("playwright")
    cfg = lt.LoadTestConfig(sessions=3, heavy=1, kinds=("gan",), protocol_browse=1, seconds=20.0, poll_s=2.0,
                            settle_s=3.0)
    result = lt.run_loadtest(cfg)
    json.dumps(result, allow_nan=False)
    rows = result["sessions"]
    assert [(r["kind"], r["client"]) for r in rows] == [("gan", "browser"), ("browse", "browser"), ("browse", "protocol")]
    heavy, browse, proto = rows
    assert heavy["steps"] > 0 and heavy["rate"] > 0, heavy
    assert heavy["progress"] and heavy["progress"][-1][1] == heavy["steps"]
    assert 0 <= heavy["first_step_s"] <= 20.0 + 5.0
    assert len(browse["loads"]) >= 1 and all(t > 0 for t in browse["loads"])
    assert len(proto["loads"]) >= 1 and all(t > 0 for t in proto["loads"])
    assert not heavy["errors"] and not browse["errors"] and not proto["errors"], [r["errors"] for r in rows]
    s = result["summary"]
    assert s["page_load_s"]["n"] == sum(len(r["loads"]) for r in rows)
    assert s["page_load_s"]["by_client"]["protocol"]["n"] == len(proto["loads"])
    assert s["server"]["peak_rss_mb"] > 50  # the app was measured (torch alone is more than this)
    assert s["server"]["cpu_after_close_pct"] is not None
    assert "gan" in lt.format_report(result)


def test_client_nice_is_checked():
    from stylelab.errors import ConfigError
    from stylelab.serve.loadtest import LoadTestConfig

    assert LoadTestConfig().client_nice == 10
    for bad in (-1, 20, 1.5):
        with pytest.raises(ConfigError, match="client_nice"):
            LoadTestConfig(client_nice=bad)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_lower_priority_lowers_the_clients_but_spares_the_server():
    import subprocess
    import threading

    import psutil

    from stylelab.serve.loadtest import lower_priority

    two_threads = "import threading, time; threading.Thread(target=time.sleep, args=(30,)).start(); time.sleep(30)"
    client = subprocess.Popen([sys.executable, "-c", two_threads])
    server = subprocess.Popen([sys.executable, "-c", two_threads])
    try:
        deadline = time.time() + 20
        while min(psutil.Process(p.pid).num_threads() for p in (client, server)) < 2 and time.time() < deadline:
            time.sleep(0.05)
        before = psutil.Process(server.pid).nice()
        target = max(before, 0) + 3
        out = {}
        t = threading.Thread(target=lambda: out.update(nice=lower_priority(target, spare=server.pid)))
        t.start()
        t.join()
        assert out["nice"] == target  # the calling thread
        # every thread of a process it started (a tab's renderer keeps several), not only the first
        niceness = [os.getpriority(os.PRIO_PROCESS, th.id) for th in psutil.Process(client.pid).threads()]
        assert len(niceness) >= 2 and niceness == [target] * len(niceness)
        server_threads = [os.getpriority(os.PRIO_PROCESS, th.id) for th in psutil.Process(server.pid).threads()]
        assert server_threads == [before] * len(server_threads)  # the server under test keeps its priority
    finally:
        client.kill()
        server.kill()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_keep_priority_reaches_processes_started_later():
    """Chromium starts a renderer per new tab: the keeper lowers those too, while the class runs."""
    import asyncio
    import subprocess

    import psutil

    from stylelab.serve.loadtest import keep_priority

    mine = os.getpriority(os.PRIO_PROCESS, 0)
    target = min(19, max(mine, 0) + 4)

    async def scenario() -> tuple[int, int]:
        keeper = asyncio.create_task(keep_priority(target, spare=None, period_s=0.1))
        late = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
        try:
            first = psutil.Process(late.pid).nice()
            deadline = time.time() + 10
            while psutil.Process(late.pid).nice() < target and time.time() < deadline:
                await asyncio.sleep(0.05)
            return first, psutil.Process(late.pid).nice()
        finally:
            keeper.cancel()
            late.kill()

    def run() -> tuple[int, int]:  # in a thread of its own: the keeper lowers the calling thread too
        return asyncio.run(scenario())

    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        first, later = pool.submit(run).result(timeout=60)
    assert first == mine  # started at the test's own priority
    assert later == target


@pytest.mark.slow
@pytest.mark.browser
def test_deep_image_prior_and_training_over_the_protocol(tmp_path):
    """Four heavy sessions for 30 s: a Deep Image Prior and a training tab, then one of each over
    the protocol, whose labs open in their set-up from the URL: both make steps, with no errors."""
    if not Path(lt.CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip("Debian chromium is not installed")
    pytest.importorskip("playwright")
    cfg = lt.LoadTestConfig(sessions=4, heavy=4, kinds=("dip", "train"), seconds=30.0, poll_s=2.0, settle_s=2.0)
    rows = lt.run_loadtest(cfg)["sessions"]
    assert [(r["kind"], r["client"]) for r in rows] == [("dip", "browser"), ("train", "browser"),
                                                          ("dip", "protocol"), ("train", "protocol")]
    assert not any(r["errors"] for r in rows), [r["errors"] for r in rows]
    for r in rows[2:]:
        assert r["steps"] > 0, r
