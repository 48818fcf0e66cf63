"""The 1D/2D/3D convolution playground, one job per module:

shapes   size formulas, ``Conv``, ``make_conv``, ``make_pool``, ``ConvSpec`` (the one validation of a layer)
stacks   layers one after another, receptive fields
text     the formula, the layer's account and the stack's table as text
samples  a heartbeat signal, a photo, volumes
kernels  named filters and the n-d correlation
figures  the drawings, with the filter's window highlighted
"""
