"""A clip in, a stylized clip out, steady from frame to frame (Ruder, Dosovitskiy & Brox 2016).

frames      clips in and out with PyAV: MP4/WebM/MOV/GIF in, H.264 MP4 or GIF out, atomically
flow        DIS optical flow of the content, warping along it, the forward-backward consistency mask
temporal    the temporal cost gamma D J_temporal, added to J (``TemporalStyleTransfer``)
sequence    ``ClipStylizer``: frame 1 as a still, later frames warm-started from the warped previous result
steadiness  the temporal warping error of a stylized clip (Lai et al. 2018)
checkpoint  the finished frames of a stopped run, to continue from
command     the command line's clip path
"""
from .frames import Clip, read_clip, write_clip
from .sequence import ClipStylizer, TEMPORAL_WEIGHT

__all__ = ["Clip", "ClipStylizer", "TEMPORAL_WEIGHT", "read_clip", "write_clip"]
