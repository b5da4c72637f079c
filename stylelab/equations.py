"""One registry of every equation the app and notebooks show: losses, measures and lab objectives.

Each entry says what a term is (``label``), how it is written (``latex``), which stylelab function
computes it (``fn``, where there is one), its range and direction, and its ``group``. Pages and
notebooks take their LaTeX from here, so a formula is written once.

Entries come from the modules in :data:`SOURCES`, each exporting ``EQUATIONS: list[Equation]``
(the loss registry, the aesthetic measures, and each lab's ``objectives`` module). They are
collected on first use.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError

#: groups of equations (what kind of thing the entry is)
GROUPS = ("loss", "measure", "objective", "update", "metric", "definition")
DIRECTIONS = ("lower", "higher", "")


@dataclass(frozen=True)
class Equation:
    """One equation: ``name`` is unique across stylelab (e.g. ``"loss.tv"``, ``"gan.ns_g"``)."""

    name: str
    label: str
    latex: str
    group: str
    fn: Callable[..., Any] | None = None
    range: tuple[float, float] | None = None
    direction: str = ""
    lab: str = ""
    description: str = ""

    def __post_init__(self) -> None:
        if self.group not in GROUPS:
            raise ConfigError(f"Equation {self.name!r}: group {self.group!r} is not one of {GROUPS}.")
        if self.direction not in DIRECTIONS:
            raise ConfigError(f"Equation {self.name!r}: direction {self.direction!r} is not one of {DIRECTIONS}.")
        if not self.latex.strip():
            raise ConfigError(f"Equation {self.name!r} has no LaTeX.")


#: modules that export ``EQUATIONS``
SOURCES: tuple[str, ...] = (
    "stylelab.losses.registry",
    "stylelab.aesthetics.scorecard",
    "stylelab.style.objectives",
    "stylelab.gan.objectives",
    "stylelab.inpaint.objectives",
    "stylelab.aesthetics.objectives",
    "stylelab.losses.objectives",
    "stylelab.translate.objectives",
)

_lock = threading.Lock()
_registry: dict[str, Equation] | None = None


def _collect() -> dict[str, Equation]:
    out: dict[str, Equation] = {}
    for module in SOURCES:
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name == module:  # a lab without objectives yet
                continue
            raise
        for eq in getattr(mod, "EQUATIONS", ()):
            if eq.name in out:
                raise ConfigError(f"Equation {eq.name!r} is registered twice ({module}).")
            out[eq.name] = eq
    return out


def registry() -> dict[str, Equation]:
    """Every equation, by name."""
    global _registry
    with _lock:
        if _registry is None:
            _registry = _collect()
        return _registry


def get(name: str) -> Equation:
    """The equation called ``name``; a :class:`ConfigError` lists close names when there is none."""
    reg = registry()
    if name not in reg:
        import difflib

        close = difflib.get_close_matches(name, list(reg), n=5)
        raise ConfigError(f"No equation called {name!r}" + (f"; did you mean {close}?" if close else "."))
    return reg[name]


def latex(name: str) -> str:
    """The LaTeX of the equation called ``name``."""
    return get(name).latex


def by_group(group: str, lab: str | None = None) -> list[Equation]:
    """The equations of one group (and lab), in registration order."""
    return [e for e in registry().values() if e.group == group and (lab is None or e.lab == lab)]
