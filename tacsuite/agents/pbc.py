"""%BC: behaviour cloning of the top 10% of episodes by return (`bc` with fraction 0.1)."""

from __future__ import annotations

from dataclasses import dataclass

from tacsuite.agents import bc


@dataclass
class Config(bc.Config):
    out: str = "runs/pbc"
    fraction: float = 0.1
    """Share of episodes (best returns first) to clone."""


def train(config: Config) -> dict:
    return bc.train(config)
