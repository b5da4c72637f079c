"""The classroom widgets every lab page shares: links that carry a set-up, lessons, the class gallery.

A lab page makes two calls (the library pieces are :mod:`stylelab.classroom`)::

    page_setup("Style Studio", "🎨")
    bar = classroom.classroom_slot("style")     # before any control: a link's set-up goes on them
    ...
    classroom.offer("style", result, run.record())     # where a result is shown (optional)
    classroom.classroom_bar("style", where=bar)        # last: share · lessons · publish, drawn at the top

* :func:`apply_url_state` reads ``st.query_params`` once per distinct query, decodes it with the
  lab's schema (:func:`stylelab.classroom.urlstate.decode`) and puts every value on its control
  (:func:`stylelab.ui.remember`: the ``keep()`` widgets read their shadow keys). A bad link shows
  one ``st.error`` listing every problem; the page keeps its defaults.
* :func:`share_box`: the link of the controls as they are now (``st.code``), its QR code for the
  projector, and what no link can carry (uploads).
* :func:`lesson_picker`: the lab's presets (title, prompt, a button that applies it the way a
  link does, and its link); :func:`publish_button`: "Publish to the class gallery".
* :func:`classroom_bar`: the teacher's suggestion (a banner) and the three popovers in one row,
  so the page's main picture stays in the first screen.

The session token the class server keeps in the URL (:func:`stylelab.ui.session.token_param`)
never goes into a shared link, and is never read as a control.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import re
import secrets
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import streamlit as st

from ..classroom import lessons as lesson_data
from ..classroom import urlstate
from ..errors import ConfigError, StylelabError
from .state import SHADOW_PREFIX, remember

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from ..classroom.gallery import Gallery
    from ..record import ExperimentRecord

#: The app's address students reach (the teacher's LAN address); else read from the browser's URL.
PUBLIC_URL_ENV = "STYLELAB_PUBLIC_URL"
#: The teacher's key: the Teacher page exists (and is listed) only when it is set.
TEACHER_KEY_ENV = "STYLELAB_TEACHER_KEY"
#: The page files of the classroom (paths as app.py's navigation names them).
GALLERY_PAGE = ("pages/6_Class_Gallery.py", "Class Gallery", "🖼️")
TEACHER_PAGE = ("pages/7_Teacher.py", "Teacher", "🧑‍🏫")
#: URL names of the app's pages other than the labs (to find the app's base address in a page's URL).
OTHER_PAGES = ("Class_Gallery", "Teacher")
#: Format of the teacher's suggestion file (beside the gallery database).
SUGGESTION_FORMAT = "stylelab.suggestion/1"
SUGGESTION_NAME = "teacher_suggestion.json"
_APPLIED = "_classroom_url_applied_{lab}"
_URL_ERROR = "_classroom_url_error_{lab}"
_SESSION_NAME = "_classroom_session_name"
_OFFER = "_classroom_offer_{lab}"


# ----------------------------------------------------------------------------- the query string
def token_param() -> str | None:
    """The query key of the class server's session token (None where the app keeps no token)."""
    try:
        from . import session
    except ImportError:  # the app runs without the class server's session module
        return None
    name = getattr(session, "token_param", None)
    value = name() if callable(name) else name
    return value if isinstance(value, str) and value else None


def _looks_like_token(text: str) -> bool:
    """A server token is ``secrets.token_urlsafe`` text (no ``:``, 20+ characters); a control's
    value never is (a bundled picture is ``painting:...``)."""
    return bool(re.fullmatch(r"[A-Za-z0-9_\-]{20,128}", text))


def lab_query(lab: str, query: Mapping[str, Any]) -> dict[str, list[str]]:
    """The part of a page's query string that belongs to the lab's set-up: ``{key: [text, ...]}``.

    Drops Streamlit's own keys (``embed``) and the session token. Where the token's key is also
    a control of this lab (it is ``sid``, which no schema uses), a value shaped like a token is the token.
    """
    token = token_param()
    out: dict[str, list[str]] = {}
    for key in query:
        key = str(key)
        values = query.get_all(key) if hasattr(query, "get_all") else query[key]
        values = [str(v) for v in (values if isinstance(values, (list, tuple)) else [values])]
        if key in urlstate.RESERVED_KEYS:
            continue
        if key == token:
            if key not in urlstate.schema(lab).by_key:
                continue
            values = [v for v in values if not _looks_like_token(v)]
            if not values:
                continue
        out[key] = values
    return out


def _signature(params: Mapping[str, list[str]]) -> str:
    return json.dumps(sorted((k, v) for k, v in params.items()))


def _put_on_controls(lab: str, values: Mapping[str, Any]) -> None:
    for key, value in urlstate.widget_state(lab, values).items():
        remember(key, value)


def apply_url_state(lab: str) -> dict[str, Any] | None:
    """Put the set-up in the page's query string on the lab's controls; call before any is drawn.

    Applied once per distinct query: after that the student's own changes stand. A link that
    names no control of the lab does nothing. A bad link shows one ``st.error`` with every
    problem (while it stays in the address bar) and changes nothing.

    Returns:
        ``{widget key: value}`` applied on this run, else None.
    """
    params = lab_query(lab, st.query_params)
    if not set(params) - {urlstate.VERSION_KEY}:
        return None
    # the class server may put its token in the URL (``sid``) right
    # after the link was read: leave that key out of the "same query?" test, or the link would be
    # applied a second time without it
    token = token_param()
    sig = _signature({k: v for k, v in params.items() if k != token})
    applied_key, error_key = _APPLIED.format(lab=lab), _URL_ERROR.format(lab=lab)
    if st.session_state.get(applied_key) == sig:
        error = st.session_state.get(error_key)
        if error:
            _show_link_error(error)
        return None
    st.session_state[applied_key] = sig
    st.session_state.pop(error_key, None)
    try:
        values = urlstate.decode(lab, params)
        _put_on_controls(lab, values)
    except urlstate.UrlStateError as exc:
        st.session_state[error_key] = exc.problems
        _show_link_error(exc.problems)
        return None
    return values


def _show_link_error(problems: list[str]) -> None:
    lines = "\n".join(f"- {p}" for p in problems)
    st.error(f"This link's set-up could not be used, so the page shows its defaults:\n{lines}\n\n"
             "Ask for a fresh link (**Share this set-up**), or remove the part after `?` from the address.")


def app_base_url() -> str:
    """The app's address for links: ``$STYLELAB_PUBLIC_URL``, else the browser's (page name cut off),
    else ``http://localhost:<server.port>``."""
    env = os.environ.get(PUBLIC_URL_ENV, "").strip()
    if env:
        return env.rstrip("/")
    url = st.context.url
    if url:
        parts = urlsplit(url)
        path = parts.path.rstrip("/")
        head, _, last = path.rpartition("/")
        if last in (*urlstate.LAB_PAGES.values(), *OTHER_PAGES):
            path = head
        return f"{parts.scheme}://{parts.netloc}{path}"
    port = st.get_option("server.port") or 8501
    return f"http://localhost:{port}"


def _controls_now() -> dict[str, Any]:
    """Every control's value in this session: the widget's own key where it is drawn, else its shadow."""
    state = st.session_state
    out = {k[len(SHADOW_PREFIX):]: state[k] for k in state if str(k).startswith(SHADOW_PREFIX)}
    out.update({k: state[k] for k in state if not str(k).startswith(SHADOW_PREFIX)})
    return out


def share_link(lab: str) -> tuple[str, list[str]]:
    """``(url, unshareable)`` of the lab's controls as they are now (no session token in it).

    A control whose value no link can carry (an upload, a drawn hole, a value set by a record
    beyond the control's range) is left out of the link and named in ``unshareable``; the link
    then gives it its default.
    """
    sch = urlstate.schema(lab)
    values, unshareable = urlstate.values_from_state(lab, _controls_now())
    for name in list(values):
        try:
            sch.by_name[name].check(values[name])
        except ValueError as exc:
            unshareable.append(f"{sch.by_name[name].label} ({exc})")
            del values[name]
    return urlstate.share_url(app_base_url(), lab, urlstate.encode(lab, values)), unshareable


@st.cache_data(show_spinner=False, max_entries=64)
def _qr(url: str) -> bytes:
    from ..classroom.qr import qr_png

    return qr_png(url, scale=6)


def share_box(lab: str) -> None:
    """The link of this set-up (copy it), its QR code (for a projector) and what it cannot carry."""
    try:
        url, unshareable = share_link(lab)
    except StylelabError as exc:
        st.warning(f"This set-up cannot travel in a link: {exc}")
        return
    st.caption("Anyone who opens this link gets these settings (images by name, weights, seeds).")
    st.code(url, language=None, wrap_lines=True)
    try:
        st.image(_qr(url), caption="Scan to open this set-up", width=260)
    except ConfigError as exc:
        st.caption(f"No QR code: {exc}")
    if unshareable:
        st.caption(f"This link cannot carry: {'; '.join(unshareable)} (an upload, a drawing or a result of this "
                   "session): whoever opens it gets the default there.")


# ----------------------------------------------------------------------------- lessons
def apply_lesson(lesson_id: str) -> None:
    """Put lesson ``lesson_id``'s set-up on its lab's controls, the way its link would (a callback)."""
    lesson = lesson_data.get(lesson_id)
    _put_on_controls(lesson.lab, lesson.values())
    token = token_param()
    keep_keys = {k: st.query_params.get_all(k) for k in st.query_params
                 if k in urlstate.RESERVED_KEYS or (k == token and _looks_like_token(st.query_params[k]))}
    st.query_params.from_dict({**keep_keys, **lesson.params})  # the address bar carries the lesson too
    applied = {k: v for k, v in lab_query(lesson.lab, st.query_params).items() if k != token}
    st.session_state[_APPLIED.format(lab=lesson.lab)] = _signature(applied)
    st.session_state.pop(_URL_ERROR.format(lab=lesson.lab), None)
    st.session_state["_classroom_lesson_applied"] = lesson.title


def lesson_picker(lab: str) -> None:
    """The lab's lesson presets: title, the question for the class, a button that sets it up, its link."""
    base = app_base_url()
    for i, lesson in enumerate(lesson_data.lessons(lab)):
        if i:
            st.divider()
        st.markdown(f"**{lesson.title}**")
        st.markdown(lesson.prompt)
        st.button("Set up this lesson", key=f"{lab}_lesson_{lesson.id}", on_click=apply_lesson, args=(lesson.id,))
        st.code(lesson.url(base), language=None, wrap_lines=True)


# ----------------------------------------------------------------------------- the class gallery
@st.cache_resource(show_spinner=False, max_entries=8)
def _gallery_at(path: str) -> Gallery:
    from ..classroom.gallery import Gallery

    return Gallery(path)


def gallery() -> Gallery:
    """The class gallery this server shares (``$STYLELAB_GALLERY_DB`` or the cache folder's file)."""
    from ..classroom.gallery import default_path

    return _gallery_at(str(default_path()))


def session_name() -> str:
    """An anonymous name for this browser session's entries (``student-3fa2c1``): no token, no person."""
    name = st.session_state.get(_SESSION_NAME)
    if name is None:
        name = st.session_state[_SESSION_NAME] = f"student-{secrets.token_hex(3)}"
    return name


def publish_button(lab: str, image: torch.Tensor | bytes | None, record: ExperimentRecord | None, key: str) -> None:
    """A caption box and "Publish to the class gallery" for one result (its picture and record)."""
    from ..classroom.gallery import MAX_CAPTION

    if image is None or record is None:
        st.caption("Publish a result once there is one.")
        return
    caption = st.text_input("Caption (optional)", key=f"{key}_caption", max_chars=MAX_CAPTION,
                            placeholder="what did you change, what did you see?")
    if st.button("Publish to the class gallery", key=f"{key}_publish", type="primary"):
        try:
            entry_id = gallery().publish(image, record, caption=caption, session=session_name())
        except StylelabError as exc:
            st.error(f"Could not publish: {exc}")
        else:
            st.session_state[f"{key}_published"] = entry_id
            st.toast(f"Published to the class gallery as entry #{entry_id}.", icon="📌")
    if st.session_state.get(f"{key}_published"):
        st.caption(f"Published as entry #{st.session_state[f'{key}_published']} (see the Class Gallery page).")


# ----------------------------------------------------------------------------- the teacher's suggestion
def suggestion_path() -> Path:
    """Where the teacher's suggested lesson is kept: beside the gallery database (server-side)."""
    from ..classroom.gallery import default_path

    return default_path().with_name(SUGGESTION_NAME)


def suggested_lesson() -> lesson_data.Lesson | None:
    """The lesson the teacher suggests now (None when none is set, or the file names no shipped lesson)."""
    path = suggestion_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"The teacher's suggestion file {path} cannot be read ({exc}).") from exc
    if not isinstance(data, dict) or data.get("format") != SUGGESTION_FORMAT or not isinstance(data.get("lesson"), str):
        raise ConfigError(f"{path} is not a stylelab suggestion file (format {SUGGESTION_FORMAT!r}).")
    return lesson_data.get(data["lesson"])


def suggest_lesson(lesson_id: str | None) -> None:
    """Store (atomically) the lesson the class should open, or clear it with None."""
    path = suggestion_path()
    if lesson_id is None:
        path.unlink(missing_ok=True)
        return
    lesson_data.get(lesson_id)  # ConfigError naming the lessons if there is no such lesson
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    tmp.write_text(json.dumps({"format": SUGGESTION_FORMAT, "lesson": lesson_id,
                               "set": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}), encoding="utf-8")
    os.replace(tmp, path)


def suggestion_banner(lab: str) -> None:
    """"Your teacher suggests: <lesson>" with a button that opens it (here, or a link to its lab)."""
    try:
        lesson = suggested_lesson()
    except StylelabError as exc:
        st.caption(f"The teacher's suggestion cannot be shown: {exc}")
        return
    if lesson is None:
        return
    text, action = st.columns([5, 1], vertical_alignment="center")
    where = "" if lesson.lab == lab else f" (in the {urlstate.LAB_TITLES[lesson.lab]})"
    text.info(f"Your teacher suggests: **{lesson.title}**{where}", icon="🧑‍🏫")
    if lesson.lab == lab:
        action.button("Open", key=f"{lab}_suggested_open", on_click=apply_lesson, args=(lesson.id,))
    else:
        action.link_button("Open", lesson.url(app_base_url()))


# ----------------------------------------------------------------------------- the bar on every lab page
def classroom_slot(lab: str) -> Any:
    """The top of a lab page, before its controls: apply a link's set-up (:func:`apply_url_state`),
    forget the results offered on the previous run, and return the place for :func:`classroom_bar`."""
    apply_url_state(lab)
    st.session_state.pop(_OFFER.format(lab=lab), None)
    return st.container()


def offer(lab: str, image: torch.Tensor | bytes, record: ExperimentRecord) -> None:
    """Offer a result shown on this run to "Publish to the class gallery" (the last one offered wins)."""
    st.session_state[_OFFER.format(lab=lab)] = (image, record)


def offered_run(run_keys: str | tuple[str, ...]) -> tuple[Any, Any]:
    """``(picture, record)`` of the first :func:`live_run` under ``run_keys`` that has made steps and is
    paused or done (a playing run has no result yet), else ``(None, None)``."""
    from . import live

    for run_key in (run_keys,) if isinstance(run_keys, str) else run_keys:
        run = live.current_run(run_key)
        if run is None or not run.step_count or live.is_running(run_key):
            continue
        picture = run.preview()
        if picture is not None:
            return picture, run.record()
    return None, None


def classroom_bar(lab: str, image: torch.Tensor | bytes | None = None, record: ExperimentRecord | None = None,
                  key: str | None = None, where: Any = None, runs: str | tuple[str, ...] = ()) -> None:
    """The classroom row of a lab page: the teacher's suggestion, then Share · Lessons (· Publish).

    Args:
        lab: the lab (``style``, ``gan``, ...).
        image, record: the result to publish; default: the last one :func:`offer` got on this run,
            else the picture and record of the paused or finished live run under ``runs``.
        key: widget-key prefix of the publish box (default ``{lab}_publish``).
        where: the container to draw in (what :func:`classroom_slot` returned; default: here). Call
            this at the end of the page so the share link and the result are this run's.
        runs: :func:`live_run` keys whose result may be published (``"gan"``, ``("style_gatys",)``).
    """
    urlstate.schema(lab)  # a typo in the lab is a bug: say so at once
    if image is None and record is None:
        image, record = st.session_state.get(_OFFER.format(lab=lab), (None, None))
    if image is None and record is None and runs:
        image, record = offered_run(runs)
    with where if where is not None else st.container():
        suggestion_banner(lab)
        applied = st.session_state.pop("_classroom_lesson_applied", None)
        if applied:
            st.success(f"Lesson set up: **{applied}**. Read its question, predict, then press Start.")
        row = st.container(horizontal=True, horizontal_alignment="right")  # one compact toolbar row
        with row.popover("🔗 Share this set-up"):
            share_box(lab)
        with row.popover("🎓 Lessons"):
            lesson_picker(lab)
        if image is not None and record is not None:
            with row.popover("📌 Publish to the class gallery"):
                publish_button(lab, image, record, key or f"{lab}_publish")


def refreshing(draw: Callable[[], None], every_s: float | None) -> None:
    """Draw a panel that redraws itself every ``every_s`` seconds (a Streamlit fragment; None: only
    with the page): the gallery's grid, the teacher's server numbers. Not for runs (:func:`live_run`)."""
    st.fragment(draw, run_every=every_s)()


# ----------------------------------------------------------------------------- records -> links
def _log10(x: Any) -> float:
    if not isinstance(x, (int, float)) or isinstance(x, bool) or x <= 0:
        raise ValueError(f"{x!r} has no log10 on a slider")
    return float(math.log10(x))


def _gan_values(cfg: Mapping[str, Any], seed: int) -> dict[str, Any]:
    from ..gan.config import TOY_DATASETS

    toy = cfg.get("data") in TOY_DATASETS
    out: dict[str, Any] = {"gan_kind": urlstate.GAN_WORLDS[0 if toy else 1],
                           "gan_data_toy" if toy else "gan_data_img": cfg.get("data"), "gan_seed": seed}
    plain = {"n_points": "gan_n_points", "hidden": "gan_hidden", "classes": "gan_classes",
             "conditional": "gan_conditional", "base_channels": "gan_base", "batch_size": "gan_batch",
             "loss": "gan_loss", "lr_g": "gan_lr_g", "lr_d": "gan_lr_d", "beta1": "gan_beta1", "beta2": "gan_beta2",
             "d_steps": "gan_d_steps", "label_smoothing": "gan_smooth", "instance_noise": "gan_inoise",
             "instance_noise_decay": "gan_idecay", "gp_weight": "gan_gp", "data_noise": "gan_noise"}
    out.update({key: cfg[f] for f, key in plain.items() if cfg.get(f) is not None})
    if cfg.get("latent_dim"):  # 0: the world's default size of z
        out["gan_latent_toy" if toy else "gan_latent_img"] = cfg["latent_dim"]
    return out


def _values_of(rec: ExperimentRecord) -> dict[str, Any]:
    """``{widget key: value}`` a record's config gives (before the schema checks them)."""
    cfg, kind = rec.config, rec.config.get("kind") or rec.config.get("method")
    if rec.lab == "gan" and kind == "gan-compare":
        losses = list(cfg.get("losses") or [])
        out = _gan_values(cfg.get("base") or {}, rec.seed)
        out.update({"gan_section": "compare", "gan_cmp_steps": cfg.get("steps"), "gan_cmp_lr_g": cfg.get("lr_g"),
                    "gan_cmp_lr_d": cfg.get("lr_d"), "gan_cmp_d_steps": cfg.get("d_steps")})
        if len(losses) == 2:
            out.update(gan_cmp_a=losses[0], gan_cmp_b=losses[1])
        return out
    if rec.lab == "gan":
        return _gan_values(cfg, rec.seed)
    if rec.lab == "style" and kind == "gatys":
        out = {"style_method": "gatys", "style_size": cfg.get("size"), "style_steps": cfg.get("steps"),
               "style_opt": cfg.get("optimizer"), "style_init": cfg.get("init"), "style_color": cfg.get("color"),
               "style_levels": cfg.get("pyramid_levels"), "style_param": cfg.get("param"), "style_net": cfg.get("network"),
               "style_col": cfg.get("colorfulness_weight"), "style_con": cfg.get("contrast_weight"), "style_seed": rec.seed,
               "style_param_colour": cfg.get("param_colour") not in (None, "none")}
        for field, key in (("content_weight", "style_alpha"), ("style_weight", "style_beta"), ("tv_weight", "style_tv")):
            out[key] = (_log10, cfg.get(field))
        for name in ("content", "style"):
            if isinstance(rec.summary.get(name), str):
                out[f"style_{name}"] = rec.summary[name]
        return out
    if rec.lab == "style" and kind == "fast-style":
        return {"style_method": "train", "style_tr_steps": cfg.get("steps"), "style_tr_size": cfg.get("size"),
                "style_tr_beta": (_log10, cfg.get("style_weight")), "style_tr_adv": cfg.get("adv_weight"),
                "style_tr_width": cfg.get("width"), "style_tr_seed": rec.seed, "style_style": cfg.get("style_name")}
    if rec.lab == "style" and kind == "fast":
        weights = [float(w) for w in cfg.get("style_weights") or []]
        used = sorted((i for i, w in enumerate(weights) if w > 0), key=lambda i: -weights[i])
        out = {"style_method": "fast", "style_size": cfg.get("size"), "style_fast_sheet": False}
        if len(used) in (1, 2):
            a, b = used[0], used[-1]
            out.update(style_fast_a=a, style_fast_b=b, style_fast_t=weights[b] / (weights[a] + weights[b]) if b != a else 0.0)
        return out
    if rec.lab == "style" and kind == "arbitrary":
        return {"style_method": "arbitrary", "style_size": cfg.get("size"), "style_arb_strength": cfg.get("strength"),
                "style_arb_t": cfg.get("t")}
    if rec.lab == "loss" and kind == "mixing":
        out = {"loss_view": "desk", "loss_size": cfg.get("size"), "loss_desk_lr": cfg.get("lr"),
               "loss_desk_steps": cfg.get("steps")}
        for term, w in (cfg.get("weights") or {}).items():
            out["loss_w_" + str(term).replace("style:", "style_")] = w
        return out
    if rec.lab == "aesthetics" and kind == "adjust":
        mode = cfg.get("mode")
        out = {"aes_view": "adjust", "aes_adj_mode": mode, "aes_adj_content": cfg.get("content"),
               "aes_adj_steps": cfg.get("steps"), "aes_t_col": cfg.get("color_target"),
               "aes_t_con": cfg.get("contrast_target"), "aes_t_sat": cfg.get("saturation_target"),
               "aes_t_exp": cfg.get("exposure_target")}
        if cfg.get("lr") is not None:
            out["aes_adj_lr_pixels" if mode == "pixels" else "aes_adj_lr_params"] = cfg["lr"]
        out.update({f"aes_w_{term}": w for term, w in (cfg.get("weights") or {}).items()})
        return out
    if rec.lab == "inpaint" and "mask" in cfg:  # a fill: the hole's settings, the methods, the U-Net
        mask = cfg.get("mask") or {}
        size = mask.get("size")
        out = {"inp_methods": cfg.get("methods"), "inp_dip_iters": cfg.get("dip_iterations"),
               "inp_ckpt": cfg.get("checkpoint"), "inp_tool": mask.get("tool"), "inp_feather": mask.get("feather"),
               "inp_size": max(size) if isinstance(size, list) and size else None}
        names = {"x": "inp_rx", "y": "inp_ry", "w": "inp_rw", "h": "inp_rh", "seed": "inp_seed", "width": "inp_sw",
                 "fraction": "inp_cf"}
        out.update({key: mask[f] for f, key in names.items() if f in mask})
        return out
    if rec.lab == "inpaint" and kind == "dip":
        return {"inp_dip_iters": cfg.get("iterations")}
    if rec.lab == "inpaint" and kind in ("inpaint-train", "loss-study"):
        losses = cfg.get("losses") if kind == "loss-study" else [cfg.get("loss")]
        return {"inp_study_view": "live", "inp_live_losses": losses, "inp_live_data": cfg.get("data"),
                "inp_live_steps": cfg.get("steps")}
    return {}


def record_link_values(rec: ExperimentRecord) -> tuple[dict[str, Any], list[str]]:
    """A record's settings as the lab's URL state: ``(values, not carried)``.

    ``values`` are the controls the lab's schema covers, each checked by its rules (a value the
    page cannot show is left out, never clamped); ``not carried`` names the ones left out and why.
    """
    sch = urlstate.schema(rec.lab)
    values: dict[str, Any] = {}
    missing: list[str] = []
    for key, raw in _values_of(rec).items():
        param = sch.by_name.get(key)
        if param is None:
            missing.append(f"{key} (no control)")
            continue
        try:
            if (raw[1] if isinstance(raw, tuple) else raw) is None:
                continue  # the record does not set it (an older record, or "auto"): the link leaves the default
            values[key] = param.check(raw[0](raw[1]) if isinstance(raw, tuple) else raw)
        except ValueError as exc:
            missing.append(f"{param.label} ({exc})")
    try:
        urlstate.encode(rec.lab, values)
    except urlstate.UrlStateError as exc:  # a rule across controls (a rectangle that does not fit)
        return {}, [str(exc)]
    return values, missing


def record_link(rec: ExperimentRecord) -> tuple[str | None, list[str]]:
    """``(url or None, not carried)``: the link that opens a record's lab with its settings."""
    values, missing = record_link_values(rec)
    if not values:
        return None, missing or ["this kind of result has no controls a link can set"]
    return urlstate.share_url(app_base_url(), rec.lab, urlstate.encode(rec.lab, values)), missing


# ----------------------------------------------------------------------------- the teacher
def redraw_and_gc_stats() -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The server's redraw budget now (:mod:`stylelab.serve.pacing`) and its collector's figures
    (:mod:`stylelab.serve.collector`; None when the app did not start one)."""
    from ..serve.collector import collector
    from ..serve.pacing import pacer

    c = collector()
    return pacer().stats(), (c.stats() if c is not None else None)


def teacher_key_set() -> bool:
    """Whether the Teacher page is on (``$STYLELAB_TEACHER_KEY`` is set and not blank)."""
    return bool(os.environ.get(TEACHER_KEY_ENV, "").strip())


def teacher_key_ok(given: str) -> bool:
    """Constant-time check of ``given`` against ``$STYLELAB_TEACHER_KEY`` (False when none is set)."""
    expected = os.environ.get(TEACHER_KEY_ENV, "").strip()
    if not expected or not isinstance(given, str):
        return False
    return hmac.compare_digest(hashlib.sha256(given.strip().encode()).digest(), hashlib.sha256(expected.encode()).digest())


def classroom_pages() -> list[tuple[str, str, str]]:
    """The classroom pages for app.py's navigation: the gallery, and the Teacher page only when its key is set."""
    return [GALLERY_PAGE] + ([TEACHER_PAGE] if teacher_key_set() else [])


_cpu_primed = False


def machine_load() -> dict[str, float | None]:
    """CPU load and memory of this machine (psutil when installed, else ``/proc``).

    Returns ``cpu_percent`` (all cores, since the last call; None on the first psutil call or
    without psutil), ``load_1m`` (the 1-minute load average), ``cores``, ``mem_used_gb``,
    ``mem_total_gb`` and ``process_gb`` (this server's resident memory).
    """
    out: dict[str, float | None] = {"cpu_percent": None, "load_1m": None, "cores": float(os.cpu_count() or 1),
                                    "mem_used_gb": None, "mem_total_gb": None, "process_gb": None}
    gb = 2.0**30
    try:
        out["load_1m"] = os.getloadavg()[0]
    except OSError:
        pass  # no load average on this platform: the field stays None (shown as "n/a")
    try:
        import psutil
    except ImportError:
        psutil = None
    if psutil is not None:
        vm = psutil.virtual_memory()
        cpu = psutil.cpu_percent(interval=None)  # since the previous call; the first call has no interval
        global _cpu_primed
        primed, _cpu_primed = _cpu_primed, True
        out.update(cpu_percent=cpu if primed else None, mem_used_gb=(vm.total - vm.available) / gb,
                   mem_total_gb=vm.total / gb, process_gb=psutil.Process().memory_info().rss / gb)
        return out
    try:
        info = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines() if ":" in line)
        total, avail = (float(info[k].split()[0]) * 1024 for k in ("MemTotal", "MemAvailable"))
        out.update(mem_used_gb=(total - avail) / gb, mem_total_gb=total / gb)
        rss = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("VmRSS:"))
        out["process_gb"] = float(rss.split()[1]) * 1024 / gb
    except (OSError, KeyError, StopIteration, ValueError):
        pass  # no /proc (not Linux): memory stays None (shown as "n/a")
    return out
