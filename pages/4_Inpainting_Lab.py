"""Inpainting Lab: draw a hole, fill it five ways, and see which loss does what.

Layout only: masks, fills, scores, runs and equations come from ``stylelab.inpaint`` (and its
widgets from ``stylelab.ui.inpaint``); Deep Image Prior and the live loss study are Runs driven by
``stylelab.ui.live.live_run``. Session keys start with ``inp_``.
"""

from __future__ import annotations

import streamlit as st
from streamlit.errors import StreamlitAPIException

from stylelab import equations
from stylelab.errors import StylelabError
from stylelab.ui import (
    classroom,
    download_image,
    download_record,
    equation,
    image_picker,
    keep,
    live,
    page_setup,
    push_result,
    select_result,
    shared,
    show_error,
    show_image,
    tensor_digest,
    upload_record,
    view_picker,
)
from stylelab.ui.charts import PALETTE
from stylelab.ui.notebook_link import notebook_link

page_setup("Inpainting Lab", "🩹")
classroom_row = classroom.classroom_slot("inpaint")  # a shared link's set-up, before any control

from stylelab import inpaint as ip  # noqa: E402  (after page_setup: the page frame shows while torch loads)
from stylelab.inpaint.experiments import result, study_checkpoints  # noqa: E402
from stylelab.inpaint.gated_model import GatedInpainter, gated_model_card, load_gated, shipped_gated  # noqa: E402
from stylelab.ui.inpaint import every_method, mask_controls, score_chart, score_table, show_pictures, show_results  # noqa: E402

STYLE_STUDIO = "pages/2_Style_Studio.py"
DIP, LIVE = "inp_dip", "inp_live"  # live_run keys
DIP_LABEL = ip.METHODS["dip"].label

st.title("🩹 Inpainting Lab")
st.markdown(
    "Cut a hole in a picture, fill it with classical algorithms, an untrained network "
    "(Deep Image Prior), a trained U-Net and a gated network that refines Telea's fill, and compare them "
    "**inside the hole**. Then see what each "
    "training loss does to the same U-Net."
)
with st.expander("The mask convention and the composite", expanded=False):
    st.markdown("A mask holds **1 in the hole** (missing pixels) and **0 where the image is known**. "
                "Every method's prediction is pasted into the hole only, so known pixels never change:")
    equation(equations.latex("inpaint.composite"), equations.get("inpaint.composite").label)


@st.cache_resource(show_spinner="Loading the trained inpainter...")
def _inpainter(name: str) -> ip.Inpainter:
    return ip.load_inpainter(name)


@st.cache_resource(show_spinner="Loading the gated inpainter...")
def _gated() -> GatedInpainter:
    return load_gated()


# ----------------------------------------------------------------------------- 1. image and mask
# On screen first: the hole (canvas) on the left, the filled results beside it; every control in the sidebar.
hole_col, fill_col = st.columns([1, 1])
with st.sidebar:
    st.subheader("1 · Picture and hole")
    size = st.select_slider("Working size (longer side, px)", [64, 96, 128, 192], key=keep("inp_size", 128, [64, 96, 128, 192]))
    truth = image_picker("Picture", key="inp_img", default="photo:astronaut", size=size)
if truth is None:
    hole_col.info("Pick or upload a picture in the sidebar to start.")
    st.stop()
with st.sidebar:
    try:
        mask, mask_settings = mask_controls(truth, hole_col)
    except StylelabError as exc:
        show_error(exc, "This mask cannot be used")
        st.stop()
if mask is None:
    st.stop()

damaged = ip.damage(truth, mask)  # the hole is blanked: no method can peek into it
sig = tensor_digest(truth, mask)
with_hole = ip.hole_overlay(truth, mask)
if mask_settings["tool"] != "Draw":  # the canvas already shows the hole over the picture
    with hole_col:
        show_image(with_hole, "With the hole (magenta)")

# ----------------------------------------------------------------------------- 2. fill it
labels = {k: v.label for k, v in ip.METHODS.items()}
shipped = ip.list_checkpoints()
with st.sidebar:
    st.subheader("2 · Fill the hole")
    learned = (["unet"] if shipped else []) + (["gated"] if shipped_gated() else [])
    methods = st.multiselect("Methods", list(labels), format_func=labels.get,
                             key=keep("inp_methods", ["telea", "ns", "biharmonic"] + learned, labels),
                             help="Each fill adds to the results of this hole: pick another method and fill "
                                  "again to try the same mask on it.")
    dip_iters = st.slider("DIP iterations", 50, 1200, step=50, key=keep("inp_dip_iters", 400),
                          help="Deep Image Prior optimises a fresh U-Net on this picture: more iterations, more detail.")
run_col, ckpt_col = fill_col.columns([1, 2], vertical_alignment="bottom")  # the checkpoint's long name needs room
ckpt = ckpt_col.selectbox("Trained U-Net", shipped, key=keep("inp_ckpt", ip.default_checkpoint(), shipped),
                          disabled=not shipped) if shipped else None

state = st.session_state.setdefault("inp_results", {"sig": None, "items": {}})
if state["sig"] != sig:  # a new picture or hole: the old results (and a DIP fit of the old hole) go
    state.update(sig=sig, items={}, every=None)
    live.set_run(DIP, None)

every = fill_col.button("Every method, side by side", key="inp_every",
                        help="The same hole filled by every method but Deep Image Prior (run it on its own).")
if run_col.button("Fill the hole", type="primary", key="inp_run") or every:
    chosen = [m for m in (ip.METHODS if every else methods) if m != "dip" and (m != "gated" or shipped_gated())]
    model = _inpainter(ckpt) if "unet" in chosen and ckpt else None
    items, errors = ip.fill_all(truth, mask, chosen, model=model, gated=_gated() if "gated" in chosen else None)
    state["items"].update(items)  # the same mask, more methods: earlier results of this hole stay
    state["every"] = list(items) if every else None
    for label, exc in errors.items():
        show_error(exc, f"{label} failed")
    live.set_run(DIP, ip.DeepImagePrior(damaged, mask, ip.DIPConfig(iterations=dip_iters))
                 if "dip" in methods and not every else None, running=True)


def _draw_dip(run: ip.DeepImagePrior) -> None:
    c1, c2 = st.columns([1, 2])
    with c1:
        show_image(run.preview(), "Deep Image Prior so far")
    with c2:
        if run.history:
            st.line_chart({"MSE on the known pixels": [r["loss"] for r in run.history]}, height=220)
        if live.is_running(DIP):
            st.caption("Deep Image Prior runs only while this page is open: switching page pauses it.")


fill_area = fill_col.container()  # the filled results, beside the hole
if live.current_run(DIP) is not None:
    with st.container():
        st.markdown(f"**{DIP_LABEL}** · " + equations.get("inpaint.dip_objective").description)
        dip = live.live_run(DIP, None, _draw_dip)
    if dip is not None and not live.is_running(DIP) and dip.step_count and DIP_LABEL not in state["items"]:
        state["items"][DIP_LABEL] = result(dip.current()[0], truth, mask, dip.seconds)  # finished or stopped
if not state["items"]:
    fill_area.caption("Pick the methods in the sidebar, then fill the hole: the results appear here.")

c1, c2, c3 = st.columns(3)
with c1:
    show_image(truth, "Original")
with c2:
    show_image(with_hole, "With the hole (magenta)")
with c3:
    show_image(mask.expand(3, -1, -1), f"Mask · {ip.coverage(mask):.0%} of the pixels")
with st.expander("What each method does"):
    for spec in ip.METHODS.values():
        st.markdown(f"**{spec.label}** ({spec.family}): {spec.summary}")
    equation(equations.latex("inpaint.dip_objective"), equations.get("inpaint.dip_objective").label)
    for name in ("inpaint.gated_conv", "inpaint.gated_refine"):
        equation(equations.latex(name), equations.get(name).label)
    if ckpt:
        st.markdown("---\n**Model card of the selected U-Net**")
        st.markdown(ip.model_card(ckpt))
    if shipped_gated():
        st.markdown("---\n**Model card of the gated inpainter**")
        st.markdown(gated_model_card())

if state["items"]:
    with fill_area:
        show_pictures(state["items"], per_row=2)
    if state.get("every"):
        every_method({k: state["items"][k] for k in state["every"] if k in state["items"]})
    score_table(state["items"])
    score_chart(state["items"], key="inp_fill_chart")

    # ------------------------------------------------------------------------- repair, then stylise
    st.markdown("#### Repair, then stylise")
    c1, c2 = st.columns([2, 1])
    picks = list(state["items"])
    pick = c1.selectbox("Result to pass on", picks, key=keep("inp_pick", picks[0], picks))
    with c2:
        download_image(state["items"][pick]["image"], "inpainted.png", key="inp_dl")
    if st.button("Repair, then stylise → open the Style Studio with this result", key="inp_to_style"):
        push_result(f"Inpainted: {pick}", state["items"][pick]["image"])
        select_result("style_content", f"Inpainted: {pick}")  # the Style Studio opens with it as its content
        try:
            st.switch_page(STYLE_STUDIO)
        except StreamlitAPIException:  # this page was started on its own, not through app.py
            st.info(f"Saved as 'Inpainted: {pick}' in this session's results: open the Style Studio from the "
                    "sidebar and pick it under 'This session'.")

    record = ip.fill_record(state["items"], mask_settings, methods, ckpt, dip_iters)
    classroom.offer("inpaint", state["items"][pick]["image"], record)  # the result passed on is the one to publish
    download_record(record, "inpainting_record.json", key="inp_record")
    notebook_link(record, "inpainting_record.json")
    dip = live.current_run(DIP)
    if dip is not None and dip.step_count:
        download_record(dip.record(), "dip_record.json", key="inp_dip_record")

with st.expander("Load an experiment record"):
    st.caption("A Deep Image Prior or loss-study record is rebuilt on this picture and hole (press Continue to run it); "
               "a fill record shows its settings and scores.")
    rec = upload_record("inpaint", key="inp_record_upload")
    loaded = None if rec is None else tensor_digest(extra=(rec.to_json(), sig))
    if rec is not None and st.session_state.get("inp_record_loaded") != loaded:  # rebuild once per upload
        st.session_state["inp_record_loaded"] = loaded if rec.config.get("kind") else None
        kind = rec.config.get("kind")
        try:
            if kind == ip.DeepImagePrior.kind:
                live.set_run(DIP, ip.DeepImagePrior.from_record(rec, image=damaged, mask=mask))
                st.success(f"Deep Image Prior rebuilt from the record ({rec.config.get('iterations')} iterations).")
            elif kind == ip.LossStudy.kind:
                live.set_run(LIVE, ip.LossStudy.from_record(rec))
                st.session_state["inp_study_view"] = "live"
                st.success("Loss study rebuilt from the record: open 'Train live' below and press Continue.")
            else:
                st.json(rec.config)
                if rec.summary:
                    import pandas as pd

                    st.dataframe(pd.DataFrame(rec.summary).T, width="stretch")
        except StylelabError as exc:
            st.error(f"This record cannot be used: {exc}")

# ----------------------------------------------------------------------------- 3. loss study
st.subheader("3 · Which loss does what?")
st.markdown("The same U-Net, trained on the same crops and masks, with more and more loss terms. "
            "MSE averages all plausible fills (blur); SSIM adds local structure; the perceptual term "
            "compares VGG features; the adversarial term (a PatchGAN judge) pushes for texture.")
for name, choice in ip.LOSS_CHOICES.items():
    equation(equations.latex(f"inpaint.loss.{name}"), choice.label)

STUDY = {"shipped": "Shipped checkpoints (instant)", "live": "Train live (small)"}
study_view = view_picker("Loss study", STUDY, "inp_study_view", "shipped")
if study_view == "shipped":
    study = study_checkpoints()
    if not study:
        st.info("No shipped loss-study checkpoints in this build.")
    else:
        # the same picture and mask give the same scores for every student: computed once per server
        items = shared("inp_study_shipped", 16).get_or_compute(
            sig, lambda: ip.shipped_study(truth, mask, load=_inpainter))
        show_results(items, "inp_study_shipped")
        for name in study:
            with st.expander(f"Model card: {name}"):
                st.markdown(ip.model_card(name))
else:
    st.caption("Training runs only while this page is open: switching page pauses it, coming back resumes it.")
    c1, c2, c3 = st.columns(3)
    live_losses = c1.multiselect("Losses", list(ip.LOSS_CHOICES), key=keep("inp_live_losses", ["mse", "mse+ssim"], ip.LOSS_CHOICES),
                                 format_func=lambda n: ip.LOSS_CHOICES[n].label)
    live_data = c2.selectbox("Training data", ["photos", "faces", "fashion"], key=keep("inp_live_data", "photos"),
                             format_func={"photos": "Photo and painting crops", "faces": "LFW faces",
                                          "fashion": "Fashion-MNIST"}.get)
    live_steps = c3.slider("Steps", 10, 400, step=10, key=keep("inp_live_steps", 60))
    st.caption("Small on purpose (U-Net 8-16-32 channels, 32 px crops, batch 8) so it trains on a laptop CPU; "
               "the shipped checkpoints above are the same idea, trained longer.")

    def _draw_study(run: ip.LossStudy) -> None:
        """MSE in the hole per loss while it trains; each model's fill of this hole once it stops."""
        import plotly.graph_objects as go

        curves = run.curves()
        if any(curves.values()):
            fig = go.Figure([go.Scatter(x=[s for s, _ in c], y=[v for _, v in c], name=ip.LOSS_CHOICES[n].label)
                             for n, c in curves.items()])
            fig.update_layout(height=280, xaxis_title="step", yaxis_title="MSE in the hole (training batch)",
                              margin=dict(l=10, r=10, t=10, b=10), colorway=list(PALETTE))
            st.plotly_chart(fig, key="inp_live_curve")
        if run.step_count and not live.is_running(LIVE):
            outs = run.inpaint(damaged, mask)
            show_results({ip.LOSS_CHOICES[n].label: result(o, truth, mask, 0.0) for n, o in outs.items()},
                         "inp_live")
            download_record(run.record(), "loss_study_record.json", key="inp_live_record")

    live.live_run(LIVE, lambda: ip.LossStudy(ip.LossStudyConfig(losses=tuple(live_losses), data=live_data, steps=live_steps)),
                  _draw_study, start_label="Start training", tick_s=1.0)

classroom.classroom_bar("inpaint", where=classroom_row, runs=DIP)  # share · lessons · publish (drawn at the top)
