"""Feature visualisation (Olah et al., Distill 2017): the image each unit wants to see, one file per idea, as in
Lucent's ``optvis``:

param         the image's parameterisation: pixels or a 1/f-scaled Fourier spectrum
color         colour decorrelation from the photos' RGB covariance, and the squash into [0, 1]
objectives    what to maximise: ``channel``, ``neuron``, with arithmetic
transforms    jitter, scale, rotate, pad, composed
render        the driver: coarse to fine optimisation, progress, stop
vis_settings  ``VisSettings``: every default, and the settings a PNG carries
"""
