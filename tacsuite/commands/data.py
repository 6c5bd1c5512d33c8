"""`tacsuite data`: generate and inspect the suite's offline datasets (Minari format)."""

from __future__ import annotations

import dataclasses

import numpy as np
from tyro.conf import Positional

from tacsuite.common.cliargs import dispatch, run_config


@dataclasses.dataclass
class MakeConfig:
    name: Positional[str]
    """Dataset name (see `tacsuite data list`), e.g. gridstitch-mixed."""
    seed: int = 0
    """Seed of the generator; seed 0 is the canonical id, others get a `-s<seed>` suffix."""
    episodes: int | None = None
    """Number of episodes (default: the dataset's own size; another size gets its own id)."""


@dataclasses.dataclass
class ListConfig:
    pass


def _make(argv: list[str], prog: str) -> int:
    from tacsuite.envs import datasets

    cfg = run_config(MakeConfig, argv, prog, description="Generate a named offline dataset "
                     "and store it under $MINARI_DATASETS_PATH (default ~/.minari/datasets, "
                     "Minari's own); "
                     "--episodes other than the dataset's size gets its own id (-n<episodes>).")
    dataset_id = datasets.make(cfg.name, seed=cfg.seed, episodes=cfg.episodes)
    eps = datasets.read_episodes(dataset_id)
    returns = np.array([e["rewards"].sum() for e in eps])
    print(f"{dataset_id}: {len(eps)} episodes, {sum(len(e['rewards']) for e in eps)} steps, "
          f"return mean {returns.mean():.2f} max {returns.max():.2f} "
          f"at {datasets.dataset_path(dataset_id)}")
    return 0


def _list(argv: list[str], prog: str) -> int:
    from tacsuite.envs import datasets

    run_config(ListConfig, argv, prog, description="List the named datasets.")
    width = max(len(n) for n in datasets.DATASETS) + 2
    for name, spec in datasets.DATASETS.items():
        print(f"{name:<{width}}{spec.minari_id}  ({spec.env_id}, {spec.episodes} episodes): "
              f"{spec.description}")
    return 0


def main(argv: list[str], prog: str) -> int:
    return dispatch({"make": (_make, "Generate a named dataset (Minari, lossless)."),
                     "list": (_list, "List the named datasets.")}, argv, prog,
                    "Offline datasets: generation by seeded scripts, Minari storage.")
