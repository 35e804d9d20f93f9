"""Taichi kernels of the binned pipeline, built by cached factories keyed by static config."""
