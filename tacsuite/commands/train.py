"""`tacsuite train ALGO ...`: train one agent and write its run folder.

`TRAINERS` maps each algorithm name to its module; every module exposes a `@dataclass
Config` (with env, env_kwargs, seed, out and the algorithm's hyperparameters, each with a
one-line docstring that becomes its `--help`) and `train(config) -> dict`. Modules are
imported only when their algorithm is chosen.
"""

from __future__ import annotations

import importlib
import json

from tacsuite.common.cliargs import dispatch, run_config

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
    "loop": "tacsuite.agents.loop",
    "ucrl2": "tacsuite.agents.ucrl2",
    "psrl": "tacsuite.agents.psrl",
    "optimistic-q": "tacsuite.agents.optimistic_q",
    "lsvi-disc": "tacsuite.agents.lsvi_disc",
}


def _runner(module_path: str):
    def run(argv: list[str], prog: str) -> int:
        module = importlib.import_module(module_path)
        description = (module.__doc__ or "").strip().split("\n\n")[0]
        config = run_config(module.Config, argv, prog, description=description)
        result = module.train(config)
        print(json.dumps({k: v for k, v in result.items() if not isinstance(v, list)}))
        return 0

    return run


def main(argv: list[str], prog: str) -> int:
    table = {name: (_runner(mod), f"train with {mod} (`{prog} {name} --help`)")
             for name, mod in TRAINERS.items()}
    return dispatch(table, argv, prog, "Train an agent; writes config.json, metrics.jsonl, "
                    "result.json and returns.npy (policy.json for finite-state envs) to --out.")
