"""Typed errors of stylelab.

Every error the library raises on bad input derives from :class:`StylelabError` and carries a
message written for a human (a student in front of the app), so the UI can show ``str(err)``
as is.
"""


class StylelabError(Exception):
    """Base class for every error stylelab raises on purpose."""


class AssetError(StylelabError):
    """An offline asset (weights, dataset, image) is missing or unreadable."""


class ImageError(StylelabError, ValueError):
    """An image could not be used. Subclasses say why."""


class EmptyImageError(ImageError):
    """The input holds no bytes / no pixels."""


class CorruptImageError(ImageError):
    """The input is not a readable image (wrong format, truncated, garbage)."""


class ImageTooLargeError(ImageError):
    """The image has more pixels than the configured maximum (decompression-bomb guard)."""


class UnsupportedImageError(ImageError):
    """The image is readable but its layout or mode cannot be converted."""


class ShapeError(StylelabError, ValueError):
    """Tensors have the wrong rank, size, channels or do not match each other."""


class NonFiniteError(StylelabError, ValueError):
    """A tensor contains NaN or infinity where finite values are required."""


class ConfigError(StylelabError, ValueError):
    """A configuration value is out of its allowed range."""


class CheckpointError(StylelabError):
    """A checkpoint is unreadable, unsafe, or was made for another model."""


class RecordError(StylelabError, ValueError):
    """An experiment record (JSON) is malformed or belongs to another lab."""


class StopRequested(StylelabError):
    """Raised inside a long loop when the caller asked it to stop (not a failure)."""
