"""One call seeds every random source the suite uses."""

from __future__ import annotations

import os
import random
import sys

import numpy as np


def set_seed(seed: int, *, deterministic_torch: bool = False) -> np.random.Generator:
    """Seed Python's `random`, NumPy's legacy global RNG, torch and Taichi.

    Returns a fresh `numpy.random.Generator` for the caller's own draws. Taichi's
    random seed is fixed at `ti.init`, so it is stored for `tacsuite.sim.backend` and
    applies when Taichi starts in this process (suite kernels draw no Taichi randoms).
    """
    if not isinstance(seed, int | np.integer) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    os.environ["TACSUITE_SEED"] = str(seed)
    if "torch" in sys.modules or _torch_importable():
        import torch

        torch.manual_seed(seed)
        if deterministic_torch:
            torch.use_deterministic_algorithms(True)
    return np.random.default_rng(seed)


def _torch_importable() -> bool:
    import importlib.util

    return importlib.util.find_spec("torch") is not None
