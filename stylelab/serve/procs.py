"""The process backend: every training worker is its own Python process, outside the server's lock.

Why: with the thread backend every student's run steps in a thread of the Streamlit server, and
Python runs one thread at a time (the interpreter lock). Under a class's load the lock, not the
cores, was the limit: a profile found it held 62 % of the time, and a new tab's first message
waited 35 s for the event loop while its script then ran in 0.14 s. Here each worker is a child
process (``python -m stylelab.serve.procs``) with its own interpreter, torch threads and OS
priority; the server only draws.

The page still draws and changes Run objects, so a run travels (:mod:`stylelab.serve.courier`:
frozen feature nets, data sets and other large unchanging objects cross once, then by key):

==================  =====================================================================
build               the page's Run (or its recipe) goes to the worker, which keeps it
slice               the worker steps it; back come the rows, the step count, a preview
copy                a copy of the live run, taken between two steps: the page draws it
checkout / checkin  the page borrows the run between two steps (the worker waits), changes
                    it (a live setting, ``extend``) and sends it back
state_dict, record  read back; ``drop`` frees it
request_stop        answered at once by the worker's reader thread: Stop within one step
==================  =====================================================================

Messages are length-prefixed pickles over the child's stdin and a private copy of its stdout (the
child's own prints go to stderr). Both ends are this server's own processes; nothing from a user
is unpickled here (uploads and checkpoints are loaded with ``weights_only=True`` elsewhere).

A worker that dies (killed, out of memory) fails the calls waiting on it with a clear
:class:`~stylelab.errors.StylelabError`; the runs it held are lost (the scheduler marks them
failed) and the next call starts a fresh worker in its place.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import itertools
import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import ConfigError, StylelabError
from .backends import Backend, BuildInfo, RunHost, SliceResult
from .courier import Courier, ShippingError

_HEADER = struct.Struct("!Q")
#: seconds a page may borrow a run before the worker takes it back (a lost page must not stall it)
LEASE_S = 60.0
#: the worker's interpreter switch interval (seconds): short, so its reader thread answers quickly
SWITCH_S = 0.0005
#: seconds a page's cached copy of a moving run is reused before a new copy is asked for
MIRROR_S = 1.0


def _send(stream: BinaryIO, obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _recv(stream: BinaryIO) -> Any:
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        raise EOFError
    size = _HEADER.unpack(head)[0]
    chunks, got = [], 0
    while got < size:
        chunk = stream.read(min(size - got, 1 << 22))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        got += len(chunk)
    return pickle.loads(b"".join(chunks))


# ----------------------------------------------------------------------------- the worker process
class _Worker:
    """The child's side: one :class:`RunHost`, a courier to the server, and its request loop."""

    def __init__(self, inp: BinaryIO, out: BinaryIO, threads: int) -> None:
        self.inp, self.out = inp, out
        self.host = RunHost(threads, 0)
        self.courier = Courier(live_rows=True)
        self.send_lock = threading.Lock()
        self.work: queue.Queue = queue.Queue()
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="stylelab-proc-io")
        self.leases: dict[str, str] = {}
        self.lease_ids = itertools.count()

    def reply(self, rid: int, ok: bool, value: Any) -> None:
        # the answer is pickled on its own, so the server can fail this one call if it cannot read it
        try:
            blob = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # an unpicklable result or error
            ok, blob = False, pickle.dumps(StylelabError(f"The worker's answer could not be sent: {exc}"))
        with self.send_lock:
            _send(self.out, (rid, ok, blob))

    def handle(self, rid: int, method: str, args: tuple) -> None:
        try:
            value = getattr(self, "do_" + method)(*args)
        except BaseException as exc:  # every failure goes back to the caller, the worker lives on
            try:
                pickle.dumps(exc)
            except Exception:
                exc = StylelabError(f"{type(exc).__name__}: {exc}")
            self.reply(rid, False, exc)
            return
        self.reply(rid, True, value)

    def serve(self) -> None:
        main = threading.Thread(target=self._work_loop, daemon=True, name="stylelab-proc-main")
        main.start()
        while True:
            try:
                rid, method, args = _recv(self.inp)
            except EOFError:
                return
            if method == "exit":
                return
            if method == "request_stop":  # at once, even while a slice runs
                self.host.request_stop(*args)
            elif method in ("build", "slice"):
                self.work.put((rid, method, args))
            else:
                self.pool.submit(self.handle, rid, method, args)

    def _work_loop(self) -> None:
        while True:
            rid, method, args = self.work.get()
            self.handle(rid, method, args)

    # -- the calls ------------------------------------------------------------------------
    def do_ping(self) -> int:
        return os.getpid()

    def do_build(self, run_id: str, recipe: tuple, state: Mapping | None) -> BuildInfo:
        if recipe[0] == "instance":
            run = self.courier.loads(run_id, recipe[1])
            return self.host.build(run_id, None, (), {}, state, instance=run, tune=False)
        _, factory, args, kwargs = recipe
        return self.host.build(run_id, factory, args, kwargs, state, tune=False)

    def do_slice(self, run_id: str, budget_s: float, epoch: int, want_preview: bool, measure: bool) -> SliceResult:
        return self.host.slice(run_id, budget_s, epoch, want_preview, measure)

    def do_copy(self, run_id: str) -> bytes:
        with self.host.borrow(run_id) as run:
            if run is None:
                raise StylelabError(f"Run {run_id} is not on this worker (it was freed or evicted).")
            return self.courier.dumps(run_id, run)

    def do_checkout(self, run_id: str, lease_s: float) -> tuple[str, bytes]:
        with self.host.borrow(run_id) as run:
            if run is None:
                raise StylelabError(f"Run {run_id} is not on this worker (it was freed or evicted).")
            lease = f"{run_id}.{next(self.lease_ids)}"
            self.host.lease(run_id, lease, lease_s)  # the slice waits before its next step
            try:
                return lease, self.courier.dumps(run_id, run)
            except BaseException:
                self.host.release(run_id, lease)
                raise

    def do_checkin(self, run_id: str, lease: str, blob: bytes | None) -> bool:
        if blob is None:
            return self.host.release(run_id, lease)
        try:
            run = self.courier.loads(run_id, blob)
        except BaseException:
            self.host.release(run_id, lease)  # the run goes on unchanged; shipping starts afresh
            self.courier.forget(run_id)
            raise
        return self.host.release(run_id, lease, replace=run)

    def do_state_dict(self, run_id: str) -> dict[str, Any]:
        return self.host.state_dict(run_id)

    def do_record(self, run_id: str, notes: str = "") -> Any:
        return self.host.record(run_id, notes)

    def do_forget(self, run_id: str) -> None:
        """Start this run's shipping afresh (the server lost a transfer): everything goes whole next time."""
        self.courier.forget(run_id)

    def do_drop(self, run_id: str) -> None:
        self.host.drop(run_id)
        self.courier.forget(run_id)

    def do_count(self) -> int:
        return self.host.count()


def worker_main(argv: list[str] | None = None) -> None:
    """``python -m stylelab.serve.procs THREADS NICE``: a worker process of the process backend."""
    argv = sys.argv[1:] if argv is None else argv
    threads, nice = int(argv[0]), int(argv[1])
    inp = os.fdopen(os.dup(0), "rb")
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # the child's own prints go to stderr, never into the protocol
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    if nice > 0 and hasattr(os, "nice"):
        with contextlib.suppress(OSError):
            os.nice(nice)
    # The training loop holds the interpreter lock between torch calls; a copy or stop request
    # waiting for the lock would wait up to the switch interval at every hand-over (5 ms by default).
    sys.setswitchinterval(SWITCH_S)
    import torch

    torch.set_num_threads(threads)
    _Worker(inp, out, threads).serve()


# ----------------------------------------------------------------------------- the server's side
class _Peer:
    """One worker process as the server sees it: its pipe, a courier, the calls waiting for answers."""

    def __init__(self, index: int, threads: int, nice: int) -> None:
        import stylelab

        self.index = index
        root = str(Path(stylelab.__file__).resolve().parents[1])
        env = dict(os.environ)
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(threads)
        self.proc = subprocess.Popen([sys.executable, "-m", "stylelab.serve.procs", str(threads), str(nice)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, close_fds=True)
        self.courier = Courier()
        self._send_lock = threading.Lock()
        self._ids = itertools.count()
        self._waiting: dict[int, concurrent.futures.Future] = {}
        self._lock = threading.Lock()
        self.dead: str | None = None
        self._reader = threading.Thread(target=self._read_loop, daemon=True, name=f"stylelab-proc-reader-{index}")
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _read_loop(self) -> None:
        try:
            while True:
                rid, ok, blob = _recv(self.proc.stdout)
                with self._lock:
                    fut = self._waiting.pop(rid, None)
                if fut is None:
                    continue
                try:
                    value = pickle.loads(blob)
                except Exception as exc:  # e.g. an error class this process cannot import
                    fut.set_exception(StylelabError(f"The worker's answer could not be read: {type(exc).__name__}: {exc}"))
                    continue
                if ok:
                    fut.set_result(value)
                else:
                    fut.set_exception(value if isinstance(value, BaseException) else StylelabError(str(value)))
        except Exception as exc:  # the pipe broke or the worker is gone
            code = self.proc.poll()
            self.dead = (f"the worker process {self.proc.pid} stopped (exit code {code})" if code is not None
                         else f"the connection to worker process {self.proc.pid} broke ({type(exc).__name__})")
            with self._lock:
                waiting, self._waiting = self._waiting, {}
            for fut in waiting.values():
                fut.set_exception(StylelabError(f"{self.dead[0].upper()}{self.dead[1:]}; start the run again."))

    def _post(self, method: str, args: tuple, fut: concurrent.futures.Future | None) -> None:
        if self.dead:
            raise StylelabError(f"{self.dead[0].upper()}{self.dead[1:]}; start the run again.")
        rid = next(self._ids)
        if fut is not None:
            with self._lock:
                self._waiting[rid] = fut
        try:
            with self._send_lock:
                _send(self.proc.stdin, (rid, method, args))
        except (BrokenPipeError, OSError, ValueError) as exc:
            with self._lock:
                self._waiting.pop(rid, None)
            raise StylelabError(f"The worker process {self.proc.pid} is gone ({exc}); start the run again.") from None

    def call(self, method: str, *args: Any, timeout: float | None = None) -> Any:
        fut: concurrent.futures.Future = concurrent.futures.Future()
        self._post(method, args, fut)
        try:
            return fut.result(timeout=timeout)
        except concurrent.futures.TimeoutError:
            raise StylelabError(f"The worker did not answer {method!r} within {timeout:g} s (it is busy); "
                                "please try again.") from None

    def post(self, method: str, *args: Any) -> None:
        """Send without waiting for an answer (``request_stop``)."""
        with contextlib.suppress(StylelabError):
            self._post(method, args, None)

    def close(self, timeout: float = 10.0) -> None:
        with contextlib.suppress(Exception):
            self._post("exit", (), None)
        with contextlib.suppress(Exception):
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=timeout)
        with contextlib.suppress(Exception):
            self.proc.stdout.close()


class ProcessBackend(Backend):
    """Workers are child processes of the server (CPU cores, ``threads`` torch threads each).

    Runs are pinned to the worker that built them. Pages read a copy of the live run
    (:meth:`copy`, :meth:`instance`) and change it through :meth:`borrow`, which sends it back.
    """

    name = "process"
    pinned = True
    ships_instances = True
    local_runs = False

    def __init__(self, workers: int, threads: int, nice: int = 5) -> None:
        if workers < 1 or threads < 1:
            raise ConfigError(f"The process backend needs workers >= 1 and threads >= 1, got {workers} x {threads}.")
        self.workers, self.threads, self.nice = workers, threads, nice
        self._peers = [_Peer(i, threads, nice) for i in range(workers)]
        self._lock = threading.Lock()
        self._where: dict[str, int] = {}
        self._xfer: dict[str, threading.RLock] = {}
        self._steps: dict[str, int] = {}
        self._mirror: dict[str, tuple[float, Any]] = {}
        self._issued: dict[str, weakref.WeakSet] = {}
        self.pids = [p.call("ping", timeout=120) for p in self._peers]

    # -- helpers ----------------------------------------------------------------------------
    def _peer(self, w: int) -> _Peer:
        with self._lock:
            peer = self._peers[w]
            if peer.dead:  # start a fresh worker in its place; the runs it held are gone
                peer = self._peers[w] = _Peer(w, self.threads, self.nice)
                for rid in [r for r, x in self._where.items() if x == w]:
                    self._where.pop(rid, None)
            return peer

    def _on(self, run_id: str) -> _Peer | None:
        with self._lock:
            w = self._where.get(run_id)
        return None if w is None else self._peer(w)

    def _xlock(self, run_id: str) -> threading.RLock:
        with self._lock:
            return self._xfer.setdefault(run_id, threading.RLock())

    def _issue(self, run_id: str, run: Any) -> None:
        with self._lock:
            self._issued.setdefault(run_id, weakref.WeakSet()).add(run)

    def pid_of(self, w: int) -> int:
        return self._peer(w).pid

    # -- the Backend interface ---------------------------------------------------------------
    def build(self, w, run_id, factory, args, kwargs, state=None, instance=None):
        peer = self._peer(w)
        with self._xlock(run_id):
            recipe: tuple
            if instance is not None:
                try:
                    recipe = ("instance", peer.courier.dumps(run_id, instance))
                except ShippingError:
                    recipe = ("factory", factory, tuple(args), dict(kwargs))  # rebuilt from its record
            else:
                recipe = ("factory", factory, tuple(args), dict(kwargs))
            try:
                info = peer.call("build", run_id, recipe, state)
            except (pickle.PicklingError, TypeError, AttributeError) as exc:
                raise ConfigError(f"This run cannot be sent to a worker process: {exc}") from exc
            with self._lock:
                self._where[run_id] = w
                self._steps[run_id] = info.step_count
        return info

    def slice(self, w, run_id, budget_s, epoch, want_preview, measure):
        res = self._peer(w).call("slice", run_id, budget_s, epoch, want_preview, measure)
        with self._lock:
            self._steps[run_id] = res.step_count
        return res

    def request_stop(self, run_id, epoch):
        peer = self._on(run_id)
        if peer is not None:
            peer.post("request_stop", run_id, epoch)

    def state_dict(self, run_id):
        peer = self._on(run_id)
        if peer is None:
            raise StylelabError(f"Run {run_id} is not on any worker (it was freed or evicted).")
        return peer.call("state_dict", run_id)

    def record(self, run_id, notes=""):
        peer = self._on(run_id)
        if peer is None:
            raise StylelabError(f"Run {run_id} is not on any worker (it was freed or evicted).")
        return peer.call("record", run_id, notes)

    def drop(self, run_id):
        with self._lock:
            w = self._where.pop(run_id, None)
            self._steps.pop(run_id, None)
            self._mirror.pop(run_id, None)
            self._issued.pop(run_id, None)
            self._xfer.pop(run_id, None)
        if w is None or w >= len(self._peers):
            return
        peer = self._peers[w]
        if not peer.dead:
            with contextlib.suppress(StylelabError):
                peer.call("drop", run_id, timeout=60)
        peer.courier.forget(run_id)

    # -- the page's view of a run ---------------------------------------------------------------
    def copy(self, run_id: str, timeout: float = 30.0) -> Any:
        """A copy of the live run taken between two of its steps (None when no worker holds it)."""
        peer = self._on(run_id)
        if peer is None:
            return None
        lock = self._xlock(run_id)
        if not lock.acquire(timeout=timeout):
            raise StylelabError(f"The run {run_id} stayed busy for {timeout:g} s; please try again.")
        try:
            run = self._fetch(peer, run_id, "copy", timeout)
        finally:
            lock.release()
        with self._lock:
            self._mirror[run_id] = (time.monotonic(), run)
        self._issue(run_id, run)
        return run

    def _fetch(self, peer: _Peer, run_id: str, what: str, timeout: float) -> Any:
        """``copy`` -> the run; ``checkout`` -> (lease, run). Once, if the two ends' shipping tables
        disagree (a transfer was lost: a timeout, an error mid-way), both start that run afresh."""
        for attempt in (0, 1):
            answer = peer.call(what, run_id, *((LEASE_S,) if what == "checkout" else ()), timeout=timeout)
            lease, blob = answer if what == "checkout" else (None, answer)
            try:
                run = peer.courier.loads(run_id, blob)
            except ShippingError:
                if lease is not None:
                    peer.call("checkin", run_id, lease, None, timeout=timeout)
                if attempt:
                    raise
                peer.call("forget", run_id, timeout=timeout)
                peer.courier.forget(run_id)
                continue
            return (lease, run) if what == "checkout" else run
        raise AssertionError("unreachable")  # pragma: no cover

    def instance(self, run_id):
        """The latest copy of the run (a new one when it moved on and the last is over
        :data:`MIRROR_S` old); None when no worker holds it. Read it, do not change it: change
        the run inside :meth:`borrow`."""
        with self._lock:
            if run_id not in self._where:
                return None
            cached, steps = self._mirror.get(run_id), self._steps.get(run_id)
        if cached is not None:
            at, run = cached
            if run.step_count == steps or time.monotonic() - at < MIRROR_S:
                return run
        try:
            return self.copy(run_id)
        except (StylelabError, ShippingError):
            return cached[1] if cached is not None else None

    def issued(self, run_id: str, run: Any) -> bool:
        """Whether ``run`` is a copy of ``run_id`` this backend handed out (a page passes it back)."""
        with self._lock:
            got = self._issued.get(run_id)
            return got is not None and run in got

    @contextlib.contextmanager
    def borrow(self, run_id, timeout=30.0, fallback=None):
        """``with backend.borrow(run_id) as run:`` the run between two steps (the worker waits),
        sent back to the worker when the block ends, with whatever the block changed. Before a
        worker holds it: ``fallback`` (the page's own object, not stepped yet)."""
        lock = self._xlock(run_id)
        if not lock.acquire(timeout=timeout):
            raise StylelabError(f"The run {run_id} stayed busy for {timeout:g} s; please try again.")
        try:
            peer = self._on(run_id)
            if peer is None:
                yield fallback
                return
            lease, run = self._fetch(peer, run_id, "checkout", timeout)
            try:
                yield run
            finally:
                try:
                    back = peer.courier.dumps(run_id, run)
                except ShippingError as exc:
                    peer.call("checkin", run_id, lease, None, timeout=timeout)
                    raise StylelabError(f"The change could not be sent to the worker: {exc}") from exc
                try:
                    applied = peer.call("checkin", run_id, lease, back, timeout=timeout)
                except BaseException:
                    peer.courier.forget(run_id)  # the worker forgot its side too
                    raise
                if not applied:
                    raise StylelabError("The worker took the run back before the change arrived "
                                        f"(it was borrowed over {LEASE_S:g} s); please try again.")
                with self._lock:
                    self._mirror[run_id] = (time.monotonic(), run)
                    self._steps[run_id] = run.step_count
                self._issue(run_id, run)
        finally:
            lock.release()

    def describe(self) -> str:
        return f"process: {self.workers} worker process(es) x {self.threads} torch thread(s)"

    def shutdown(self) -> None:
        for peer in self._peers:
            peer.close()
        self._peers = []


if __name__ == "__main__":  # pragma: no cover - the child process
    worker_main()
