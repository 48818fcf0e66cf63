"""nst_core: the neural style transfer engine of Gatys et al. (2015) on VGG19, with no UI code."""
from .images import ImageError, load_image
from .options import StyleOptions
from .stylize import Progress, StyleTransfer

__all__ = ["ImageError", "Progress", "StyleOptions", "StyleTransfer", "load_image"]
