"""nst_core: the neural style transfer engine of Gatys et al. (2015) on VGG19, with no UI code.

checks           one-sentence checks of user values (``InputError``)
atomic           files written to a temporary name and renamed into place
images           loading images safely; resizing
memory           the memory budget and size texts such as 4G
disk             the disk bound on the studio's files (NST_CACHE_LIMIT), oldest first out
vgg              VGG19 from the bundled Caffe weights; layer names conv1_1 … relu5_4
receptive_field  each layer's receptive field R, jump J and padding P
losses           the costs: content, Gram, style, guided (regional) style, TV
color            colour control: luminance-only, Monge–Kantorovich colour matching
regions          painted regions: the mask format and its guidance channels
options          ``StyleOptions``: every setting and its default; the presets
tiling           J and its gradient, exactly, one tile at a time
estimate         time and memory before a run; the tile that fits
stylize          ``StyleTransfer``: the optimisation, coarse to fine
metadata         PNGs that carry their settings (and regions)
cli              the command line
"""
from .images import ImageError, load_image
from .options import StyleOptions
from .stylize import Progress, StyleTransfer

__all__ = ["ImageError", "Progress", "StyleOptions", "StyleTransfer", "load_image"]
