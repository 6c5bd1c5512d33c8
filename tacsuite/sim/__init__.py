"""Differentiable tactile simulation in Taichi (no Gymnasium, no torch agents here)."""
