"""stylelab.gan: small GANs you can watch learn, from 2-D points to digits and clothes.

==================  ==========================================================================
module              what it holds
==================  ==========================================================================
``config``          ``GANConfig`` and the data set names, importable without torch (CLI flags)
``objectives``      the one loss table (label, probabilistic, smoothing allowed) and the lab's equations
``data``            toy 2-D distributions (ring, grid, spiral, moons, line, gaussian), image sets
``models``          MLP G/D for points; DCGAN G/D for 8x8 and 28x28 images; class-conditional;
                    ``build_seeded`` (weights from a run's own generator, never the global RNG)
``train``           ``GANTrainer``: a ``stylelab.run.Run`` (kind ``gan``; step, checkpoints, records)
``compare``         ``LossComparison``: a Run (kind ``gan-compare``) training one GAN per loss
``metrics``         energy distance, MMD, mode coverage, Fréchet distance, KID, class histogram
``classifier``      the small CNN whose features FID/KID use (trained once per dataset, cached)
``viz``             decision surface, generator gradient arrows, latent interpolation, walks, strips
``ddp``             ``torchrun --nproc_per_node N -m stylelab.gan.ddp``: data-parallel training
``cli``             ``python -m stylelab gan train ...``
``bench``           steps per second and time-to-recognisable-digits on this machine
==================  ==========================================================================

The adversarial losses themselves live in :mod:`stylelab.losses.adversarial` (one function per
equation). Names are re-exported lazily so ``import stylelab.gan`` stays cheap.
"""

from __future__ import annotations

from .._lazy import lazy_exports

_MODULES = {
    "data": ("TOY_DATASETS", "IMAGE_DATASETS", "DATASETS", "ImageSet", "class_names", "sample_toy", "toy_modes", "load_image_set",
             "to_unit", "is_toy"),
    "models": ("MLPGenerator", "MLPDiscriminator", "DCGenerator", "DCDiscriminator", "build_seeded"),
    "train": ("GANConfig", "GANTrainer", "LIVE_FIELDS", "label_smoothing_term", "d_output"),
    "objectives": ("AdversarialSpec", "LOSSES", "PROBABILISTIC", "SMOOTHING_OK", "loss_spec", "loss_label"),
    "compare": ("LossComparison", "CompareConfig", "compare_losses"),
    "metrics": ("energy_distance", "mmd2_unbiased", "mode_coverage", "ModeCoverage", "frechet_distance",
                "kernel_distance", "class_histogram", "class_coverage", "mode_collapse_warning"),
    "classifier": ("FeatureClassifier", "ImageEvaluator", "get_classifier"),
    "viz": ("decision_surface", "generator_gradients", "generator_gradient_norm", "interpolate", "lerp", "slerp", "latent_walk",
            "latent_strips", "class_rows"),
}
__all__, __getattr__, __dir__ = lazy_exports(__name__, _MODULES, globals())
