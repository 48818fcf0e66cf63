"""The 1D/2D/3D convolution playground: shapes by formula (checked by the real torch layer) and visuals."""
