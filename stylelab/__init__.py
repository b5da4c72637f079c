"""stylelab: learn how image generation works, equation by equation.

The package is split by idea (see README "Architecture"):

- ``stylelab.assets``      every offline asset (weights, data, images): where from, licence, loader
- ``stylelab.features``    frozen VGG16 / AlexNet feature extractors with named layers
- ``stylelab.imageio``     robust image loading (any mode, EXIF, size limits) and export
- ``stylelab.device``      device / dtype / seed helpers
- ``stylelab.record``      the experiment record every lab exports and re-imports
- ``stylelab.losses``      one pure function per loss equation, with a registry
- ``stylelab.style``       neural style transfer (Gatys, feed-forward, arbitrary)
- ``stylelab.gan``         small GANs, training loops and GAN metrics
- ``stylelab.inpaint``     masks, classical / DIP / U-Net inpainting
- ``stylelab.aesthetics``  image-aesthetics measures and aesthetic adjustment

Importing ``stylelab`` is cheap: heavy modules (torch, torchvision) are imported by the
sub-modules that need them, never here.
"""

__version__ = "0.1.0"
