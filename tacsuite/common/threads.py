"""Thread defaults. On small machines torch's intra-op pool fights the simulator for
cores (17x slower PPO measured on 2 vCPUs), so the suite runs torch on one thread unless
TACSUITE_TORCH_THREADS says otherwise."""

from __future__ import annotations

import os


def configure_torch_threads() -> int:
    import torch

    raw = os.environ.get("TACSUITE_TORCH_THREADS", "1")
    try:
        n = int(raw)
    except ValueError as exc:
        raise ValueError(f"TACSUITE_TORCH_THREADS must be a positive integer, got {raw!r}") from exc
    if n < 1:
        raise ValueError(f"TACSUITE_TORCH_THREADS must be a positive integer, got {raw!r}")
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n
