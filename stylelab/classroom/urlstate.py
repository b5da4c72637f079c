"""A lab's set-up in the address bar: links that carry a lesson.

Every lab's controls are described here by a **schema**: one :class:`Param` per control, named by
the widget key the page uses (``keep("style_beta", ...)``), with a short, stable URL key (``b``),
its type, its allowed range or choices and its default. With it a set-up becomes a query string
and back, like TensorFlow Playground's URL state::

    params = encode("style", {"style_beta": 7.0, "style_steps": 120})
    # {"v": "1", "b": "7.0", "n": "120"}
    decode("style", params)["style_beta"]       # 7.0 (every other control: its default)

The round trip is exact: floats travel as ``repr(x)``, the shortest text that reads back as the
same double, so ``decode(lab, encode(lab, values)) == {**defaults, **values}``.

A hand-edited or hostile query string never crashes a page and is never clamped into range:
:func:`decode` checks every key and raises one :class:`UrlStateError` that lists *everything*
that was wrong ("b='99': log10 β (style) is outside [3, 8]; unknown key 'zz'"). The query is
refused outright above :data:`MAX_QUERY_BYTES` (2 kB) before anything is parsed.

Images travel by their bundled name (``photo:astronaut``, ``painting:<key>``, ``texture:brick``):
an upload or a session result has no name a link could carry (:func:`values_from_state` reports
those). Page helpers:

* :func:`values_from_state` reads a lab's controls out of ``st.session_state`` (for "Share this
  set-up"); :func:`encode` + :func:`share_url` make the link, :func:`stylelab.classroom.qr.qr_png`
  its QR code.
* :func:`decode` on ``st.query_params`` + :func:`widget_state` give ``{widget key: value}`` to
  put on the controls (``stylelab.ui.remember``) before they are drawn.
"""

from __future__ import annotations

import functools
import importlib
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from ..errors import ConfigError

#: The longest query string a link may carry (bytes of ``key=value&...``, URL-encoded).
MAX_QUERY_BYTES = 2048
#: The most keys a query string may hold (a schema has fewer than 60).
MAX_KEYS = 100
#: The version of the URL format, carried as ``v=1`` (a link from a newer format is refused).
VERSION = "1"
VERSION_KEY = "v"
#: Query keys Streamlit itself uses (``?embed=true``): never a lab control, never an error.
RESERVED_KEYS = frozenset({"embed", "embed_options", "sid"})  # sid: the class server's session token (stylelab.ui.session)
#: The lab of each Streamlit page (the URL path is the page file's name without its number).
LAB_PAGES = {"loss": "Loss_Lab", "style": "Style_Studio", "gan": "GAN_Lab", "inpaint": "Inpainting_Lab",
             "aesthetics": "Aesthetics_Lab"}
LAB_TITLES = {"loss": "Loss Lab", "style": "Style Studio", "gan": "GAN Lab", "inpaint": "Inpainting Lab",
              "aesthetics": "Aesthetics Lab"}
#: The groups of :func:`stylelab.assets.image_catalog`, as :func:`stylelab.ui.image_picker` names its sources.
IMAGE_GROUPS = ("Photos", "Paintings", "Textures")

_INT = re.compile(r"[+-]?[0-9]{1,19}")  # ASCII digits only (``\d`` would take any script's digits)
_FLOAT = re.compile(r"[+-]?([0-9]{1,30}(\.[0-9]{0,30})?|\.[0-9]{1,30})([eE][+-]?[0-9]{1,3})?")
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
KINDS = ("int", "float", "bool", "str", "image", "list")


class UrlStateError(ConfigError):
    """A link's set-up (query string) cannot be used; ``problems`` lists every reason, one line each."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [message])


@dataclass(frozen=True)
class Lazy:
    """A value owned by a library module (``"stylelab.gan.config:TOY_DATASETS"``), imported on first use,
    so the schema repeats no list the library already holds. A mapping resolves to its keys."""

    ref: str

    def resolve(self) -> Any:
        return _resolve_ref(self.ref)


@functools.cache
def _resolve_ref(ref: str) -> Any:
    module, _, attr = ref.partition(":")
    value: Any = importlib.import_module(module)
    for part in attr.split("."):
        value = getattr(value, part)
    if callable(value) and not isinstance(value, type):
        value = value()
    if isinstance(value, Mapping):
        value = list(value)
    return tuple(value) if isinstance(value, (list, tuple)) else value


def _bundled_images() -> tuple[str, ...]:
    """Every bundled picture present on this machine (``photo:astronaut``, ...), in catalogue order."""
    return tuple(name for group in _image_groups().values() for name in group)


@functools.cache
def _image_groups() -> dict[str, tuple[str, ...]]:
    from ..assets import image_catalog

    return {g: tuple(names) for g, names in image_catalog().items()}


def image_group(name: str) -> str:
    """The catalogue group (``Photos``, ``Paintings``, ``Textures``) of bundled picture ``name``."""
    for group, names in _image_groups().items():
        if name in names:
            return group
    raise UrlStateError(f"{name!r} is not a bundled picture on this machine.")


@dataclass(frozen=True)
class Param:
    """One control of a lab as it travels in a link.

    Attributes:
        name: the page's widget key (``style_beta``): what :func:`decode` returns and
            :func:`encode` takes.
        key: the short URL key (``b``); stable: changing it breaks every link already shared.
        kind: ``int``, ``float``, ``bool``, ``str`` (one of ``choices``), ``image`` (a bundled
            picture's name) or ``list`` (several of ``choices``, comma-separated; ``item`` says
            whether they are ``str`` or ``int``).
        default: the control's default on the page.
        label: what the control is called on the page (for error messages).
        lo, hi: inclusive range of a number (None: unbounded on that side).
        choices: the allowed values (a tuple or a :class:`Lazy` library reference).
        tokens: shorter URL spellings of choices (``{"rect": "Rectangle"}``).
    """

    name: str
    key: str
    kind: str
    default: Any
    label: str
    lo: float | None = None
    hi: float | None = None
    choices: tuple[Any, ...] | Lazy | None = None
    tokens: Mapping[str, Any] = field(default_factory=dict)
    item: str = "str"

    def options(self) -> tuple[Any, ...] | None:
        """The allowed values (a library reference resolved), or None for a free number in range."""
        if self.kind == "image":
            return _bundled_images()
        return self.choices.resolve() if isinstance(self.choices, Lazy) else self.choices

    def resolved_default(self) -> Any:
        value = self.default.resolve() if isinstance(self.default, Lazy) else self.default
        return list(value) if self.kind == "list" else value

    # --------------------------------------------------------------- value -> text
    def to_text(self, value: Any) -> str:
        """The URL text of ``value`` (validated first: a page never makes a link it would refuse)."""
        value = self.check(value)
        if self.kind == "list":
            return ",".join(self._token(v) for v in value)
        return self._token(value)

    def _token(self, value: Any) -> str:
        for token, v in self.tokens.items():
            if v == value and type(v) is type(value):
                return token
        if isinstance(value, bool):
            return "1" if value else "0"
        if isinstance(value, float):
            return repr(value)  # the shortest text that reads back as the same double
        return str(value)

    # --------------------------------------------------------------- text -> value
    def from_text(self, text: str) -> Any:
        """Parse and check URL ``text``; ValueError with the reason (without the key) when it is not valid."""
        if self.kind == "list":
            parts = [] if text == "" else text.split(",")
            return self.check([self._parse(p, self.item) for p in parts])
        return self.check(self._parse(text, self.kind))

    def _parse(self, text: str, kind: str) -> Any:
        if text in self.tokens:
            return self.tokens[text]
        if kind == "int":
            if not _INT.fullmatch(text):
                raise ValueError("must be a whole number")
            return int(text)
        if kind == "float":
            if not _FLOAT.fullmatch(text):
                raise ValueError("must be a number (like 0.25 or 1e-4)")
            return float(text)
        if kind == "bool":
            if text.lower() in _TRUE:
                return True
            if text.lower() in _FALSE:
                return False
            raise ValueError("must be 1 or 0")
        return text

    # --------------------------------------------------------------- the rules
    def check(self, value: Any) -> Any:
        """``value`` if it is allowed (a float control also takes an int), else ValueError saying why."""
        if self.kind == "list":
            if not isinstance(value, (list, tuple)):
                raise ValueError(f"must be a list, not {type(value).__name__}")
            items = [self._check_one(v, self.item) for v in value]
            if len(set(items)) != len(items):
                raise ValueError("names a choice twice")
            return items
        return self._check_one(value, self.kind)

    def _check_one(self, value: Any, kind: str) -> Any:
        if kind == "bool":
            if not isinstance(value, bool):
                raise ValueError(f"must be true or false, not {value!r}")
            return value
        if kind in ("int", "float"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"must be a number, not {value!r}")
            if kind == "int" and not isinstance(value, int):
                if not float(value).is_integer():
                    raise ValueError(f"must be a whole number, not {value!r}")
                value = int(value)
            if kind == "float":
                value = float(value)
                if not math.isfinite(value):
                    raise ValueError("must be a finite number")
            if self.lo is not None and value < self.lo or self.hi is not None and value > self.hi:
                raise ValueError(f"is outside [{_fmt(self.lo, '-inf')}, {_fmt(self.hi, 'inf')}]")
        elif not isinstance(value, str):
            raise ValueError(f"must be text, not {type(value).__name__}")
        options = self.options()
        if options is not None and value not in options:
            if kind == "image":
                raise ValueError("is not a bundled picture on this machine (an uploaded picture cannot travel "
                                 "in a link; use photo:NAME, painting:KEY or texture:NAME)")
            raise ValueError(f"must be one of {_choices(options)}")
        return value


def _fmt(x: float | None, unbounded: str) -> str:
    return unbounded if x is None else f"{x:g}"


def _choices(options: Iterable[Any]) -> str:
    opts = [str(o) for o in options]
    return ", ".join(opts) if len(opts) <= 12 else ", ".join(opts[:12]) + f", ... ({len(opts)} in all)"


@dataclass(frozen=True)
class Schema:
    """The controls of one lab. ``checks``: rules across controls, each returns a problem or None;
    ``derive``: defaults that depend on other controls (``derive(given, values)`` fills ``values``)."""

    lab: str
    params: tuple[Param, ...]
    checks: tuple[Callable[[dict[str, Any]], str | None], ...] = ()
    derive: Callable[[dict[str, Any], dict[str, Any]], None] | None = None

    def __post_init__(self) -> None:
        names = [p.name for p in self.params]
        keys = [p.key for p in self.params]
        for what, seen in (("widget key", names), ("URL key", keys)):
            dupes = sorted({x for x in seen if seen.count(x) > 1})
            if dupes:
                raise ValueError(f"{self.lab} schema: {what}s {dupes} appear twice")
        clash = sorted(set(keys) & (RESERVED_KEYS | {VERSION_KEY}))
        if clash:
            raise ValueError(f"{self.lab} schema: URL keys {clash} are reserved")

    @functools.cached_property
    def by_name(self) -> dict[str, Param]:
        return {p.name: p for p in self.params}

    @functools.cached_property
    def by_key(self) -> dict[str, Param]:
        return {p.key: p for p in self.params}

    def defaults(self) -> dict[str, Any]:
        """Every control's default: ``{widget key: value}``."""
        return {p.name: p.resolved_default() for p in self.params}


def schema(lab: str) -> Schema:
    """The :class:`Schema` of ``lab`` (``loss``, ``style``, ``gan``, ``inpaint``, ``aesthetics``)."""
    if lab not in SCHEMAS:
        raise UrlStateError(f"No stylelab lab is called {lab!r}; the labs are {', '.join(SCHEMAS)}.")
    return SCHEMAS[lab]


def labs() -> tuple[str, ...]:
    """The labs that have a schema, in sidebar order."""
    return tuple(SCHEMAS)


def _fail(lab: str, what: str, problems: list[str]) -> UrlStateError:
    title = LAB_TITLES.get(lab, lab)
    head = f"{what} for the {title} has {len(problems)} problem{'s' * (len(problems) > 1)}: "
    return UrlStateError(head + "; ".join(problems) + ".", problems)


def _query_bytes(params: Mapping[str, str]) -> int:
    return len(urlencode(params, quote_via=quote))


def encode(lab: str, values: Mapping[str, Any], *, omit_defaults: bool = False) -> dict[str, str]:
    """A lab's set-up as query parameters (``{"v": "1", short key: text}``).

    Args:
        lab: the lab (a key of :func:`labs`).
        values: ``{widget key: value}``; controls left out are not in the link (a link then gives
            them their defaults).
        omit_defaults: leave out values equal to their default (a shorter link, but one that follows
            the defaults if a later version changes them).

    Raises:
        UrlStateError: an unknown widget key, a value the page's control would not allow (every
            problem listed), or a link longer than :data:`MAX_QUERY_BYTES`.
    """
    sch = schema(lab)
    problems: list[str] = []
    out = {VERSION_KEY: VERSION}
    unknown = sorted(set(values) - set(sch.by_name))
    if unknown:
        problems.append(f"{', '.join(map(repr, unknown))} {'is not a control' if len(unknown) == 1 else 'are not controls'} "
                        f"of the {LAB_TITLES.get(lab, lab)}")
    checked: dict[str, Any] = {}
    for p in sch.params:
        if p.name not in values:
            continue
        try:
            text = p.to_text(values[p.name])
        except ValueError as exc:
            problems.append(f"{p.name}={str(values[p.name])[:60]!r}: {p.label} {exc}")
            continue
        checked[p.name] = p.from_text(text)
        if omit_defaults and checked[p.name] == p.resolved_default():
            continue
        out[p.key] = text
    if not problems:
        problems += _cross_problems(sch, checked)
    if problems:
        raise _fail(lab, "This set-up", problems)
    size = _query_bytes(out)
    if size > MAX_QUERY_BYTES:
        raise UrlStateError(f"This set-up needs a {size}-byte link; a link may carry at most {MAX_QUERY_BYTES} bytes.")
    return out


def _cross_problems(sch: Schema, values: dict[str, Any]) -> list[str]:
    full = {**sch.defaults(), **values}
    return [msg for rule in sch.checks if (msg := rule(full))]


def _text_of(key: str, value: Any) -> str:
    """One query value as text: a ``parse_qs`` list must hold exactly one."""
    if isinstance(value, (list, tuple)):
        if len(value) != 1:
            raise ValueError("appears more than once")
        value = value[0]
    if not isinstance(value, str):
        raise ValueError(f"must be text, not {type(value).__name__}")
    return value


def decode(lab: str, params: Mapping[str, Any], *, fill_defaults: bool = True) -> dict[str, Any]:
    """Read a lab's set-up from query parameters (``st.query_params`` or a ``dict``).

    Args:
        lab: the lab the page belongs to.
        params: ``{short key: text}`` (a ``parse_qs``-style ``{key: [text]}`` is also read).
        fill_defaults: give every control the link does not name its default (the link then fixes
            the whole set-up); False returns only the controls the link names.

    Returns:
        ``{widget key: value}``, values typed (int, float, bool, str, list) and within the rules.

    Raises:
        UrlStateError: the query is longer than :data:`MAX_QUERY_BYTES` or has more than
            :data:`MAX_KEYS` keys, or any key is unknown, repeated, of the wrong type, out of range
            or not among the choices: all of them listed, nothing clamped.
    """
    sch = schema(lab)
    if not isinstance(params, Mapping):
        raise UrlStateError(f"A link's set-up must be a mapping of query keys, not {type(params).__name__}.")
    if len(params) > MAX_KEYS:
        raise UrlStateError(f"This link holds {len(params)} settings; a link may hold at most {MAX_KEYS}.")
    raw = sum(len(str(k)) + len(v if isinstance(v, str) else str(v)) for k, v in params.items())
    if raw > MAX_QUERY_BYTES:  # cheap first: the encoded query is never shorter than its characters
        raise UrlStateError(f"This link's set-up is over {MAX_QUERY_BYTES} bytes long; a link may carry at most "
                            f"{MAX_QUERY_BYTES} bytes, so it was not read.")
    texts: dict[str, str] = {}
    problems: list[str] = []
    for key, value in params.items():
        try:
            texts[str(key)] = _text_of(str(key), value)
        except ValueError as exc:
            problems.append(f"{str(key)[:40]!r} {exc}")
    if problems:
        raise _fail(lab, "This link", problems)
    size = _query_bytes(texts)
    if size > MAX_QUERY_BYTES:
        raise UrlStateError(f"This link's set-up is {size} bytes long; a link may carry at most {MAX_QUERY_BYTES} "
                            "bytes, so it was not read.")
    version = texts.pop(VERSION_KEY, VERSION)
    if version != VERSION:
        problems.append(f"it was made for link format {version[:20]!r}; this stylelab reads format {VERSION!r}")
    given: dict[str, Any] = {}
    for key, text in texts.items():
        if key in RESERVED_KEYS:
            continue
        p = sch.by_key.get(key)
        if p is None:
            problems.append(f"unknown key {key[:40]!r}")
            continue
        try:
            given[p.name] = p.from_text(text)
        except ValueError as exc:
            problems.append(f"{key}={text[:60]!r}: {p.label} {exc}")
    if not problems:
        problems += _cross_problems(sch, given)
    if problems:
        raise _fail(lab, "This link", problems)
    if not fill_defaults:
        return given
    values = sch.defaults()
    if sch.derive is not None:
        sch.derive(given, values)
    values.update(given)
    return values


def share_url(base: str, lab_page: str, params: Mapping[str, str]) -> str:
    """The full link: ``share_url("http://host:8501", "style", params)`` ->
    ``http://host:8501/Style_Studio?v=1&b=7.0``.

    Args:
        base: the app's address (``http(s)://host[:port][/prefix]``, no query).
        lab_page: a lab (``style``), a page's URL name (``Style_Studio``) or its file
            (``pages/2_Style_Studio.py``).
        params: what :func:`encode` returned.
    """
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise UrlStateError(f"The app's address must look like http://host:8501 (no query), not {base[:80]!r}.")
    page = LAB_PAGES.get(lab_page, lab_page)
    if page.endswith(".py"):
        page = re.sub(r"^\d+_", "", page.rsplit("/", 1)[-1][:-3])
    if not re.fullmatch(r"[A-Za-z0-9_\-]{1,80}", page):
        raise UrlStateError(f"{lab_page!r} is not a page of the app (the pages are {', '.join(LAB_PAGES.values())}).")
    query = urlencode({str(k): str(v) for k, v in params.items()}, quote_via=quote)
    if len(query) > MAX_QUERY_BYTES:
        raise UrlStateError(f"This set-up needs a {len(query)}-byte link; a link may carry at most {MAX_QUERY_BYTES} bytes.")
    return f"{base.rstrip('/')}/{page}" + (f"?{query}" if query else "")


def link_from_state(lab: str, state: Mapping[str, Any], base: str) -> tuple[str, list[str]]:
    """The "Share this set-up" link of the controls in ``state`` (``st.session_state``).

    Returns ``(url, unshareable)``: the link, and the picture controls it could not carry (uploads,
    session results), for a note beside it. Raises :class:`UrlStateError` like :func:`encode`.
    """
    values, unshareable = values_from_state(lab, state)
    return share_url(base, lab, encode(lab, values)), unshareable


# ----------------------------------------------------------------------------- the page's widgets
def widget_state(lab: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """``{session-state key: value}`` that puts decoded ``values`` on the page's controls.

    Plain controls map one to one. A picture control ``key`` is a :func:`stylelab.ui.image_picker`,
    which keeps its source in ``{key}_src`` and its choice in ``{key}_{source}``: both are set.
    """
    sch = schema(lab)
    out: dict[str, Any] = {}
    for name, value in values.items():
        p = sch.by_name.get(name)
        if p is None:
            raise UrlStateError(f"{name!r} is not a control of the {LAB_TITLES.get(lab, lab)}.")
        if p.kind == "image":
            group = image_group(value)
            out[f"{name}_src"] = group
            out[f"{name}_{group}"] = value
        else:
            out[name] = list(value) if p.kind == "list" else value
    return out


def values_from_state(lab: str, state: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Read the lab's controls out of ``st.session_state`` (the inverse of :func:`widget_state`).

    Returns:
        ``(values, unshareable)``: ``{widget key: value}`` for every control the state holds, and
        the labels of picture controls showing an upload or a session result (no link can carry
        those: the page should say so next to the link).
    """
    sch = schema(lab)
    values: dict[str, Any] = {}
    unshareable: list[str] = []
    for p in sch.params:
        if p.kind == "image":
            src = state.get(f"{p.name}_src")
            if src is None:
                continue
            if src in IMAGE_GROUPS and f"{p.name}_{src}" in state:
                values[p.name] = state[f"{p.name}_{src}"]
            else:
                unshareable.append(p.label)
        elif p.name in state:
            value = state[p.name]
            values[p.name] = list(value) if isinstance(value, (list, tuple)) else value
    return values, unshareable


# ----------------------------------------------------------------------------- the schemas of the labs
# Built from the pages' controls (their ``keep(...)`` keys, ranges, options and defaults). The lists a
# library module owns are :class:`Lazy` references to it; the pages' own option lists live here, so a
# page can import them (``urlstate.LOSS_WEIGHT_STEPS``) instead of holding a copy.
def _i(name: str, key: str, default: int, label: str, lo: int | None, hi: int | None, **kw: Any) -> Param:
    return Param(name, key, "int", default, label, lo, hi, **kw)


def _f(name: str, key: str, default: float, label: str, lo: float | None, hi: float | None, **kw: Any) -> Param:
    return Param(name, key, "float", float(default), label, lo, hi, **kw)


def _c(name: str, key: str, default: Any, label: str, choices: Any, kind: str = "str", **kw: Any) -> Param:
    return Param(name, key, kind, default, label, choices=choices if isinstance(choices, Lazy) else tuple(choices), **kw)


def _b(name: str, key: str, default: bool, label: str) -> Param:
    return Param(name, key, "bool", default, label)


def _img(name: str, key: str, default: str, label: str) -> Param:
    return Param(name, key, "image", default, label)


def _l(name: str, key: str, default: Any, label: str, choices: Any, item: str = "str") -> Param:
    return Param(name, key, "list", default if isinstance(default, Lazy) else tuple(default), label,
                 choices=choices if isinstance(choices, Lazy) else tuple(choices), item=item)


def _style_nets() -> tuple[str, ...]:
    """The Style Studio's feature networks on this machine (VGG19 only where its weights are cached)."""
    from ..assets import get_asset

    return ("vgg16",) + (("vgg19",) if get_asset("vgg19").present else ())


def _inpaint_default_methods() -> tuple[str, ...]:
    """The Inpainting Lab's default methods: the classical three, and the U-Net where one is shipped."""
    from ..inpaint.model import list_checkpoints

    return ("telea", "ns", "biharmonic") + (("unet",) if list_checkpoints() else ())


SEED_MAX = 2**31 - 1
#: Loss Lab
LOSS_SIZES = (96, 128, 160, 192)
LOSS_LAYERS = ("relu1_1", "relu1_2", "relu2_1", "relu2_2", "relu3_1", "relu3_2", "relu3_3",
               "relu4_1", "relu4_2", "relu4_3", "relu5_1", "relu5_2", "relu5_3")
LOSS_STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
LOSS_WEIGHT_STEPS = {
    "content": (0.0, 0.1, 0.3, 1.0, 3.0, 10.0),
    "style": (0.0, 1e2, 1e3, 1e4, 3e4, 1e5, 3e5, 1e6, 1e7),
    "tv": (0.0, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0),
    "colorfulness": (0.0, 0.1, 0.3, 1.0, 3.0, 10.0),
    "contrast": (0.0, 0.1, 0.3, 1.0, 3.0, 10.0),
}
LOSS_DESK_LRS = (0.005, 0.01, 0.02, 0.03, 0.05, 0.1)
#: Style Studio
STYLE_SIZES = (64, 96, 128, 192, 256, 384, 512)
STYLE_TRAIN_SIZES = (32, 64, 96, 128)
STYLE_TRAIN_WIDTHS = (4, 8, 16, 32)
#: GAN Lab
GAN_WORLDS = ("2-D points", "Images")
GAN_LRS = (1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2)
GAN_WIDTHS, GAN_TOY_Z, GAN_IMG_BASES, GAN_IMG_Z = (16, 32, 64, 128, 256), (1, 2, 4, 8, 16), (8, 16, 32, 64), (8, 16, 32, 64, 128)
GAN_BATCHES, GAN_BETA2S = (16, 32, 64, 128, 256), (0.9, 0.99, 0.999)
#: Inpainting Lab: the mask tools a link can rebuild (a drawn or uploaded hole cannot travel in a link)
INPAINT_SIZES = (64, 96, 128, 192)
INPAINT_TOOLS = {"rect": "Rectangle", "strokes": "Random strokes", "centre": "Centre hole"}
INPAINT_LIVE_DATA = ("photos", "faces", "fashion")
#: Aesthetics Lab
AES_SIZES = (192, 256, 320, 384, 512)
AES_OVERLAYS = {"none": "None", "thirds": "Thirds grid", "saliency": "Saliency", "clipped": "Clipped pixels"}
AES_LRS = (0.005, 0.01, 0.02, 0.05, 0.1)
AES_TERMS = {"colorfulness": "wcol", "contrast": "wcon", "saturation": "wsat", "exposure": "wexp",
             "clipping": "wclip", "content": "wc"}
AES_TERM_DEFAULTS = {"colorfulness": 1.0, "contrast": 1.0, "saturation": 0.0, "exposure": 1.0, "clipping": 0.5,
                     "content": 1.0}  # AdjustConfig's weights (a test checks they agree)

_LOSS = Schema("loss", (
    _c("loss_view", "view", "see", "view", ("see", "study", "desk", "eq")),
    _c("loss_size", "sz", 128, "working size", LOSS_SIZES, "int"),
    _img("loss_content", "c", "photo:astronaut", "content image"),
    _img("loss_style", "s", "painting:the-great-wave-off-kanagawa", "style image"),
    _c("loss_layer", "ly", "relu3_1", "layer", LOSS_LAYERS),
    _i("loss_gram_channels", "gc", 32, "Gram channels shown", 8, 64),
    _l("loss_bar_layers", "bl", LOSS_STYLE_LAYERS + ("relu4_2",), "layers for the bars", LOSS_LAYERS),
    _l("loss_study_names", "dn", Lazy("stylelab.losses.distortions:DISTORTIONS"), "distortions",
       Lazy("stylelab.losses.distortions:DISTORTIONS")),
    _l("loss_study_metrics", "dm", Lazy("stylelab.losses.distortions:STUDY_METRICS"), "losses of the study",
       Lazy("stylelab.losses.distortions:STUDY_METRICS")),
    _i("loss_study_steps", "ds", 4, "strength steps", 2, 6),
    _f("loss_study_preview", "dp", 0.5, "preview strength", 0.0, 1.0),
    _i("loss_desk_steps", "n", 40, "steps per run", 10, 200),
    _c("loss_desk_lr", "lr", 0.03, "Adam learning rate", LOSS_DESK_LRS, "float"),
    _c("loss_w_content", "wc", 1.0, "λ content", LOSS_WEIGHT_STEPS["content"], "float"),
    *(_c(f"loss_w_style_{layer}", f"ws{layer[4]}", 1e5, f"λ style {layer}", LOSS_WEIGHT_STEPS["style"], "float")
      for layer in LOSS_STYLE_LAYERS),
    _c("loss_w_tv", "wtv", 1.0, "λ TV", LOSS_WEIGHT_STEPS["tv"], "float"),
    _c("loss_w_colorfulness", "wcol", 0.0, "λ colourfulness", LOSS_WEIGHT_STEPS["colorfulness"], "float"),
    _c("loss_w_contrast", "wcon", 0.0, "λ contrast", LOSS_WEIGHT_STEPS["contrast"], "float"),
    _i("loss_abl_steps", "ab", 20, "steps per ablation run", 5, 60),
))

_STYLE = Schema("style", (
    _c("style_method", "m", "gatys", "method", ("gatys", "fast", "arbitrary", "train")),
    _c("style_size", "sz", 256, "working size", STYLE_SIZES, "int"),
    _img("style_content", "c", "photo:astronaut", "content image"),
    _img("style_style", "s", "painting:the-great-wave-off-kanagawa", "style image"),
    _f("style_alpha", "a", 0.0, "log10 α (content)", -2.0, 2.0),
    _f("style_beta", "b", 6.0, "log10 β (style)", 3.0, 8.0),
    _f("style_tv", "tv", -2.0, "log10 λ_TV", -4.0, 1.0),
    _f("style_col", "col", 0.0, "λ_col (colourfulness reward)", 0.0, 200.0),
    _f("style_con", "con", 0.0, "λ_con (contrast reward)", 0.0, 500.0),
    _i("style_steps", "n", 60, "steps", 4, 400),
    _c("style_opt", "opt", "lbfgs", "optimizer", ("lbfgs", "adam")),
    _c("style_init", "init", "content", "start from", ("content", "noise", "style")),
    _c("style_color", "cp", "none", "colour preservation", ("none", "luminance", "histogram")),
    _c("style_levels", "lv", 1, "coarse-to-fine scales", (1, 2, 3), "int"),
    _c("style_param", "sp", "fourier", "optimise in", Lazy("stylelab.style.configs:PARAM_KINDS")),
    _b("style_param_colour", "dc", False, "decorrelated colour"),
    _b("style_param_twin", "twin", False, "plain pixels side by side"),
    _c("style_net", "net", "vgg16", "feature network", Lazy("stylelab.classroom.urlstate:_style_nets")),
    _i("style_seed", "seed", 0, "seed", 0, SEED_MAX),
    _i("style_fast_a", "fa", 19, "style A", 0, 25),
    _i("style_fast_b", "fb", 7, "style B", 0, 25),
    _f("style_fast_t", "ft", 0.0, "blend t", 0.0, 1.0),
    _b("style_fast_sheet", "fs", False, "all 26 styles"),
    _f("style_arb_strength", "as", 1.0, "strength α", 0.0, 1.0),
    _b("style_arb_two", "a2", False, "second style"),
    _img("style_style2", "s2", "painting:composition-viii", "second style image"),
    _f("style_arb_t", "at", 0.5, "t toward the second style", 0.0, 1.0),
    _i("style_tr_steps", "tn", 200, "training steps", 10, 600),
    _c("style_tr_size", "tsz", 64, "crop size", STYLE_TRAIN_SIZES, "int"),
    _f("style_tr_beta", "tb", 5.0, "log10 β (training)", 3.0, 7.0),
    _f("style_tr_adv", "tadv", 0.0, "λ_adv", 0.0, 1.0),
    _c("style_tr_width", "twd", 16, "network width", STYLE_TRAIN_WIDTHS, "int"),
    _i("style_tr_seed", "tseed", 0, "training seed", 0, SEED_MAX),
))


def _gan_derive(given: dict[str, Any], values: dict[str, Any]) -> None:
    """The GAN page's defaults that follow the world and data: the spread of the toy data, the learning
    rates (1e-3 for points, 2e-4 for images), the steps of "Train N" and of the comparison."""
    from ..gan.config import DEFAULT_LR, DEFAULT_NOISE

    toy = given.get("gan_kind", values["gan_kind"]) == GAN_WORLDS[0]
    data = given.get("gan_data_toy", values["gan_data_toy"])
    derived = {"gan_noise": float(DEFAULT_NOISE[data]), "gan_lr_g": DEFAULT_LR["points" if toy else "images"],
               "gan_n": 200 if toy else 50, "gan_cmp_steps": 600 if toy else 100}
    derived["gan_lr_d"] = derived["gan_lr_g"]
    for name, value in derived.items():
        if name not in given:
            values[name] = value


_GAN = Schema("gan", (
    _c("gan_kind", "w", GAN_WORLDS[0], "world", GAN_WORLDS, tokens={"points": GAN_WORLDS[0], "images": GAN_WORLDS[1]}),
    _c("gan_data_toy", "dt", "ring", "distribution", Lazy("stylelab.gan.config:TOY_DATASETS")),
    _c("gan_data_img", "di", "digits8", "image set", Lazy("stylelab.gan.config:IMAGE_DATASETS")),
    _i("gan_n_points", "np", 2000, "training points", 200, 10_000),
    _f("gan_noise", "sd", 0.05, "spread (noise std)", 0.0, 1.0),
    _c("gan_hidden", "h", 64, "MLP width", GAN_WIDTHS, "int"),
    _c("gan_latent_toy", "zt", 2, "size of z (points)", GAN_TOY_Z, "int"),
    _l("gan_classes", "cl", (), "classes", tuple(range(10)), item="int"),
    _b("gan_conditional", "cond", False, "class-conditional G and D"),
    _c("gan_base", "base", 32, "DCGAN width", GAN_IMG_BASES, "int"),
    _c("gan_latent_img", "zi", 64, "size of z (images)", GAN_IMG_Z, "int"),
    _i("gan_seed", "seed", 0, "seed", 0, SEED_MAX),
    _c("gan_batch", "bs", 64, "batch size", GAN_BATCHES, "int"),
    _c("gan_loss", "loss", "ns", "loss", Lazy("stylelab.gan.config:LOSS_NAMES")),
    _c("gan_lr_g", "lrg", 1e-3, "G learning rate", GAN_LRS, "float"),
    _c("gan_lr_d", "lrd", 1e-3, "D learning rate", GAN_LRS, "float"),
    _f("gan_beta1", "b1", 0.5, "Adam β₁", 0.0, 0.99),
    _c("gan_beta2", "b2", 0.999, "Adam β₂", GAN_BETA2S, "float"),
    _i("gan_d_steps", "k", 1, "D steps per G step", 1, 10),
    _f("gan_smooth", "ls", 0.0, "one-sided label smoothing", 0.0, 0.3),
    _f("gan_inoise", "in", 0.0, "instance noise σ", 0.0, 1.0),
    _i("gan_idecay", "ind", 0, "instance-noise decay steps", 0, 100_000),
    _f("gan_gp", "gp", 10.0, "gradient-penalty weight λ", 0.0, 50.0),
    _i("gan_n", "tn", 200, "steps of Train N", 1, 100_000),
    _c("gan_section", "view", "compare", "section", ("compare", "latent", "io")),
    _c("gan_cmp_a", "ca", "minimax", "run A loss", Lazy("stylelab.gan.config:LOSS_NAMES")),
    _c("gan_cmp_b", "cb", "ns", "run B loss", Lazy("stylelab.gan.config:LOSS_NAMES")),
    _i("gan_cmp_steps", "cn", 600, "comparison steps", 10, 20_000),
    _c("gan_cmp_lr_g", "clrg", 1e-4, "comparison G learning rate", GAN_LRS, "float"),
    _c("gan_cmp_lr_d", "clrd", 1e-2, "comparison D learning rate", GAN_LRS, "float"),
    _i("gan_cmp_d_steps", "ck", 5, "comparison D steps per G step", 1, 10),
    _i("gan_lat_a", "za", 1, "sample A seed", 0, 10_000),
    _i("gan_lat_b", "zb", 2, "sample B seed", 0, 10_000),
    _c("gan_lat_mode", "zm", "spherical", "interpolation", ("spherical", "linear")),
), derive=_gan_derive)


def _inpaint_rect_fits(v: dict[str, Any]) -> str | None:
    """The rectangle must fit the working size (the page's sliders stop at the picture's sides)."""
    size = v["inp_size"]
    bad = [f"{k} = {v[n]}" for k, n, top in (("x", "inp_rx", size - 2), ("y", "inp_ry", size - 2),
                                               ("w", "inp_rw", size), ("h", "inp_rh", size)) if v[n] > top]
    return f"the rectangle ({', '.join(bad)}) does not fit a {size} px picture" if bad else None


_INPAINT = Schema("inpaint", (
    _c("inp_size", "sz", 128, "working size", INPAINT_SIZES, "int"),
    _img("inp_img", "img", "photo:astronaut", "picture"),
    _c("inp_tool", "tool", "Rectangle", "mask tool", tuple(INPAINT_TOOLS.values()), tokens=INPAINT_TOOLS),
    _i("inp_rx", "x", 42, "rectangle left", 0, max(INPAINT_SIZES) - 2),
    _i("inp_ry", "y", 42, "rectangle top", 0, max(INPAINT_SIZES) - 2),
    _i("inp_rw", "w", 42, "rectangle width", 1, max(INPAINT_SIZES)),
    _i("inp_rh", "h", 32, "rectangle height", 1, max(INPAINT_SIZES)),
    _i("inp_seed", "seed", 0, "strokes seed", 0, 10_000),
    _f("inp_sw", "sw", 0.12, "brush width (share)", 0.04, 0.25),
    _f("inp_cf", "cf", 0.2, "hole area (share)", 0.05, 0.6),
    _i("inp_feather", "fe", 0, "feather (px)", 0, 8),
    _l("inp_methods", "m", Lazy("stylelab.classroom.urlstate:_inpaint_default_methods"), "methods",
       Lazy("stylelab.inpaint.methods:METHODS")),
    _i("inp_dip_iters", "dip", 400, "DIP iterations", 50, 1200),
    _c("inp_ckpt", "ck", Lazy("stylelab.inpaint.methods:default_checkpoint"), "trained U-Net",
       Lazy("stylelab.inpaint.model:list_checkpoints")),
    _c("inp_study_view", "view", "shipped", "loss study", ("shipped", "live")),
    _l("inp_live_losses", "ll", ("mse", "mse+ssim"), "losses to train", Lazy("stylelab.inpaint.losses:LOSS_CHOICES")),
    _c("inp_live_data", "ld", "photos", "training data", INPAINT_LIVE_DATA),
    _i("inp_live_steps", "ln", 60, "training steps", 10, 400),
), checks=(_inpaint_rect_fits,))

_AESTHETICS = Schema("aesthetics", (
    _c("aes_view", "view", "card", "view", ("card", "compare", "batch", "adjust", "glossary")),
    _c("aes_size", "sz", 320, "analysis size", AES_SIZES, "int"),
    _b("aes_quality", "q", True, "BRISQUE and NIQE"),
    _img("aes_img", "img", "photo:astronaut", "image"),
    _c("aes_overlay", "ov", "None", "overlay", tuple(AES_OVERLAYS.values()), tokens=AES_OVERLAYS),
    _i("aes_palette_k", "k", 5, "palette colours", 2, 8),
    _img("aes_adj_img", "src", "photo:coffee", "photo to adjust"),
    _c("aes_adj_mode", "mode", "params", "optimise", Lazy("stylelab.aesthetics.adjustment:MODES")),
    _c("aes_adj_content", "d", "mse", "content term", Lazy("stylelab.aesthetics.adjustment:CONTENT_LOSSES")),
    _i("aes_adj_steps", "n", 60, "steps", 5, 200),
    _c("aes_adj_lr_params", "lrp", 0.05, "learning rate (global controls)", AES_LRS, "float"),
    _c("aes_adj_lr_pixels", "lrx", 0.01, "learning rate (pixels)", AES_LRS, "float"),
    *(_f(f"aes_w_{term}", key, AES_TERM_DEFAULTS[term], f"λ {term}", 0.0, 5.0) for term, key in AES_TERMS.items()),
    _f("aes_t_col", "tcol", 100.0, "t_col (colourfulness)", 0.0, 120.0),
    _f("aes_t_con", "tcon", 0.3, "t_con (RMS contrast)", 0.0, 0.4),
    _f("aes_t_sat", "tsat", 0.5, "t_sat (saturation)", 0.0, 1.0),
    _f("aes_t_exp", "texp", 0.5, "t_exp (mean luma)", 0.1, 0.9),
))

#: Every lab's schema, in the sidebar's order.
SCHEMAS: dict[str, Schema] = {s.lab: s for s in (_LOSS, _STYLE, _GAN, _INPAINT, _AESTHETICS)}
