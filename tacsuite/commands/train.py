"""`tacsuite train ALGO ...`: train one agent and write its run folder.

`TRAINERS` maps each algorithm name to its module; every module exposes a `@dataclass
Config` (with env, env_kwargs, seed, out and the algorithm's hyperparameters, each with a
one-line docstring that becomes its `--help`) and `train(config) -> dict`. Modules are
imported only when their algorithm is chosen. `module:NAME` names a preset inside a
module: an object with the same `Config`, `train` (and `summary`).
"""

from __future__ import annotations

import importlib
import json

from tacsuite.common.cliargs import dispatch, run_config
from tacsuite.common.tblog import tensorboard

TRAINERS: dict[str, str] = {
    "dr-rpo": "tacsuite.agents.dr_rpo",
    "dr-lsvi-ucb": "tacsuite.agents.dr_lsvi_ucb",
    "lsvi-ucb": "tacsuite.agents.lsvi_ucb",
    "mbrcsl": "tacsuite.agents.mbrcsl",
    "rcsl": "tacsuite.agents.rcsl",
    "bc": "tacsuite.agents.bc",
    "pbc": "tacsuite.agents.pbc",
    "dt-lite": "tacsuite.agents.dt_lite",
    "iql": "tacsuite.agents.iql",
    "er-dqn": "tacsuite.agents.er_dqn",
    "model-dqn": "tacsuite.agents.model_dqn",
    "perfect-model-dqn": "tacsuite.agents.perfect_model_dqn",
    "loop": "tacsuite.agents.loop",
    "ucrl2": "tacsuite.agents.ucrl2",
    "psrl": "tacsuite.agents.psrl",
    "optimistic-q": "tacsuite.agents.optimistic_q",
    "lsvi-disc": "tacsuite.agents.lsvi_disc",
    "mbpo-vagram": "tacsuite.agents.mbpo:VAGRAM",
    "mbpo-mle": "tacsuite.agents.mbpo:MLE",
    "mbpo-mse": "tacsuite.agents.mbpo:MSE",
    "sac": "tacsuite.agents.mbpo:SAC",
    "ppo": "tacsuite.agents.ppo",
}


def summary_line(name: str, result: dict, out: str, module=None) -> str:
    """One readable line: the headline figures of a training run and where it is.

    An agent module may define `summary(result) -> str` for its own headline figures."""
    if module is not None and hasattr(module, "summary"):
        parts = [module.summary(result)]
    elif "eval_return" in result:  # offline agents
        ci = result.get("eval_return_ci") or {}
        parts = [f"eval return {result['eval_return']:.2f}"
                 + (f" (95% CI {ci['ci_low']:.2f}..{ci['ci_high']:.2f})"
                    if ci.get("ci_low") is not None else ""),
                 f"success {result['success_rate']:.2f}"]
        if result.get("normalized_score") is not None:
            parts.append(f"normalized {result['normalized_score']:.0f}")
    else:  # linear agents
        parts = [f"mean return {result['mean_return']:.3f} over {result['episodes']} "
                 f"episodes (last 10% {result['mean_return_last_10pct']:.3f})"]
        oracle = result.get("oracle")
        if oracle:
            parts.append(f"robust suboptimality {oracle['suboptimality']:.4f}")
    return f"{name}: {', '.join(parts)} in {result['seconds']:.1f} s -> {out}"


def _runner(name: str, module_path: str):
    def run(argv: list[str], prog: str) -> int:
        as_json, board = "--json" in argv, "--tensorboard" in argv
        argv = [a for a in argv if a not in ("--json", "--tensorboard")]
        path, _, preset = module_path.partition(":")
        module = importlib.import_module(path)
        if preset:
            module = getattr(module, preset)
        description = (module.__doc__ or "").strip().split("\n\n")[0]
        config = run_config(module.Config, argv, prog, description=description +
                            "\n\nPrints a one-line summary; --json prints result.json instead. "
                            "--tensorboard also writes TensorBoard event files to "
                            "OUT/tensorboard/.")
        with tensorboard(board):
            result = module.train(config)
        if as_json:
            print(json.dumps(result))
        else:
            print(summary_line(name, result, config.out or "(no run folder)", module))
        return 0

    return run


def main(argv: list[str], prog: str) -> int:
    table = {name: (_runner(name, mod), f"train with {mod} (`{prog} {name} --help`)")
             for name, mod in TRAINERS.items()}
    return dispatch(table, argv, prog, "Train an agent; writes config.json, metrics.jsonl, "
                    "result.json and returns.npy (policy.json for finite-state envs) to --out.")
