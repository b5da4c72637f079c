"""Device, dtype and thread helpers.

``get_device()`` picks CUDA, then Apple MPS, then CPU (overridable with ``STYLELAB_DEVICE``).
``autocast(device)`` gives the fast mixed-precision context for that device: bfloat16 on CPUs
with native bf16 (measured 1.8-1.9x on VGG, see docs/performance.md) and on CUDA; never float16 on CPU.

There is no global seeding helper: every run owns its ``torch.Generator`` s
(:func:`stylelab.run.make_generator`), because every Streamlit session of a server shares torch's
global RNG and seeding it from one session would change another's numbers.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import torch


def get_device(prefer: str | None = None) -> "torch.device":
    """Return the best available device, or ``prefer`` / ``$STYLELAB_DEVICE`` if given.

    Args:
        prefer: ``"cuda"``, ``"cuda:1"``, ``"mps"``, ``"cpu"`` or None for automatic.

    Raises:
        ConfigError: if the requested device is not available on this machine.
    """
    import torch

    from .errors import ConfigError

    want = prefer or os.environ.get("STYLELAB_DEVICE") or ""
    if want:
        dev = torch.device(want)
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise ConfigError(f"Device {want!r} was requested but CUDA is not available here.")
        if dev.type == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
            raise ConfigError(f"Device {want!r} was requested but Apple MPS is not available here.")
        return dev
    if torch.cuda.is_available():
        return torch.device("cuda")
    if hasattr(torch.backends, "mps") and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def describe_device(device: "torch.device | str | None" = None) -> str:
    """One human line about the device, e.g. ``"CPU (2 threads, bf16 fast path)"``."""
    import torch

    dev = torch.device(device) if device is not None else get_device()
    if dev.type == "cuda":
        idx = dev.index or 0
        props = torch.cuda.get_device_properties(idx)
        return f"CUDA: {props.name} ({props.total_memory / 2**30:.0f} GiB)"
    if dev.type == "mps":
        return "Apple MPS"
    bf16 = " , bf16 fast path" if cpu_has_fast_bf16() else ""
    return f"CPU ({torch.get_num_threads()} threads{bf16})".replace(" ,", ",")


def cpu_has_fast_bf16() -> bool:
    """True where the CPU has native bf16 matmul (AVX512-BF16 / AMX); docs/performance.md: 2.2x fp32."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            flags = fh.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def fast_dtype(device: "torch.device | str") -> "torch.dtype":
    """The reduced-precision dtype worth using on ``device`` (bf16 or fp32, never fp16 on CPU)."""
    import torch

    dev = torch.device(device)
    if dev.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if dev.type == "cpu" and cpu_has_fast_bf16():
        return torch.bfloat16
    return torch.float32


@contextlib.contextmanager
def autocast(device: "torch.device | str", enabled: bool = True) -> Iterator[None]:
    """Mixed-precision context for ``device``: bf16 where it pays, a no-op elsewhere."""
    import torch

    dev = torch.device(device)
    dtype = fast_dtype(dev)
    if not enabled or dtype == torch.float32 or dev.type not in ("cpu", "cuda"):
        yield
        return
    with torch.autocast(device_type=dev.type, dtype=dtype):
        yield


def configure_threads(n: int | None = None) -> int:
    """Set torch's intra-op threads (default: the number of CPU cores available, docs/performance.md: >2 does not help)."""
    import torch

    if n is None:
        n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    n = max(1, int(n))
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run with ``n`` intra-op threads (0: unchanged), restoring the previous setting after.

    OpenMP's count is per thread: this sets it for the calling thread (a worker's, a page's)."""
    import torch

    before = torch.get_num_threads()
    if n <= 0 or n == before:
        yield
        return
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


#: glibc ``mallopt`` parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_ALLOCATOR_TUNED: bool | None = None


def tune_allocator(threshold_mb: int = 256) -> bool:
    """Let the C allocator keep freed large blocks for reuse (glibc on Linux; elsewhere a no-op).

    By default glibc serves every large block (a feature map of a few MB) with a fresh ``mmap``
    and returns it with ``munmap`` when torch frees it, so every forward pass page-faults its
    activations in again. Raising the mmap and trim thresholds keeps up to ``threshold_mb`` of
    freed memory in the process. Measured on the 2-core Zen 4 CPU (26-style network, median of
    11): 256 px 30.6 -> 19.7 ms, 512 px 126 -> 70 ms (bf16 weights), 249 -> 113 ms (fp32);
    Gatys 512 px 0.97 -> 0.91 s/step. The price is resident memory that is not handed back
    (Gatys 512 px peak 1.43 -> 1.47 GB). The same effect as running under jemalloc/tcmalloc.

    Process-wide, so the library never calls it on import: the app, the CLI, the benchmarks and
    the training entry points do. ``STYLELAB_TUNE_MALLOC=0`` turns it off.

    Returns:
        True if the thresholds were set (now or by an earlier call).
    """
    global _ALLOCATOR_TUNED
    if _ALLOCATOR_TUNED is not None:
        return _ALLOCATOR_TUNED
    _ALLOCATOR_TUNED = False
    if os.environ.get("STYLELAB_TUNE_MALLOC", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl or another libc without mallopt
        return False
    value = int(threshold_mb) * 2**20
    _ALLOCATOR_TUNED = bool(mallopt(_M_MMAP_THRESHOLD, value)) and bool(mallopt(_M_TRIM_THRESHOLD, value))
    return _ALLOCATOR_TUNED
