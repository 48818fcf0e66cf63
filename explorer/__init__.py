"""explorer: the Zeiler & Fergus unit explorer and the 1D/2D/3D convolution playground (no Gradio here)."""
