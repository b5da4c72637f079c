"""Lazy re-exports for the lab packages (PEP 562), written once.

Each lab package (``stylelab.losses``, ``.style``, ``.gan``, ``.inpaint``, ``.aesthetics``)
re-exports its public names without importing torch-heavy submodules until a name is used, so
``python -m stylelab --help`` and the home page stay fast::

    __all__, __getattr__, __dir__ = lazy_exports(__name__, {"pixel": ("mse", "psnr")}, globals())

Module paths are relative to the package (``"pixel"``) or explicit relative imports
(``"..losses.aesthetic"``). ``submodules`` may be reached as attributes without importing them first.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def lazy_exports(
    package: str,
    modules: Mapping[str, Iterable[str]],
    namespace: dict[str, Any],
    submodules: Iterable[str] = (),
) -> tuple[list[str], Callable[[str], Any], Callable[[], list[str]]]:
    """Return ``(__all__, __getattr__, __dir__)`` for ``package`` exporting ``modules``' names."""
    exports = {name: module for module, names in modules.items() for name in names}
    subs = frozenset(submodules)

    def __getattr__(name: str) -> Any:
        if name in subs:
            return importlib.import_module(f".{name}", package)
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        path = module if module.startswith(".") else f".{module}"
        value = getattr(importlib.import_module(path, package), name)
        namespace[name] = value  # later look-ups skip __getattr__
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(exports))

    return sorted(exports), __getattr__, __dir__
