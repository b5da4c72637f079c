"""stylelab: learn how image generation works, equation by equation.

The package is split by idea:

- ``stylelab.assets``      every offline asset (weights, data, images): where from, licence, loader
- ``stylelab.features``    frozen VGG16 / AlexNet feature extractors with named layers
- ``stylelab.imageio``     robust image loading (any mode, EXIF, size limits) and export
- ``stylelab.device``      device / dtype / thread helpers (``get_device()`` is every default)
- ``stylelab.run``         the Run contract every long computation follows (step, state, record)
- ``stylelab.record``      the experiment record every lab exports and re-imports
- ``stylelab.entry``       command-line plumbing: errors -> exit 2, torchrun, flags from configs
- ``stylelab.validate``    the one image validator; ``stylelab.checkpoint`` the one checkpoint format
- ``stylelab.losses``      one pure function per loss equation, with a registry
- ``stylelab.style``       neural style transfer (Gatys, feed-forward, arbitrary)
- ``stylelab.gan``         small GANs, training loops and GAN metrics
- ``stylelab.inpaint``     masks, classical / DIP / U-Net inpainting
- ``stylelab.aesthetics``  image-aesthetics measures and aesthetic adjustment

Importing ``stylelab`` is cheap: heavy modules (torch, torchvision) are imported by the
sub-modules that need them, never here.
"""

__version__ = "0.1.0"
