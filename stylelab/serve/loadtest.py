"""``python -m stylelab loadtest``: a classroom of real browser sessions against the app, measured.

Each session is a headless Chromium tab (one browser context per student: its own cookies, its
own Streamlit session over the app's websocket, ``/_stcore/stream``), driven with Playwright's
async API so that dozens of tabs share one event loop and one browser. Two kinds of student:

- **heavy** (:data:`HEAVY_KINDS`): open a lab, press its Start/Play, then read the progress the
  page shows (``step N / M`` of :func:`stylelab.ui.live.live_run`, ``Step N`` of the GAN Lab)
  every ``poll_s`` seconds until the end;
- **browsing**: open the pages of :data:`PAGES` one after another and time each load until the
  page's title is drawn and Streamlit's script run has finished. Most browsing sessions of a big
  classroom (all but two, :attr:`LoadTestConfig.protocol_browse`) speak Streamlit's own protocol
  instead of running a tab: a fresh websocket to ``/_stcore/stream`` per page, one ``BackMsg``
  ``rerun_script`` for the page, timed until the ``ForwardMsg`` ``script_finished`` (the server's
  work for a page load, without the browser's drawing: a much lighter client on a 2-core machine).
  Likewise the GAN Lab and Gatys sessions after the first tab of each kind
  (:data:`PROTOCOL_HEAVY_KINDS`, :class:`ProtocolSession`): they press the button by sending its
  widget id as a trigger, then ask for a rerun of the live fragment every ``auto_rerun.interval``
  seconds whether the last one finished or not (the browser's ``setInterval``), and read the step
  counter from the ``progress`` / ``markdown`` elements.

Measured (:func:`summarize`):

- page-load latency :math:`p_{50}, p_{95}, \\max` over every load of every session (seconds),
  with :func:`percentile` (linear interpolation between order statistics, numpy's default);
- per heavy kind, progress rate :math:`r_i` (steps per second from the first step shown to the
  end, :func:`progress_rate`; the time to the first step is reported apart) and fairness :math:`F = \\min_i r_i / \\max_i r_i \\in [0, 1]`
  (:func:`fairness`; 1 = every student of that kind got the same speed);
- errors: exceptions drawn in the page (``stException``) and driver failures (a page that
  never loaded, a button that never appeared), each with its text;
- the server's peak resident memory (sum over its process tree, sampled every 0.5 s) and its
  CPU use in the ``settle_s`` seconds after every tab closed: runs freed on disconnect leave the
  server idle (:data:`FREED_CPU_PCT`).

Without ``--url`` the loadtest starts the app itself (``streamlit run app.py`` from ``--app-dir``,
a free port), warms every page once, runs the classroom, and stops it; ``--app-dir`` of an older
checkout gives the baseline from the same run. See docs/loadtest.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, StylelabError

#: heavy session kinds -> (page path, what to press): the labs a class runs at once
HEAVY_KINDS = ("gan", "gatys", "dip", "train")
HEAVY_PAGES = {"gan": "GAN_Lab", "gatys": "Style_Studio", "dip": "Inpainting_Lab", "train": "Style_Studio"}
#: heavy kinds a protocol client can drive (one button press on the page as it opens, in the set-up of
#: :func:`protocol_setup`) -> that button's label
PROTOCOL_HEAVY_KINDS = {"gan": "▶ Play", "gatys": "▶ Start", "dip": "Fill the hole", "train": "▶ Train"}
#: the pages a browsing session opens, in turn ("" = the home page)
PAGES = ("", "Loss_Lab", "Style_Studio", "GAN_Lab", "Inpainting_Lab", "Aesthetics_Lab")
#: the aims of issue 15 on a 2-core machine, 30 sessions
AIM_P95_S = 2.0
AIM_FAIRNESS = 0.5
DEFAULT_RSS_CAP_MB = 8192.0
#: server CPU (percent of one core) after every tab closed, under which its runs count as freed
FREED_CPU_PCT = 20.0
CHROMIUM = os.environ.get("STYLELAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage"]
#: the step counter a page shows: "step 12 / 60" (live driver), "step 12/60" (older pages), "Step 12 · ..." (GAN
#: Lab), "Deep Image Prior: 12/400 iterations" (the older Inpainting Lab)
STEP_RE = re.compile(r"\bstep\s+(\d+)\b|\b(\d+)\s*/\s*\d+\s+iterations\b", re.IGNORECASE)


class LoadTestError(StylelabError):
    """The load test could not run (no browser, the server did not start, a bad option)."""


# ----------------------------------------------------------------------------- statistics
def percentile(values: Iterable[float], q: float) -> float | None:
    """The ``q``-th percentile (``0 <= q <= 100``) with linear interpolation between order statistics.

    For sorted :math:`x_0 \\le \\dots \\le x_{n-1}` and :math:`h = (n-1)\\,q/100`:
    :math:`p_q = x_{\\lfloor h \\rfloor} + (h - \\lfloor h \\rfloor)(x_{\\lceil h \\rceil} - x_{\\lfloor h \\rfloor})`
    (numpy's default). None for no values (nothing was measured: never a made-up 0).
    """
    if not 0 <= q <= 100:
        raise ConfigError(f"percentile q must be in [0, 100], got {q}")
    xs = sorted(float(v) for v in values)
    if any(not math.isfinite(v) for v in xs):
        raise ConfigError("percentile of a non-finite value")
    if not xs:
        return None
    h = (len(xs) - 1) * q / 100.0
    lo, hi = math.floor(h), math.ceil(h)
    return xs[lo] + (h - lo) * (xs[hi] - xs[lo])


def fairness(rates: Iterable[float]) -> float | None:
    """:math:`F = \\min_i r_i / \\max_i r_i` over the progress rates of sessions of one kind.

    1.0 for one session; None when there is no session or none made progress (0/0 is no
    measure of fairness, and never passes the aim). Negative rates are an error.
    """
    rs = [float(r) for r in rates]
    if any(not math.isfinite(r) or r < 0 for r in rs):
        raise ConfigError(f"progress rates must be finite and >= 0, got {rs}")
    if not rs or max(rs) == 0:
        return None
    return min(rs) / max(rs)


def progress_rate(progress: Sequence[Sequence[float]]) -> tuple[float, float | None]:
    """Steps per second while a run ran, and the seconds from the button press to its first step.

    ``progress`` holds ``[t, steps]`` readings (seconds since the press). With the first reading
    showing a step :math:`(t_a, s_a)` and the last :math:`(t_b, s_b)`:
    :math:`r = (s_b - s_a) / (t_b - t_a)` (one-time start-up costs, such as loading VGG for the
    first student, stay out of the rate and show in the start time :math:`t_a`); with one such
    reading :math:`r = s_a / t_a`. ``(0.0, None)`` when no step was ever shown.
    """
    running = [(float(t), float(n)) for t, n in progress if n > 0]
    if not running:
        return 0.0, None
    (ta, sa), (tb, sb) = running[0], (float(progress[-1][0]), float(progress[-1][1]))
    if tb > ta:
        return max(0.0, sb - sa) / (tb - ta), ta
    return (sa / ta if ta > 0 else 0.0), ta


def by_kind(rows: Iterable[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """Session rows grouped by their ``"kind"``, kinds in first-seen order."""
    out: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        out.setdefault(str(r["kind"]), []).append(r)
    return out


def load_stats(loads: Sequence[float]) -> dict[str, Any]:
    """``{"n", "p50", "p95", "max"}`` of page-load times in seconds (None where there are none)."""
    return {"n": len(loads), "p50": percentile(loads, 50), "p95": percentile(loads, 95),
            "max": max(loads) if loads else None}


def summarize(rows: Sequence[Mapping[str, Any]], server: Mapping[str, Any] | None = None,
              rss_cap_mb: float = DEFAULT_RSS_CAP_MB) -> dict[str, Any]:
    """The classroom summary from per-session rows (see :class:`SessionResult`) and server figures.

    Returns ``{"page_load_s": load_stats, "kinds": {kind: {"sessions", "steps_min", "steps_max",
    "rate_min", "rate_max", "fairness"}}, "fairness_min", "errors", "server", "aims"}``; ``aims``
    holds each of issue 15's aims as True/False (None where it could not be measured).
    """
    server = dict(server or {})
    loads = [t for r in rows for t in r.get("loads", [])]
    kinds: dict[str, Any] = {}
    for kind, group in by_kind(rows).items():
        if kind == "browse":
            kinds[kind] = {"sessions": len(group), "loads": sum(len(r.get("loads", [])) for r in group)}
            continue
        steps = [int(r.get("steps", 0)) for r in group]
        rates = [float(r.get("rate", 0.0)) for r in group]
        starts = [float(r["first_step_s"]) for r in group if r.get("first_step_s") is not None]
        kinds[kind] = {"sessions": len(group), "steps_min": min(steps), "steps_max": max(steps),
                       "rate_min": min(rates), "rate_max": max(rates), "fairness": fairness(rates),
                       "first_step_s_max": max(starts) if starts else None}
    fair = [k["fairness"] for name, k in kinds.items() if name != "browse"]
    fairness_min = None if not fair or any(f is None for f in fair) else min(fair)
    errors = sum(len(r.get("errors", [])) for r in rows)
    stats = load_stats(loads)
    stats["by_client"] = {c: load_stats([t for r in rows if r.get("client", "browser") == c for t in r.get("loads", [])])
                          for c in sorted({str(r.get("client", "browser")) for r in rows})}
    peak = server.get("peak_rss_mb")
    cpu_after = server.get("cpu_after_close_pct")
    aims = {
        f"page load p95 <= {AIM_P95_S:g} s": None if stats["p95"] is None else stats["p95"] <= AIM_P95_S,
        f"fairness >= {AIM_FAIRNESS:g}": None if not fair else (fairness_min is not None and fairness_min >= AIM_FAIRNESS),
        "zero errors": errors == 0,
        f"peak RSS <= {rss_cap_mb:g} MB": None if peak is None else peak <= rss_cap_mb,
        f"runs freed (server CPU < {FREED_CPU_PCT:g}% after the tabs closed)":
            None if cpu_after is None else cpu_after < FREED_CPU_PCT,
    }
    return {"page_load_s": stats, "kinds": kinds, "fairness_min": fairness_min, "errors": errors,
            "server": {**server, "rss_cap_mb": rss_cap_mb}, "aims": aims}


# ----------------------------------------------------------------------------- the server
def _tree(pid: int) -> list[Any]:
    import psutil

    try:
        root = psutil.Process(pid)
        return [root] + root.children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def tree_rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and all its descendants (MB)."""
    try:
        import psutil
    except ImportError:  # /proc: VmRSS of the process and its direct children
        return _proc_rss_mb(pid)
    total = 0
    for p in _tree(pid):
        try:
            total += p.memory_info().rss
        except psutil.Error:
            continue
    return total / 2**20


def _proc_rss_mb(pid: int) -> float:
    pids = [pid]
    try:
        pids += [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        pass
    total = 0.0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            continue
    return total


def tree_cpu_s(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its descendants so far."""
    try:
        import psutil
    except ImportError:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    total = 0.0
    for p in _tree(pid):
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            continue
    return total


class RssSampler:
    """Samples the server tree's RSS every ``every_s`` seconds in a thread; ``peak_mb`` is the highest."""

    def __init__(self, pid: int, every_s: float = 0.5) -> None:
        self.pid, self.every_s = pid, every_s
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="loadtest-rss")

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.samples.append(tree_rss_mb(self.pid))
            self._stop.wait(self.every_s)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    @property
    def peak_mb(self) -> float | None:
        return max(self.samples) if self.samples else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class AppServer:
    """``streamlit run app.py`` from ``app_dir`` on a free loopback port (its stdout in ``log``).

    ``PYTHONPATH`` starts with ``app_dir``, so an older checkout serves its own ``stylelab``.
    """

    def __init__(self, app_dir: str | Path, port: int | None = None, log: str | Path | None = None,
                 env: Mapping[str, str] | None = None) -> None:
        self.app_dir = Path(app_dir).resolve()
        if not (self.app_dir / "app.py").is_file():
            raise LoadTestError(f"no app.py in {self.app_dir}: --app-dir must be a stylelab checkout")
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(log) if log else Path(tempfile.mkstemp(prefix="stylelab-loadtest-", suffix=".log")[1])
        self.extra_env = dict(env or {})
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> AppServer:
        env = dict(os.environ, STREAMLIT_BROWSER_GATHER_USAGE_STATS="false", **self.extra_env)
        env["PYTHONPATH"] = os.pathsep.join([str(self.app_dir)] + [p for p in [env.get("PYTHONPATH")] if p])
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(self.app_dir / "app.py"), "--server.port", str(self.port),
             "--server.address", "127.0.0.1", "--server.headless", "true", "--server.fileWatcherType", "none"],
            cwd=self.app_dir, stdout=self._log, stderr=subprocess.STDOUT, env=env)
        try:
            wait_healthy(self.url, self.proc)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()


def wait_healthy(url: str, proc: subprocess.Popen | None = None, timeout: float = 120.0) -> float:
    """Seconds until ``url/_stcore/health`` answers 200 (LoadTestError if the server exits or times out)."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if proc is not None and proc.poll() is not None:
            raise LoadTestError(f"the app server exited with status {proc.returncode} before it was healthy")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return time.perf_counter() - t0
        except OSError:
            time.sleep(0.3)
    raise LoadTestError(f"{url} did not become healthy within {timeout:.0f} s")


# ----------------------------------------------------------------------------- the sessions
@dataclass
class SessionResult:
    """One student's session: ``loads`` (page-load seconds), ``steps`` (last step count read),
    ``rate`` (steps per second while running, :func:`progress_rate`), ``first_step_s`` (seconds from
    the button press to the first step shown), ``progress`` ([seconds since Start, steps] samples)
    and ``errors`` (texts)."""

    index: int
    kind: str
    client: str = "browser"
    loads: list[float] = field(default_factory=list)
    steps: int = 0
    rate: float = 0.0
    first_step_s: float | None = None
    active_s: float = 0.0
    progress: list[list[float]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class LoadTestConfig:
    """What a load test does. ``sessions`` tabs in all, ``heavy`` of them heavy (default: two
    thirds, the issue's 20 of 30), cycling through ``kinds``; each lasts ``seconds`` after it
    started; starts are spread over ``ramp_s`` seconds."""

    sessions: int = 4
    seconds: float = 30.0
    heavy: int | None = None
    kinds: tuple[str, ...] = HEAVY_KINDS
    url: str | None = None
    app_dir: str | None = None
    server_pid: int | None = None
    poll_s: float = 3.0
    ramp_s: float | None = None
    settle_s: float = 6.0
    #: seconds between the last tab's close and the CPU measurement (a server that frees an abandoned
    #: run after an idle period, e.g. ``STYLELAB_IDLE_S``, needs that long plus one housekeeping round)
    free_wait_s: float = 2.0
    think_s: float = 1.0
    protocol_browse: int | None = None
    protocol_heavy: bool = True
    load_timeout_s: float = 120.0
    rss_cap_mb: float = DEFAULT_RSS_CAP_MB
    warmup: bool = True
    chromium: str = CHROMIUM
    #: the OS priority (nice) of the load test's own process and its Chromium, set after the server it
    #: starts is up: the tabs and sockets stand in for the students' own laptops, so on one machine they
    #: take the cores only after the server they measure (0: compete with it as equals)
    client_nice: int = 10

    def __post_init__(self) -> None:
        problems = []
        if self.sessions < 1:
            problems.append(f"sessions must be >= 1, got {self.sessions}")
        if not self.seconds > 0:
            problems.append(f"seconds must be > 0, got {self.seconds}")
        if self.heavy is not None and not 0 <= self.heavy <= self.sessions:
            problems.append(f"heavy must be between 0 and sessions ({self.sessions}), got {self.heavy}")
        elif self.protocol_browse is not None and not 0 <= self.protocol_browse <= self.sessions - self.n_heavy:
            problems.append(f"protocol_browse must be between 0 and the browsing sessions ({self.sessions - self.n_heavy}), "
                            f"got {self.protocol_browse}")
        bad = [k for k in self.kinds if k not in HEAVY_KINDS]
        if bad or not self.kinds:
            problems.append(f"kinds must be among {', '.join(HEAVY_KINDS)}, got {', '.join(self.kinds) or 'none'}")
        for name in ("poll_s", "settle_s", "load_timeout_s", "rss_cap_mb"):
            if not getattr(self, name) > 0:
                problems.append(f"{name} must be > 0, got {getattr(self, name)}")
        if not (isinstance(self.client_nice, int) and 0 <= self.client_nice <= 19):
            problems.append(f"client_nice must be a whole number from 0 to 19, got {self.client_nice!r}")
        for name in ("think_s", "ramp_s", "free_wait_s"):
            v = getattr(self, name)
            if v is not None and v < 0:
                problems.append(f"{name} must be >= 0, got {v}")
        if problems:
            raise ConfigError("; ".join(problems))

    @property
    def n_heavy(self) -> int:
        return round(self.sessions * 2 / 3) if self.heavy is None else self.heavy

    @property
    def n_protocol(self) -> int:
        """Browsing sessions over the websocket protocol (default: all but two, which stay real tabs)."""
        n_browse = self.sessions - self.n_heavy
        return max(0, n_browse - 2) if self.protocol_browse is None else self.protocol_browse

    def plan(self) -> list[str]:
        """The kind of each session, heavy ones first: ``["gan", "gatys", "dip", "train", "gan", ..., "browse"]``."""
        return [self.kinds[i % len(self.kinds)] for i in range(self.n_heavy)] + ["browse"] * (self.sessions - self.n_heavy)

    def clients(self) -> list[str]:
        """``"browser"`` (a Chromium tab) or ``"protocol"`` for each session of :meth:`plan`: the last
        :attr:`n_protocol` browsing sessions, and with ``protocol_heavy`` every GAN Lab / Gatys session
        but the first of its kind."""
        plan, out, seen = self.plan(), [], set()
        first_protocol = len(plan) - self.n_protocol
        for i, kind in enumerate(plan):
            if kind == "browse":
                out.append("protocol" if i >= first_protocol else "browser")
            elif self.protocol_heavy and kind in PROTOCOL_HEAVY_KINDS and kind in seen:
                out.append("protocol")
            else:
                out.append("browser")
            seen.add(kind)
        return out


async def _script_state(pg: Any) -> str | None:
    return await pg.locator('[data-testid="stApp"]').first.get_attribute("data-test-script-state")


async def wait_loaded(pg: Any, timeout: float, calm_s: float = 0.5) -> float:
    """Until the page's title (``h1``) is drawn and Streamlit's script run has been over for ``calm_s``
    seconds; returns the ``perf_counter`` time at which it became (and stayed) calm."""
    deadline = time.perf_counter() + timeout
    await pg.locator('[data-testid="stMain"] h1').first.wait_for(timeout=timeout * 1000)
    calm_since: float | None = None
    while time.perf_counter() < deadline:
        now = time.perf_counter()
        if await _script_state(pg) == "running":
            calm_since = None
        elif calm_since is None:
            calm_since = now
        elif now - calm_since >= calm_s:
            return calm_since
        await asyncio.sleep(0.1)
    raise TimeoutError(f"the page kept running for {timeout:.0f} s")


async def open_timed(pg: Any, url: str, timeout: float) -> float:
    """Open ``url`` and return the seconds until it is loaded (:func:`wait_loaded`)."""
    t0 = time.perf_counter()
    await pg.goto(url, timeout=timeout * 1000)
    return await wait_loaded(pg, timeout) - t0


async def page_exceptions(pg: Any) -> list[str]:
    """The text of every exception box (``st.exception`` / an uncaught error) on the page."""
    return [t.strip()[:300] for t in await pg.locator('[data-testid="stException"]').all_inner_texts()]


async def read_steps(pg: Any) -> int | None:
    """The largest step count the page shows (None where it shows none yet)."""
    return steps_in(await pg.locator('[data-testid="stMain"]').first.inner_text(timeout=30_000))


def steps_in(text: str) -> int | None:
    """The largest step count in a page's text (:data:`STEP_RE`), None where there is none."""
    found = [int(m.group(1) or m.group(2)) for m in STEP_RE.finditer(text)]
    return max(found) if found else None


def error_text(exc: BaseException) -> str:
    """One line for a driver failure: its type, its first line and what Playwright was waiting for."""
    lines = [x.strip() for x in str(exc).splitlines() if x.strip()]
    waiting = [x for x in lines[1:] if x.startswith("- waiting for")][:1]
    return " ".join([f"{type(exc).__name__}:", *lines[:1], *waiting])[:400]


async def _click_button(pg: Any, name: str, timeout: float) -> None:
    await pg.get_by_role("button", name=name, exact=True).first.click(timeout=timeout * 1000)


async def start_heavy(pg: Any, kind: str, timeout: float) -> None:
    """Press what starts a ``kind`` run on its (loaded) page."""
    if kind == "gan":
        await _click_button(pg, "▶ Play", timeout)
    elif kind == "gatys":
        await _click_button(pg, "▶ Start", timeout)
    elif kind == "train":
        await pg.locator('[data-testid="stButtonGroup"] button', has_text="Train your own").first.click(timeout=timeout * 1000)
        await asyncio.sleep(0.5)
        await wait_loaded(pg, timeout)
        await _click_button(pg, "▶ Train", timeout)
    elif kind == "dip":  # a centre hole, Deep Image Prior added to the methods (sidebar), then fill the hole
        from playwright.async_api import TimeoutError as PlaywrightTimeout

        sidebar = pg.locator('[data-testid="stSidebar"]')
        methods = sidebar.locator('[data-testid="stMultiSelect"]').first
        for _ in range(5):  # a click while the page still redraws can be lost: until the methods appear
            await sidebar.get_by_text("Centre hole", exact=True).first.click(timeout=timeout * 1000)
            try:
                await methods.wait_for(timeout=15_000)
                break
            except PlaywrightTimeout:  # the click was lost in a redraw: click again (a real failure surfaces below)
                continue
        await wait_loaded(pg, timeout)
        typed = methods.locator("input").first
        await typed.click(timeout=timeout * 1000)
        await typed.fill("Deep Image")
        await pg.get_by_role("option", name=re.compile("Deep Image Prior")).first.click(timeout=timeout * 1000)
        await pg.keyboard.press("Escape")
        await asyncio.sleep(0.5)
        await wait_loaded(pg, timeout)
        await _click_button(pg, "Fill the hole", timeout)
    else:
        raise ConfigError(f"unknown heavy kind {kind!r}")


async def heavy_session(browser: Any, base: str, res: SessionResult, cfg: LoadTestConfig) -> None:
    """Open the lab, press Start, read the step counter every ``poll_s`` s for ``seconds`` s."""
    ctx = await browser.new_context(viewport={"width": 1300, "height": 900})
    try:
        pg = await ctx.new_page()
        pg.set_default_timeout(cfg.load_timeout_s * 1000)
        res.loads.append(await open_timed(pg, f"{base}/{HEAVY_PAGES[res.kind]}", cfg.load_timeout_s))
        await start_heavy(pg, res.kind, cfg.load_timeout_s)
        t0 = time.perf_counter()
        end = t0 + cfg.seconds
        while True:
            await asyncio.sleep(max(0.0, min(cfg.poll_s, end - time.perf_counter())))
            steps = await read_steps(pg)
            now = time.perf_counter() - t0
            if steps is not None:
                res.steps = steps
                res.progress.append([round(now, 2), steps])
            if time.perf_counter() >= end:
                break
        res.active_s = time.perf_counter() - t0
        res.rate, res.first_step_s = progress_rate(res.progress)
        res.errors += await page_exceptions(pg)
    except Exception as exc:  # a timeout, a button that never appeared: counted, with its text
        res.errors.append(error_text(exc))
    finally:
        await ctx.close()  # the tab goes: the server must free this session's run


async def browse_session(browser: Any, base: str, res: SessionResult, cfg: LoadTestConfig) -> None:
    """Open :data:`PAGES` one after another (a fresh load each) for ``seconds`` s, timing each load."""
    ctx = await browser.new_context(viewport={"width": 1300, "height": 900})
    try:
        pg = await ctx.new_page()
        end = time.perf_counter() + cfg.seconds
        i = res.index
        while time.perf_counter() < end:
            path = PAGES[i % len(PAGES)]
            i += 1
            try:
                res.loads.append(await open_timed(pg, f"{base}/{path}", cfg.load_timeout_s))
                res.errors += [f"/{path}: {e}" for e in await page_exceptions(pg)]
            except Exception as exc:
                res.errors.append(f"/{path}: {error_text(exc)}")
            await asyncio.sleep(cfg.think_s)
    finally:
        await ctx.close()


def protocol_setup(kind: str) -> str:
    """The query string a protocol session of ``kind`` opens its page with: the set-up a browser
    session makes by clicking (:func:`start_heavy`), carried by the lab's own URL state
    (:mod:`stylelab.classroom.urlstate`, what a teacher's shared link does): the Inpainting Lab with a
    centre hole and Deep Image Prior added to its default methods; the Style Studio on *Train your own*.
    ``""`` for the kinds whose button is on the page as it opens."""
    from urllib.parse import urlencode

    from ..classroom import urlstate

    if kind == "dip":
        methods = list(urlstate.schema("inpaint").defaults()["inp_methods"])
        values = {"inp_tool": "Centre hole", "inp_methods": methods + ["dip"] * ("dip" not in methods)}
        return urlencode(urlstate.encode("inpaint", values, omit_defaults=True), safe=",")
    if kind == "train":
        return urlencode(urlstate.encode("style", {"style_method": "train"}, omit_defaults=True))
    if kind in PROTOCOL_HEAVY_KINDS:
        return ""
    raise ConfigError(f"unknown heavy kind {kind!r}")


def _media_urls(el: Any) -> list[str]:
    """The server-relative addresses of the pictures an element shows (``st.image``): a browser
    fetches each one from the server's media endpoint as it draws the element."""
    if el.WhichOneof("type") != "imgs":
        return []
    return [img.url for img in el.imgs.imgs if img.url.startswith("/")]


def _fetch(url: str, timeout: float) -> int:
    with urllib.request.urlopen(url, timeout=timeout) as r:  # noqa: S310 (the app under test, http only)
        return len(r.read())


class MediaFetcher:
    """Fetch the pictures a protocol client's pages show, as a tab would (each address once, at most
    ``parallel`` at a time per client, in threads: the reading of messages never waits for them).
    ``fetched`` / ``bytes`` / ``failed`` count them; a failure is counted, not raised (a picture
    replaced by the next redraw before it was fetched is gone from the server, as in a browser)."""

    def __init__(self, base: str, parallel: int = 2, timeout: float = 60.0) -> None:
        self.base, self.timeout = base, timeout
        self.fetched = self.bytes = self.failed = 0
        self._seen: set[str] = set()
        self._gate = asyncio.Semaphore(parallel)
        self._tasks: set[asyncio.Task] = set()

    def add(self, urls: Iterable[str]) -> None:
        for url in urls:
            if url not in self._seen:
                self._seen.add(url)
                task = asyncio.ensure_future(self._one(url))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _one(self, url: str) -> None:
        async with self._gate:
            try:
                n = await asyncio.to_thread(_fetch, self.base + url, self.timeout)
            except Exception:  # noqa: BLE001 (counted: see the class docstring)
                self.failed += 1
            else:  # (not `self.bytes += await ...`: that reads the count before the wait)
                self.bytes += n
                self.fetched += 1

    async def drain(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for the fetches under way, then cancel the rest."""
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
            for task in pending:
                task.cancel()


async def protocol_load(base: str, page: str, timeout: float) -> tuple[float, list[str]]:
    """One page load over Streamlit's websocket protocol, as a fresh tab would make it.

    Opens ``ws://.../_stcore/stream`` (subprotocol ``streamlit``), sends a ``BackMsg`` whose
    ``rerun_script`` names the page, and reads ``ForwardMsg``s until ``script_finished`` says the
    run is over (an early finish for an ``st.rerun`` is followed by the rerun). Returns the seconds
    it took and the text of every exception element the page drew.
    """
    import websockets
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    t0 = time.perf_counter()
    errors: list[str] = []
    media = MediaFetcher(base, timeout=timeout)
    async with websockets.connect(_ws_url(base), subprotocols=["streamlit"], max_size=None, open_timeout=timeout) as ws:
        msg = BackMsg()
        msg.rerun_script.query_string = ""
        msg.rerun_script.page_name = page
        await ws.send(msg.SerializeToString())
        seconds = None
        while seconds is None:
            left = timeout - (time.perf_counter() - t0)
            if left <= 0:
                raise TimeoutError(f"/{page} did not finish within {timeout:.0f} s")
            fwd = ForwardMsg()
            fwd.ParseFromString(await asyncio.wait_for(ws.recv(), left))
            kind = fwd.WhichOneof("type")
            if kind == "page_not_found":
                errors.append(f"/{page}: page not found")
            elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                el = fwd.delta.new_element
                media.add(_media_urls(el))  # fetched while the run goes on, as a tab draws them
                if el.WhichOneof("type") == "exception":
                    errors.append(f"/{page}: {el.exception.type}: {el.exception.message}"[:300])
            elif kind == "script_finished":
                status = ForwardMsg.ScriptFinishedStatus.Name(fwd.script_finished)
                if status == "FINISHED_SUCCESSFULLY":
                    seconds = time.perf_counter() - t0
                elif status == "FINISHED_WITH_COMPILE_ERROR":
                    errors.append(f"/{page}: the page did not compile")
                    seconds = time.perf_counter() - t0
        # the pictures come after the run, as in a tab (not in the load's time), before the socket closes
        await media.drain(max(1.0, timeout - (time.perf_counter() - t0)))
    return seconds, errors


class ProtocolSession:
    """One Streamlit session over the websocket protocol (what a tab's JavaScript does, minus drawing).

    A reader task takes every ``ForwardMsg`` as it comes and keeps the buttons drawn (label ->
    widget id), the live fragment's ``auto_rerun`` (interval, fragment id), the step counter and
    the exceptions. :meth:`send` sends a ``BackMsg.rerun_script`` (optionally a button trigger, or
    a fragment's auto-rerun); :meth:`rerun` also waits for that run's ``script_finished``.
    """

    def __init__(self, ws: Any, page: str, query: str = "", media: MediaFetcher | None = None) -> None:
        self.ws, self.page, self.query, self.media = ws, page, query, media
        self.buttons: dict[str, str] = {}
        self.auto: tuple[float, str] | None = None
        self.steps: int | None = None
        self.errors: list[str] = []
        self._finished = asyncio.Event()
        self._reader: asyncio.Task | None = None

    async def __aenter__(self) -> ProtocolSession:
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except (asyncio.CancelledError, Exception):  # its failure was already raised by rerun()/check()
                pass

    def check(self) -> None:
        """Raise what stopped the reader (the server closed the socket, a bad message)."""
        if self._reader is not None and self._reader.done() and not self._reader.cancelled():
            exc = self._reader.exception()
            raise exc if exc is not None else LoadTestError(f"/{self.page}: the server closed the connection")

    async def send(self, trigger: str | None = None, fragment: str | None = None) -> None:
        from streamlit.proto.BackMsg_pb2 import BackMsg

        self.check()
        msg = BackMsg()
        msg.rerun_script.query_string = self.query  # every rerun carries the address, as a tab's do
        msg.rerun_script.page_name = self.page
        if trigger is not None:
            w = msg.rerun_script.widget_states.widgets.add()
            w.id, w.trigger_value = trigger, True
        if fragment is not None:
            msg.rerun_script.fragment_id, msg.rerun_script.is_auto_rerun = fragment, True
        self._finished.clear()
        await self.ws.send(msg.SerializeToString())

    async def rerun(self, timeout: float, trigger: str | None = None) -> None:
        """Send a full rerun and wait until it finished."""
        await self.send(trigger=trigger)
        waiter = asyncio.ensure_future(self._finished.wait())
        done, _ = await asyncio.wait({waiter, self._reader}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if waiter not in done:
            waiter.cancel()
            self.check()
            raise TimeoutError(f"/{self.page}: a script run did not finish within {timeout:.0f} s")

    async def _read(self) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        while True:
            fwd = ForwardMsg()
            fwd.ParseFromString(await self.ws.recv())
            kind = fwd.WhichOneof("type")
            if kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                self._element(fwd.delta.new_element)
            elif kind == "auto_rerun":
                self.auto = (fwd.auto_rerun.interval, fwd.auto_rerun.fragment_id)
            elif kind == "stop_auto_rerun":
                self.auto = None
            elif kind == "page_not_found":
                self.errors.append(f"/{self.page}: page not found")
            elif kind == "script_finished":
                status = ForwardMsg.ScriptFinishedStatus.Name(fwd.script_finished)
                if status == "FINISHED_WITH_COMPILE_ERROR":
                    self.errors.append(f"/{self.page}: the page did not compile")
                if status != "FINISHED_EARLY_FOR_RERUN":  # an st.rerun is followed by the rerun itself
                    self._finished.set()

    def _element(self, el: Any) -> None:
        kind = el.WhichOneof("type")
        if self.media is not None:
            self.media.add(_media_urls(el))
        if kind == "button":
            self.buttons[el.button.label] = el.button.id
        elif kind == "exception":
            self.errors.append(f"/{self.page}: {el.exception.type}: {el.exception.message}"[:300])
        text = el.progress.text if kind == "progress" else el.markdown.body if kind == "markdown" else None
        n = steps_in(text) if text else None
        if n is not None:
            self.steps = n if self.steps is None else max(self.steps, n)


def _ws_url(base: str) -> str:
    return base.replace("http://", "ws://", 1).replace("https://", "wss://", 1) + "/_stcore/stream"


async def protocol_heavy_session(base: str, res: SessionResult, cfg: LoadTestConfig) -> None:
    """A heavy session over the protocol: open the lab in its set-up (:func:`protocol_setup`), press,
    rerun the live fragment, fetch the pictures it shows, read steps."""
    import websockets

    page = HEAVY_PAGES[res.kind]
    media = MediaFetcher(base, timeout=cfg.load_timeout_s)
    try:
        async with websockets.connect(_ws_url(base), subprotocols=["streamlit"], max_size=None,
                                      open_timeout=cfg.load_timeout_s) as ws:
            async with ProtocolSession(ws, page, protocol_setup(res.kind), media) as sess:
                t_open = time.perf_counter()
                await sess.rerun(cfg.load_timeout_s)
                res.loads.append(time.perf_counter() - t_open)
                label = PROTOCOL_HEAVY_KINDS[res.kind]
                if label not in sess.buttons:
                    raise LoadTestError(f"/{page} drew no {label!r} button (it drew {', '.join(sess.buttons) or 'none'})")
                sess.steps = None
                await sess.rerun(cfg.load_timeout_s, trigger=sess.buttons[label])
                t0 = time.perf_counter()
                end, next_poll = t0 + cfg.seconds, t0 + cfg.poll_s
                while time.perf_counter() < end:
                    # the browser's setInterval: a fragment rerun every interval, finished or not
                    interval = sess.auto[0] if sess.auto else cfg.poll_s
                    await asyncio.sleep(max(0.0, min(interval, end - time.perf_counter())))
                    if sess.auto is not None and time.perf_counter() < end:
                        await sess.send(fragment=sess.auto[1])
                    if time.perf_counter() >= next_poll and sess.steps is not None:
                        res.progress.append([round(time.perf_counter() - t0, 2), sess.steps])
                        next_poll += cfg.poll_s
                sess.check()
                res.steps = sess.steps or 0
                res.progress.append([round(time.perf_counter() - t0, 2), res.steps])
                res.active_s = time.perf_counter() - t0
                res.rate, res.first_step_s = progress_rate(res.progress)
                res.errors += sess.errors
            await media.drain(5.0)
    except Exception as exc:
        res.errors.append(error_text(exc))


async def protocol_browse_session(base: str, res: SessionResult, cfg: LoadTestConfig) -> None:
    """A browsing session over the websocket protocol (:func:`protocol_load` per page)."""
    end = time.perf_counter() + cfg.seconds
    i = res.index
    while time.perf_counter() < end:
        path = PAGES[i % len(PAGES)]
        i += 1
        try:
            seconds, errors = await protocol_load(base, path, cfg.load_timeout_s)
            res.loads.append(seconds)
            res.errors += errors
        except Exception as exc:
            res.errors.append(f"/{path}: {error_text(exc)}")
        await asyncio.sleep(cfg.think_s)


async def _warm(browser: Any, base: str, cfg: LoadTestConfig) -> None:
    """Open every page once (imports, model downloads from cache, first compilations): not measured."""
    ctx = await browser.new_context()
    try:
        pg = await ctx.new_page()
        for path in PAGES:
            await open_timed(pg, f"{base}/{path}", max(cfg.load_timeout_s, 300.0))
    finally:
        await ctx.close()


async def _classroom(base: str, cfg: LoadTestConfig, spare: int | None = None,
                     server: dict[str, Any] | None = None) -> list[SessionResult]:
    try:
        from playwright.async_api import async_playwright
    except ImportError as exc:
        raise LoadTestError("the load test needs Playwright (pip install playwright)") from exc
    if not Path(cfg.chromium).exists():
        raise LoadTestError(f"no Chromium at {cfg.chromium} (apt-get install chromium, or set STYLELAB_CHROMIUM)")
    results = [SessionResult(i, kind, client) for i, (kind, client) in enumerate(zip(cfg.plan(), cfg.clients()))]
    ramp = cfg.ramp_s if cfg.ramp_s is not None else min(10.0, cfg.seconds / 4)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=cfg.chromium, headless=True, args=CHROMIUM_ARGS)
        nice = lower_priority(cfg.client_nice, spare=spare) if cfg.client_nice else None
        if server is not None:
            server["client_nice"] = nice
        keeper = asyncio.create_task(keep_priority(cfg.client_nice, spare)) if cfg.client_nice else None
        try:
            if cfg.warmup:
                await _warm(browser, base, cfg)

            async def one(res: SessionResult) -> None:
                await asyncio.sleep(ramp * res.index / max(1, len(results)))
                if res.client == "protocol" and res.kind == "browse":
                    await protocol_browse_session(base, res, cfg)
                elif res.client == "protocol":
                    await protocol_heavy_session(base, res, cfg)
                elif res.kind == "browse":
                    await browse_session(browser, base, res, cfg)
                else:
                    await heavy_session(browser, base, res, cfg)

            await asyncio.gather(*(one(r) for r in results))
        finally:
            if keeper is not None:
                keeper.cancel()
            await browser.close()
    return results


def _in_thread(make_coro):
    """``asyncio.run(make_coro())`` in a new thread; its result (or its exception) here."""
    out: dict[str, Any] = {}

    def work() -> None:
        try:
            out["result"] = asyncio.run(make_coro())
        except BaseException as exc:  # re-raised in the caller's thread
            out["error"] = exc

    thread = threading.Thread(target=work, name="stylelab-loadtest")
    thread.start()
    thread.join()
    if "error" in out:
        raise out["error"]
    return out["result"]


def lower_priority(nice: int, spare: int | None = None) -> int | None:
    """Lower the OS priority of the calling thread and of every process this one started (the
    Playwright driver, Chromium and its renderers) to ``nice``, except ``spare``'s process tree (the
    server under test). Linux only (per-thread nice); elsewhere nothing changes and None is returned.
    Never raises a priority. Returns the calling thread's niceness afterwards."""
    if not (sys.platform.startswith("linux") and hasattr(os, "setpriority")):
        return None
    import contextlib

    tid = threading.get_native_id()
    with contextlib.suppress(OSError):
        if os.getpriority(os.PRIO_PROCESS, tid) < nice:
            os.setpriority(os.PRIO_PROCESS, tid, nice)
    spared = {p.pid for p in _tree(spare)} if spare else set()
    for proc in _tree(os.getpid())[1:]:
        if proc.pid in spared:
            continue
        with contextlib.suppress(Exception):  # a renderer that just exited
            # Linux keeps a nice value per thread: Chromium's compositor and IO threads, and the
            # priorities Chromium gives its own processes (the GPU process asks for -8), each need it
            for thread in proc.threads():
                with contextlib.suppress(OSError):
                    if os.getpriority(os.PRIO_PROCESS, thread.id) < nice:
                        os.setpriority(os.PRIO_PROCESS, thread.id, nice)
    return os.getpriority(os.PRIO_PROCESS, tid)


async def keep_priority(nice: int, spare: int | None, period_s: float = 2.0) -> None:
    """:func:`lower_priority` every ``period_s`` seconds until cancelled: Chromium starts a renderer
    process for every new tab, and those inherit nothing from the priority set at launch."""
    while True:
        await asyncio.sleep(period_s)
        await asyncio.to_thread(lower_priority, nice, spare)


def run_loadtest(cfg: LoadTestConfig) -> dict[str, Any]:
    """Run the classroom of ``cfg`` and return ``{"config", "summary", "sessions"}`` (JSON-able).

    Starts the app from ``cfg.app_dir`` (default: this checkout) unless ``cfg.url`` is given;
    then the server's memory and CPU are measured only with ``cfg.server_pid``.
    """
    from contextlib import nullcontext

    app_dir = cfg.app_dir or str(Path(__file__).resolve().parents[2])
    server_cm: Any = nullcontext() if cfg.url else AppServer(app_dir)
    with server_cm as srv:
        base = (cfg.url or srv.url).rstrip("/")
        if cfg.url:
            wait_healthy(base, None, timeout=cfg.load_timeout_s)
        pid = cfg.server_pid if cfg.url else srv.proc.pid
        server: dict[str, Any] = {"url": base, "app_dir": None if cfg.url else str(srv.app_dir),
                                  "log": None if cfg.url else str(srv.log_path)}
        sampler = RssSampler(pid) if pid else None
        if sampler:
            sampler.__enter__()
        t0 = time.perf_counter()
        try:
            # in a thread of its own: the lowered priority stays with it (a server started later by
            # this thread, such as the bench's second one, would inherit it)
            results = _in_thread(lambda: _classroom(base, cfg, spare=None if cfg.url else pid, server=server))
            if pid:  # every tab is closed now: a freed run costs the server no more CPU
                time.sleep(cfg.free_wait_s)  # a script run in flight finishes its tick; idle runs are evicted
                c0 = tree_cpu_s(pid)
                time.sleep(cfg.settle_s)
                server["cpu_after_close_pct"] = 100.0 * (tree_cpu_s(pid) - c0) / cfg.settle_s
                server["rss_end_mb"] = tree_rss_mb(pid)
        finally:
            if sampler:
                sampler.__exit__()
        server["wall_s"] = time.perf_counter() - t0
        if sampler:
            server["peak_rss_mb"] = sampler.peak_mb
    rows = [asdict(r) for r in results]
    config = {k: v for k, v in asdict(cfg).items()}
    config["kinds"] = list(cfg.kinds)
    return {"config": config, "summary": summarize(rows, server, cfg.rss_cap_mb), "sessions": rows}


# ----------------------------------------------------------------------------- the command
def format_report(result: Mapping[str, Any]) -> str:
    """A short text report: one line per session, then the summary and the aims."""
    s = result["summary"]
    lines = [f"{'#':>3} {'kind':<7} {'client':<8} {'loads':>5} {'load p50 s':>10} {'steps':>6} {'steps/s':>8}  errors"]
    for r in result["sessions"]:
        p50 = percentile(r["loads"], 50)
        lines.append(f"{r['index']:>3} {r['kind']:<7} {r['client']:<8} {len(r['loads']):>5} {_f(p50):>10} {r['steps']:>6} "
                     f"{_f(r['rate']):>8}  {len(r['errors'])}" + (f" ({r['errors'][0][:80]})" if r["errors"] else ""))
    pl = s["page_load_s"]
    lines += [""] + [f"page loads{f' ({c})' if c else ''}: n={x['n']} p50={_f(x['p50'])} s p95={_f(x['p95'])} s "
                     f"max={_f(x['max'])} s" for c, x in [("", pl), *pl.get("by_client", {}).items()]]
    for kind, k in s["kinds"].items():
        if kind != "browse":
            lines.append(f"{kind}: {k['sessions']} sessions, steps {k['steps_min']}..{k['steps_max']}, "
                         f"fairness {_f(k['fairness'])}, first step after <= {_f(k['first_step_s_max'])} s")
    srv = s["server"]
    lines.append(f"errors: {s['errors']} · server peak RSS {_f(srv.get('peak_rss_mb'))} MB (cap {srv['rss_cap_mb']:g}) · "
                 f"CPU after close {_f(srv.get('cpu_after_close_pct'))} %")
    lines += [f"  [{'ok' if ok else '--' if ok is None else 'MISSED'}] {aim}" for aim, ok in s["aims"].items()]
    return "\n".join(lines)


def _f(v: Any) -> str:
    return "-" if v is None else f"{v:.3g}" if isinstance(v, float) else str(v)


def add_arguments(p: argparse.ArgumentParser) -> None:
    d = LoadTestConfig()
    p.add_argument("--url", help="a running app (default: start one from --app-dir)")
    p.add_argument("--app-dir", help="the checkout to start the app from (default: this one)")
    p.add_argument("--sessions", type=int, default=d.sessions, help="browser sessions in all")
    p.add_argument("--heavy", type=int, default=None, help="how many of them run a lab (default: two thirds)")
    p.add_argument("--kinds", default=",".join(d.kinds), help=f"heavy kinds to cycle through ({','.join(HEAVY_KINDS)})")
    p.add_argument("--protocol-browse", type=int, default=None,
                   help="browsing sessions over Streamlit's websocket protocol, not tabs (default: all but two)")
    p.add_argument("--tabs-only", action="store_true",
                   help="every heavy session in a browser tab (default: GAN Lab and Gatys sessions after the first "
                        "of each kind speak the protocol)")
    p.add_argument("--seconds", type=float, default=d.seconds, help="how long each session lasts")
    p.add_argument("--poll", type=float, default=d.poll_s, help="seconds between two progress readings")
    p.add_argument("--ramp", type=float, default=None, help="seconds over which the sessions start (default: min(10, seconds/4))")
    p.add_argument("--settle", type=float, default=d.settle_s, help="seconds of server CPU measured after every tab closed")
    p.add_argument("--free-wait", type=float, default=d.free_wait_s,
                   help="seconds to wait after every tab closed before measuring the server's CPU "
                        "(at least the server's STYLELAB_IDLE_S plus its housekeeping period)")
    p.add_argument("--server-pid", type=int, default=None, help="with --url: the server's pid, to measure its memory")
    p.add_argument("--rss-cap-mb", type=float, default=d.rss_cap_mb, help="the server memory cap the aim checks")
    p.add_argument("--no-warmup", action="store_true", help="measure the first (cold) load of every page too")
    p.add_argument("--client-nice", type=int, default=d.client_nice,
                   help="OS priority of the load test's own tabs and sockets, set once the server is up "
                        f"(default {d.client_nice}: they stand in for the students' laptops; 0: compete with the server)")
    p.add_argument("--json", action="store_true", help="print the whole result as JSON")
    p.add_argument("--out", help="also write the JSON result to this file")


def config_from_args(args: argparse.Namespace) -> LoadTestConfig:
    return LoadTestConfig(sessions=args.sessions, seconds=args.seconds, heavy=args.heavy,
                          kinds=tuple(k.strip() for k in args.kinds.split(",") if k.strip()), url=args.url,
                          app_dir=args.app_dir, server_pid=args.server_pid, protocol_browse=args.protocol_browse,
                          protocol_heavy=not args.tabs_only, poll_s=args.poll, ramp_s=args.ramp,
                          settle_s=args.settle, free_wait_s=args.free_wait, rss_cap_mb=args.rss_cap_mb, warmup=not args.no_warmup,
                          client_nice=args.client_nice)


def _run(args: argparse.Namespace) -> int:
    result = run_loadtest(config_from_args(args))
    text = json.dumps(result, indent=2, allow_nan=False)
    if args.out:
        Path(args.out).write_text(text + "\n")
    print(text if args.json else format_report(result))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("loadtest", help="a classroom of headless browser sessions against the app, measured")
    add_arguments(p)
    p.set_defaults(func=_run)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m stylelab.serve.loadtest ...`` (the same as ``python -m stylelab loadtest ...``)."""
    from ..entry import run_main

    def body(a: Sequence[str] | None) -> int:
        p = argparse.ArgumentParser(prog="python -m stylelab loadtest", description=__doc__.splitlines()[0])
        add_arguments(p)
        return _run(p.parse_args(a))

    return run_main(body, argv)


if __name__ == "__main__":
    sys.exit(main())
