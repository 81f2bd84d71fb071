"""dlib_torch: disentanglement_lib rebuilt on PyTorch and gin-config."""

__version__ = "0.1.0"
