"""`tacsuite optimize`: solve a tactile task open-loop by gradients or by CMA-ES.

    tacsuite optimize --env tacsuite/SurfaceFollow-v0 --method grad --budget-seconds 30 \\
        --seed 0 --out runs/opt/sf-grad

Writes config.json, result.json (final_loss, success, return, sim_steps, seconds, the
curve), curve.png (best loss against wall-clock and simulator steps), episode.gif (the
best plan replayed in the env, drawn with the env's rgb_array frames, written by PIL)
and actions.npy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from tacsuite.common.cliargs import parse_kwargs, run_config

METHODS = ("grad", "cmaes")


@dataclass
class Config:
    env: str = "tacsuite/SurfaceFollow-v0"
    """Tactile task id."""
    method: str = "grad"
    """grad (Adam on simulator gradients) or cmaes (CMA-ES, batched population)."""
    loss: str = "state"
    """Loss: state, tactile or both."""
    budget_seconds: float = 30.0
    """Wall-clock budget (s); kernel compilation runs before the clock starts."""
    seed: int = 0
    """Seed."""
    env_kwargs: str = ""
    """Task keyword arguments, k=v,k2=v2 (e.g. horizon=20)."""
    lr: float = 0.1
    """grad: Adam learning rate."""
    chains: int = 16
    """grad: Adam chains run side by side in the world's batch axis (multi-start)."""
    spread: float = 0.3
    """grad: noise (std) of the extra chains' starts around the initial guess."""
    sigma0: float = 0.3
    """cmaes: initial step size."""
    popsize: int = 0
    """cmaes: population (0: cma's default)."""
    out: str = "runs/optimize"
    """Run folder."""
    overwrite: bool = False
    """Replace a run already in --out."""


def optimize(config: Config) -> dict:
    from tacsuite.agents import cmaes, trajopt
    from tacsuite.agents.common.openloop import task_of, write_run
    from tacsuite.common.runs import RunDir
    from tacsuite.envs.tactile.rollout import LOSS_KINDS

    for opt, value, allowed in (("--method", config.method, METHODS),
                                ("--loss", config.loss, LOSS_KINDS)):
        if value not in allowed:
            raise ValueError(f"{opt} must be one of {list(allowed)}, got {value!r}")
    if not config.budget_seconds > 0:
        raise ValueError(f"--budget-seconds must be > 0, got {config.budget_seconds}")
    task = task_of(config.env, parse_kwargs(config.env_kwargs))
    with RunDir(config.out, config) as run:
        if config.method == "grad":
            curve, best = trajopt.run(task, config.budget_seconds, config.loss, config.lr,
                                      config.seed, chains=config.chains, spread=config.spread)
        else:
            curve, best = cmaes.run(task, config.budget_seconds, config.loss, config.sigma0,
                                    config.popsize, config.seed)
        return write_run(run, config.method, curve, best, task,
                         {"env": config.env, "loss": config.loss, "seed": config.seed})


def main(argv: list[str], prog: str) -> int:
    as_json = "--json" in argv
    argv = [a for a in argv if a != "--json"]
    config = run_config(Config, argv, prog, description=(__doc__ or "").strip().split("\n\n")[0])
    result = optimize(config)
    if as_json:
        print(json.dumps({k: v for k, v in result.items() if k != "curve"}))
    else:
        print(f"{config.method} on {config.env}: loss {result['final_loss']:.4g}, success "
              f"{result['success']}, return {result['return']:.2f}, {result['sim_steps']} sim "
              f"steps in {result['seconds']:.1f} s -> {config.out}")
    return 0
