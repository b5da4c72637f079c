r"""Train the style-learning models end to end (a :class:`~stylelab.run.Run`, kind ``"learned-style"``).

One :meth:`LearnedStyleRun.step` is steps a-d of the method, and stepping again is e:

a. draw content crops :math:`c` and, for each, a training style: a crop :math:`s` (given to the
   encoder), a second crop :math:`s'` of the same painting (the real pair) and a crop :math:`t` of
   another painting (the mismatched pair); read the code :math:`z_s = E(s)` (recomputed every step:
   the encoder is trained with the generator, so yesterday's codes are stale);
b. stylise: :math:`y = G(c, z_s)`;
c. generator *and encoder* update (one Adam step on both) on

   .. math::
       \mathcal{L}_{G,E} = \alpha\mathcal{L}_{content}(y, c) + \beta\mathcal{L}_{style}(y, s)
           + \lambda_{TV}\tfrac{TV(y)}{HW} + \lambda_{adv}\mathcal{L}_G(D_{real}(y))
           + \lambda_{cons}\mathcal{L}^G_{cons}(y, s) + \lambda_{cyc}\tfrac1d\|E(y) - z_s\|_1
           \;[-\lambda_{col}\tfrac{M(y)}{100} - \lambda_{con}\sigma_Y(y)]

   (the adversarial terms ARE part of the generator's loss: it is what makes the discriminators
   teach anything);
d. discriminator update on the detached :math:`y`: the realism PatchGAN (painting crops :math:`s'`
   real, :math:`y` fake) and the consistency D (:math:`(s', s)` real; :math:`(y, s)` and
   :math:`(t, s)` fake);
e. repeat a-d (a new batch and new codes every step) until the losses level off.

Data (offline): the bundled paintings and textures are the styles, minus :data:`HELD_OUT_STYLES`
(kept for evaluation); the bundled photos are the content, minus :data:`HELD_OUT_CONTENT`. Random
crops (content crops flipped at random) drawn from the run's own generator.

Losses: content, style (Gram), TV, realism adversarial and the aesthetic terms are
:mod:`stylelab.losses` functions; the code cycle and the consistency term are
:mod:`stylelab.style.learned_losses`. All weights are config fields.

Checkpoints: :meth:`LearnedStyleRun.state_dict` (resumable: weights, optimisers, generator state)
and :meth:`LearnedStyleRun.export` (the shipped model: weights only, ``format``
:data:`MODEL_FORMAT`); both load with ``weights_only=True``. The command line is
``python -m stylelab train-learned-style`` (:mod:`stylelab.style.cli`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Literal

import torch

from ..entry import rank_world
from ..errors import AssetError, CheckpointError, ConfigError, NonFiniteError
from ..run import Run, make_generator
from .learned import CODE_LAYERS, StyleConsistencyD, StyledGenerator, StyleEncoder, realism_discriminator

#: the ``format`` of the shipped model file (:meth:`LearnedStyleRun.export`, :func:`load_learned`)
MODEL_FORMAT = "stylelab.learned_style/1"
#: the shipped checkpoint and its model card
CHECKPOINT_DIR = Path(__file__).resolve().parent / "checkpoints"
SHIPPED = CHECKPOINT_DIR / "learned_style.pt"

#: styles never seen in training (the evaluation's styles)
HELD_OUT_STYLES: tuple[str, ...] = ("painting:the-great-wave-off-kanagawa", "painting:composition-viii",
                                    "painting:village-street-in-auvers", "painting:mona-lisa", "texture:gravel")
#: photos never seen in training (the evaluation's photos)
HELD_OUT_CONTENT: tuple[str, ...] = ("photo:astronaut", "photo:chelsea", "photo:flower")

INIT_STREAM = 0
DATA_STREAM = 1000


def training_styles() -> tuple[str, ...]:
    """Every bundled painting and texture that is not held out (in catalogue order)."""
    from ..assets import image_catalog

    cat = image_catalog()
    return tuple(n for n in cat.get("Paintings", []) + cat.get("Textures", []) if n not in HELD_OUT_STYLES)


def training_content() -> tuple[str, ...]:
    """Every bundled photo that is not held out."""
    from ..assets import image_catalog

    return tuple(n for n in image_catalog().get("Photos", []) if n not in HELD_OUT_CONTENT)


@dataclasses.dataclass
class LearnedStyleConfig:
    """A style-learning run. The defaults are the CPU-sized training (128 px crops, code of 64)."""

    size: int = 128  #: crop size (pixels) of content and style crops
    batch_size: int = 2
    steps: int = 3000
    lr: float = 2e-3  #: Adam, generator and encoder
    lr_d: float = 2e-4  #: Adam, both discriminators
    code_dim: int = 64
    width: int = 16  #: generator width (channels of its first layer)
    n_res: int = 4
    enc_hidden: int = 128
    d_width: int = 16  #: both discriminators' first-layer width
    content_weight: float = 1.0  #: alpha
    style_weight: float = 1e5  #: beta (Grams normalised by C H W)
    tv_weight: float = 1e-2
    adv_weight: float = 0.05  #: realism PatchGAN term
    consistency_weight: float = 0.05  #: style-consistency term
    cycle_weight: float = 0.5  #: code cycle
    colorfulness_weight: float = 0.0  #: optional aesthetic term (a reward)
    contrast_weight: float = 0.0  #: optional aesthetic term (a reward)
    adv_kind: Literal["ns", "lsgan", "hinge"] = "lsgan"
    mismatched_pairs: bool = True  #: crops of other paintings as fake pairs for the consistency D
    style_scale: int = 320  #: a style picture's longer side before cropping (the texture scale)
    styles: tuple[str, ...] = ()  #: training styles (bundled names); () = :func:`training_styles`
    content: tuple[str, ...] = ()  #: content photos (bundled names); () = :func:`training_content`
    precision: Literal["auto", "fp32", "bf16"] = "auto"
    #: False: only the discriminators learn (encoder and generator frozen), to fit new discriminators
    #: to a trained generator
    train_generator: bool = True

    def validate(self) -> "LearnedStyleConfig":
        if not isinstance(self.size, int) or not 32 <= self.size <= 512 or self.size % 8:
            raise ConfigError(f"size must be a multiple of 8 between 32 and 512; got {self.size!r}.")
        for name, low in (("batch_size", 1), ("steps", 0), ("code_dim", 1), ("width", 1), ("n_res", 0),
                          ("enc_hidden", 1), ("d_width", 1), ("style_scale", 32)):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < low:
                raise ConfigError(f"{name} must be an integer >= {low}; got {v!r}.")
        if self.style_scale < self.size:
            raise ConfigError(f"style_scale ({self.style_scale}) must be at least the crop size ({self.size}).")
        for name in ("lr", "lr_d"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not 0 < v < 1:
                raise ConfigError(f"{name} must be in (0, 1); got {v!r}.")
        for name in ("content_weight", "style_weight", "tv_weight", "adv_weight", "consistency_weight",
                     "cycle_weight", "colorfulness_weight", "contrast_weight"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or v != v or v < 0 or v == float("inf"):
                raise ConfigError(f"{name} must be a finite number >= 0; got {v!r}.")
        if self.adv_kind not in ("ns", "lsgan", "hinge"):
            raise ConfigError(f"adv_kind must be ns, lsgan or hinge; got {self.adv_kind!r}.")
        if self.precision not in ("auto", "fp32", "bf16"):
            raise ConfigError(f"precision must be auto, fp32 or bf16; got {self.precision!r}.")
        return self


class StyleBank:
    """The style pictures (resized so the longer side is ``scale``) and crops of them, on the CPU."""

    def __init__(self, names: tuple[str, ...], size: int, scale: int, generator: torch.Generator) -> None:
        from ..assets import load_bundled
        from ..imageio import resize_tensor

        if len(names) < 2:
            raise ConfigError(f"Style learning needs at least two styles (real and mismatched pairs); got {list(names)}.")
        self.names, self.size, self.gen = tuple(names), int(size), generator
        self.images = []
        for n in self.names:
            img = load_bundled(n, size=scale)
            if min(img.shape[-2:]) < size:  # a long, thin picture: scale its short side up to the crop
                img = resize_tensor(img, (max(size, int(round(img.shape[-2] * size / min(img.shape[-2:])))),
                                          max(size, int(round(img.shape[-1] * size / min(img.shape[-2:]))))))
            self.images.append(img)

    def crop(self, index: int) -> torch.Tensor:
        img = self.images[index]
        h, w = img.shape[-2:]
        top = int(torch.randint(h - self.size + 1, (1,), generator=self.gen))
        left = int(torch.randint(w - self.size + 1, (1,), generator=self.gen))
        return img[:, top:top + self.size, left:left + self.size]

    def batch(self, n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(s, s2, t, idx)``: crops ``(n, 3, S, S)`` of styles ``idx``, second crops of the same
        paintings, crops of other paintings, and the style indices ``(n,)``."""
        k = len(self.images)
        idx = torch.randint(k, (n,), generator=self.gen)
        other = (idx + torch.randint(1, k, (n,), generator=self.gen)) % k  # never the same painting
        s = torch.stack([self.crop(int(i)) for i in idx])
        s2 = torch.stack([self.crop(int(i)) for i in idx])
        t = torch.stack([self.crop(int(j)) for j in other])
        return s, s2, t, idx


class LearnedStyleRun(Run):
    """Train :class:`StyleEncoder`, :class:`StyledGenerator` and both discriminators (module docstring).

    ``step()`` row: every generator term weighted and ``_raw``, ``total``, the two discriminator
    losses ``d_realism`` and ``d_consistency``, and the consistency D's mean patch logits on real
    pairs, fake pairs and mismatched pairs (``score_real_pair`` ...).
    """

    kind = "learned-style"
    lab = "style"
    config_class = LearnedStyleConfig

    def __init__(self, config: LearnedStyleConfig | None = None, *, seed: int = 0, device: Any = None) -> None:
        from ..features import get_extractor
        from .train_fast import ContentCrops, seeded_module

        config = config or LearnedStyleConfig()
        config.validate()
        super().__init__(config, seed=seed, device=device)
        cfg = self.config
        self.style_names = tuple(cfg.styles) or training_styles()
        self.content_names = tuple(cfg.content) or training_content()
        self.rank, self.world = rank_world()
        # the same initial weights on every rank; each rank its own crops (stream DATA_STREAM + rank)
        init = make_generator(self.seed, "cpu", INIT_STREAM)
        self.data_gen = make_generator(self.seed, "cpu", DATA_STREAM + self.rank)
        self.encoder = seeded_module(lambda: StyleEncoder(cfg.code_dim, cfg.enc_hidden), init).to(self.device)
        self.generator = seeded_module(lambda: StyledGenerator(cfg.code_dim, cfg.width, cfg.n_res), init).to(self.device)
        self.d_real = seeded_module(lambda: realism_discriminator(cfg.d_width), init).to(self.device)
        self.d_cons = seeded_module(lambda: StyleConsistencyD(cfg.d_width, cfg.code_dim), init).to(self.device)
        self.opt = torch.optim.Adam([*self.generator.parameters(), *self.encoder.parameters()], lr=cfg.lr,
                                    betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam([*self.d_real.parameters(), *self.d_cons.parameters()], lr=cfg.lr_d,
                                      betas=(0.5, 0.999))
        try:
            self.styles = StyleBank(self.style_names, cfg.size, cfg.style_scale, self.data_gen)
        except AssetError as exc:
            raise ConfigError(f"The training styles could not be loaded: {exc}") from exc
        self.content = ContentCrops(cfg.size, self.data_gen, list(self.content_names))
        self.vgg = get_extractor("vgg16", self.device)
        self._preview_pair: tuple[torch.Tensor, torch.Tensor] | None = None

    @property
    def total_steps(self) -> int:  # type: ignore[override]
        return int(self.config.steps)

    # -------------------------------------------------------------- pieces
    def _use_bf16(self) -> bool:
        from ..device import fast_dtype

        if self.config.precision == "fp32":
            return False
        if self.config.precision == "bf16":
            return True
        return fast_dtype(self.device) == torch.bfloat16

    def features(self, x: torch.Tensor, layers) -> dict[str, torch.Tensor]:
        """VGG16 features ``{layer: (N, C, H, W)}`` (bf16 autocast where fast; returned in fp32)."""
        from ..device import autocast

        with autocast(self.device, enabled=self._use_bf16()):
            feats = self.vgg(x, list(layers))
        return {k: v.float() for k, v in feats.items()}

    def _layers(self) -> list[str]:
        from ..losses import JOHNSON_CONTENT_LAYERS

        return list(dict.fromkeys([*JOHNSON_CONTENT_LAYERS, *CODE_LAYERS]))

    def generator_terms(self, c: torch.Tensor, s: torch.Tensor) -> tuple[dict[str, torch.Tensor], dict[str, float], torch.Tensor, torch.Tensor]:
        """Steps a-b and the generator's terms: ``(terms, weights, y, z)`` for content ``c`` and style crops ``s``."""
        from ..losses import (
            JOHNSON_CONTENT_LAYERS,
            colorfulness_loss,
            content_loss,
            contrast_loss,
            generator_loss,
            gram_matrix,
            style_loss,
            total_variation,
        )
        from .learned_losses import code_cycle_loss, consistency_g_loss

        cfg = self.config
        with torch.no_grad():
            fs = self.features(s, CODE_LAYERS)
            fc = self.features(c, JOHNSON_CONTENT_LAYERS)
        grams = {k: gram_matrix(v) for k, v in fs.items()}  # (N, C, C): each sample its own style
        z = self.encoder(fs)  # (N, d)      step a
        y = self.generator(c, z)  # (N, 3, S, S)   step b
        fy = self.features(y, self._layers())
        terms = {
            "content": content_loss(fy, fc, JOHNSON_CONTENT_LAYERS, check=False),
            "style": style_loss(fy, grams, {n: 1.0 for n in CODE_LAYERS}, check=False),
            "tv": total_variation(y, "l2", per_pixel=True),
            "adversarial": generator_loss(self.d_real(y), cfg.adv_kind, check=False),
            "consistency": consistency_g_loss(self.d_cons, y, s, cfg.adv_kind),
            "cycle": code_cycle_loss(self.encoder({k: fy[k] for k in CODE_LAYERS}), z.detach()),
        }
        weights = {"content": cfg.content_weight, "style": cfg.style_weight, "tv": cfg.tv_weight,
                   "adversarial": cfg.adv_weight, "consistency": cfg.consistency_weight, "cycle": cfg.cycle_weight}
        if cfg.colorfulness_weight > 0:
            terms["colorfulness"] = colorfulness_loss(y)
            weights["colorfulness"] = cfg.colorfulness_weight
        if cfg.contrast_weight > 0:
            terms["contrast"] = contrast_loss(y)
            weights["contrast"] = cfg.contrast_weight
        return terms, weights, y, z

    def _step(self) -> dict[str, Any]:
        from ..losses import discriminator_loss, weighted_sum
        from .learned_losses import consistency_d_loss

        cfg = self.config
        for m in (self.encoder, self.generator, self.d_real, self.d_cons):
            m.train()
        c = self.content.batch(cfg.batch_size).to(self.device)
        s, s2, t, _ = self.styles.batch(cfg.batch_size)
        s, s2, t = s.to(self.device), s2.to(self.device), t.to(self.device)
        # a-c: the generator and the encoder
        if cfg.train_generator:
            terms, weights, y, _ = self.generator_terms(c, s)
            total, values = weighted_sum(terms, weights)
            self.opt.zero_grad(set_to_none=True)
            total.backward()
            self._average_gradients(self.opt)
            self.opt.step()
        else:  # the discriminators only: the frozen generator's terms are still reported
            self.encoder.eval()
            self.generator.eval()
            with torch.no_grad():
                terms, weights, y, _ = self.generator_terms(c, s)
                total, values = weighted_sum(terms, weights)
        if values["total"] != values["total"]:
            raise NonFiniteError("Training loss became NaN: lower the learning rate or the weights.")
        # d: both discriminators on the detached output
        fake = y.detach()
        d_real = discriminator_loss(self.d_real(s2), self.d_real(fake), cfg.adv_kind, check=False)
        d_cons, scores = consistency_d_loss(self.d_cons, s2, s, fake, t if cfg.mismatched_pairs else None,
                                            cfg.adv_kind)
        self.opt_d.zero_grad(set_to_none=True)
        (d_real + d_cons).backward()
        self._average_gradients(self.opt_d)
        self.opt_d.step()
        values["d_realism"] = float(d_real.detach())
        values["d_consistency"] = float(d_cons.detach())
        values.update({f"score_{k}": v for k, v in scores.items()})
        return values

    def _average_gradients(self, opt: torch.optim.Optimizer) -> None:
        """Under ``torchrun``: average every gradient of ``opt``'s parameters over the ranks (what
        DistributedDataParallel does; done by hand because the encoder and the discriminators are
        called several times per step). A no-op in a single process."""
        if self.world == 1:
            return
        import torch.distributed as dist

        for group in opt.param_groups:
            for p in group["params"]:
                if p.grad is not None:  # the same parameters have no gradient on every rank
                    dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)
                    p.grad.div_(self.world)

    # -------------------------------------------------------------- using the models
    @torch.no_grad()
    def encode(self, examples: torch.Tensor) -> torch.Tensor:
        """The code of each example ``(N, 3, H, W)`` -> ``(N, d)``."""
        self.encoder.eval()
        return self.encoder(self.features(examples.to(self.device), CODE_LAYERS))

    def _preview_inputs(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self._preview_pair is None:
            from ..assets import load_bundled
            from ..imageio import resize_tensor

            c = resize_tensor(load_bundled(self.content_names[0], size=self.config.size),
                              (self.config.size, self.config.size))
            s = resize_tensor(self.styles.images[0], (self.config.size, self.config.size))
            self._preview_pair = (c.unsqueeze(0), s.unsqueeze(0))
        return self._preview_pair

    @torch.no_grad()
    def preview(self) -> torch.Tensor:
        """The first content photo stylised with the first training style's code, ``(3, S, S)``."""
        c, s = self._preview_inputs()
        self.generator.eval()
        return self.generator(c.to(self.device), self.encode(s))[0].float().clamp(0, 1).cpu()

    def summary(self) -> dict[str, Any]:
        last = self.history[-1] if self.history else {}
        return {"method": "learned-style", "steps_done": self.step_count, "final_loss": last.get("total"),
                "styles": len(self.style_names)}

    # -------------------------------------------------------------- state
    def _modules(self) -> dict[str, torch.nn.Module]:
        return {"encoder": self.encoder, "generator": self.generator, "d_real": self.d_real, "d_cons": self.d_cons}

    def _state(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: m.state_dict() for k, m in self._modules().items()}
        out.update(opt=self.opt.state_dict(), opt_d=self.opt_d.state_dict(), data_gen=self.data_gen.get_state())
        return out

    def _load_state(self, state: dict[str, Any]) -> None:
        try:
            for k, m in self._modules().items():
                m.load_state_dict(state[k])
            self.opt.load_state_dict(state["opt"])
            self.opt_d.load_state_dict(state["opt_d"])
            self.data_gen.set_state(state["data_gen"])
        except (RuntimeError, KeyError, ValueError, TypeError) as exc:
            raise CheckpointError(f"The saved weights do not fit these models: {exc}") from exc

    def init_from(self, model: "LearnedModel") -> list[str]:
        """Start from a trained model's encoder and generator (and its discriminators where they fit);
        returns the names of the modules taken over. The optimisers start fresh."""
        taken = []
        for name, mine, theirs in (("encoder", self.encoder, model.encoder), ("generator", self.generator, model.generator),
                                   ("d_cons", self.d_cons, model.d_cons)):
            if theirs is None:
                continue
            try:
                mine.load_state_dict(theirs.state_dict())
            except RuntimeError as exc:
                raise CheckpointError(f"The model's {name} does not fit this run's settings: {exc}") from exc
            taken.append(name)
        return taken

    def export(self) -> dict[str, Any]:
        """The shipped model: ``format`` :data:`MODEL_FORMAT`, the config, the steps, the styles and
        every model's weights (no optimiser): small, and ``weights_only`` loads it."""
        from ..run import config_to_dict

        return {"format": MODEL_FORMAT, "config": config_to_dict(self.config), "steps": self.step_count,
                "seconds": float(self.seconds), "styles": list(self.style_names), "content": list(self.content_names),
                **{k: m.state_dict() for k, m in self._modules().items()}}



def _default_device() -> torch.device:
    from ..run import resolve_device

    return resolve_device(None)


@dataclasses.dataclass
class LearnedModel:
    """A trained encoder and generator (frozen, eval mode) and what they were trained on."""

    encoder: StyleEncoder
    generator: StyledGenerator
    config: LearnedStyleConfig
    styles: tuple[str, ...]
    steps: int
    d_cons: StyleConsistencyD | None = None
    device: torch.device = dataclasses.field(default_factory=lambda: _default_device())

    @property
    def code_dim(self) -> int:
        return self.generator.code_dim

    def features(self, x: torch.Tensor, layers=CODE_LAYERS) -> dict[str, torch.Tensor]:
        """VGG16 features (the frozen, shared extractor; bf16 autocast where the device has a fast
        path, as in training), returned in fp32."""
        from ..device import autocast
        from ..features import get_extractor

        with autocast(self.device, enabled=self.config.precision != "fp32"):
            feats = get_extractor("vgg16", self.device)(x.to(self.device), list(layers))
        return {k: v.float() for k, v in feats.items()}

    @torch.no_grad()
    def encode(self, examples: torch.Tensor) -> torch.Tensor:
        """Codes ``(N, d)`` of style examples ``(N, 3, H, W)`` (or one ``(3, H, W)``)."""
        from ..validate import as_image_batch

        x, _ = as_image_batch(examples, name="style example")
        return self.encoder(self.features(x))

    @torch.no_grad()
    def stylize(self, content: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        """``G(c, z)``: content ``(3, H, W)`` and a code ``(d,)`` -> ``(3, H, W)`` on the CPU."""
        from ..validate import as_image_batch

        x, _ = as_image_batch(content, name="content image", max_batch=1)
        z = code.reshape(1, -1).to(self.device).float()
        return self.generator(x.to(self.device).float(), z)[0].float().clamp(0, 1).cpu()


def load_learned(path: str | Path | bytes | None = None, device: Any = None) -> LearnedModel:
    """The trained models from an :meth:`LearnedStyleRun.export` file, a run state, or the shipped
    checkpoint (``path=None``); read with ``weights_only=True``, built on ``meta`` (no random draws).

    Raises:
        CheckpointError: missing/unreadable file, another kind of checkpoint, weights that do not fit.
    """
    from ..checkpoint import load_checkpoint
    from ..record import ExperimentRecord
    from ..run import STATE_FORMAT, config_from_record, resolve_device

    what = "stylelab learned-style model"
    blob = load_checkpoint(SHIPPED if path is None else path, what)
    if isinstance(blob, dict) and blob.get("format") == STATE_FORMAT and blob.get("kind") == LearnedStyleRun.kind:
        state = blob["state"] if isinstance(blob.get("state"), dict) else {}
        blob = {**state, "format": MODEL_FORMAT, "config": blob.get("config"), "steps": blob.get("step_count", 0),
                "styles": list(blob.get("config", {}).get("styles", ()) or ())}
    if not isinstance(blob, dict) or blob.get("format") != MODEL_FORMAT:
        raise CheckpointError(f"This is not a {what} (expected format {MODEL_FORMAT!r}).")
    try:
        rec = ExperimentRecord(lab="style", config={"kind": LearnedStyleRun.kind, **blob["config"]}, seed=0)
        config = config_from_record(rec, LearnedStyleConfig, kind=LearnedStyleRun.kind)
    except Exception as exc:  # RecordError, KeyError, TypeError: all mean "not a config we can build"
        raise CheckpointError(f"The model's config is not valid: {exc}") from exc
    dev = resolve_device(device)
    with torch.device("meta"):
        enc = StyleEncoder(config.code_dim, config.enc_hidden)
        gen = StyledGenerator(config.code_dim, config.width, config.n_res)
        d_cons = StyleConsistencyD(config.d_width, config.code_dim)
    try:
        enc.load_state_dict(blob["encoder"], assign=True)
        gen.load_state_dict(blob["generator"], assign=True)
    except (RuntimeError, KeyError) as exc:
        raise CheckpointError(f"The model's weights do not fit the networks it describes: {exc}") from exc
    has_d = "d_cons" in blob
    if has_d:
        try:
            d_cons.load_state_dict(blob["d_cons"], assign=True)
        except (RuntimeError, KeyError) as exc:  # an older consistency D (instance-normalised trunk)
            import warnings

            warnings.warn(f"This model's consistency discriminator is of an older design and is not loaded "
                          f"(the encoder and generator are): {str(exc).splitlines()[0]}", stacklevel=2)
            has_d = False
    frozen = [m.to(dev).eval().requires_grad_(False) for m in (enc, gen)]
    dc = d_cons.to(dev).eval().requires_grad_(False) if has_d else None
    return LearnedModel(frozen[0], frozen[1], config, tuple(blob.get("styles", ())), int(blob.get("steps", 0)), dc, dev)


def learned_pass(content: torch.Tensor, style: torch.Tensor, personalize_steps: int = 0, strength_: float = 1.0,
                 model: str | Path | LearnedModel | None = None, device: Any = None, /, **names: Any):
    r"""Stylise ``content`` ``(3, H, W)`` like the picture ``style`` with the learned model: the encoder's
    code (or, with ``personalize_steps > 0``, the code optimised for that many steps), weakened toward
    the content's own code by ``strength_`` (:func:`stylelab.style.style_space.strength`).

    Returns:
        ``(image (3, H, W), ExperimentRecord)`` (the record carries the code, so it replays without the style).
    """
    import time

    from ..record import ExperimentRecord
    from .personalize import encoder_code, personalize
    from .style_space import strength

    if not isinstance(personalize_steps, int) or personalize_steps < 0:
        raise ConfigError(f"--personalize takes a number of steps >= 0; got {personalize_steps!r}.")
    t0 = time.perf_counter()
    m = model if isinstance(model, LearnedModel) else load_learned(model, device)
    summary: dict[str, Any] = {"method": "learned", **names}
    if personalize_steps > 0:
        res = personalize(m, content, [style], steps=personalize_steps)
        code = res.code
        summary.update(encoder_style_loss=res.encoder_loss, personalized_style_loss=res.loss)
    else:
        code = encoder_code(m, [style])
    if strength_ < 1.0:
        code = strength(code, m.encode(content)[0].cpu(), strength_)
    image = m.stylize(content, code)
    summary.update(code=code.flatten().tolist(), ms=(time.perf_counter() - t0) * 1000)
    config = {"method": "learned", "personalize": int(personalize_steps), "strength": float(strength_),
              "size": int(max(content.shape[-2:])), "model_steps": m.steps}
    return image, ExperimentRecord(lab="style", config=config, summary=summary, device=str(m.device))


def small_run(seed: int = 0, device: Any = None) -> LearnedStyleRun:
    """A small run for the catalogue: 32 px crops, the three textures as styles, code of 8, a width-4
    generator with one residual block; each step well under a second."""
    config = LearnedStyleConfig(size=32, batch_size=1, steps=6, code_dim=8, width=4, n_res=1, enc_hidden=16,
                                d_width=4, style_scale=48, styles=("texture:brick", "texture:grass", "texture:gravel"),
                                content=("photo:coffee", "photo:rocket"))
    return LearnedStyleRun(config, seed=seed, device=device)


__all__ = ["MODEL_FORMAT", "SHIPPED", "HELD_OUT_STYLES", "HELD_OUT_CONTENT", "training_styles", "training_content",
           "LearnedStyleConfig", "StyleBank", "LearnedStyleRun", "LearnedModel", "load_learned", "learned_pass",
           "small_run"]
