"""The `tacsuite` command line: one sub-command per capability.

Each entry names the module whose `main(argv, prog)` implements it; modules are imported
only when their command runs, so `tacsuite --help` stays fast.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence

from tacsuite.common.cliargs import dispatch
from tacsuite.common.validate import MissingExtra

COMMANDS: dict[str, tuple[str, str]] = {
    "envs": ("tacsuite.commands.envs", "List every registered environment id with a summary."),
    "data": ("tacsuite.commands.data", "Generate and list offline datasets (Minari format)."),
    "demo": ("tacsuite.commands.demo", "Run the tour of the suite and write runs/demo/."),
    "lsd": ("tacsuite.commands.lsd", "Plan or learn last-switch-dependent (LSD) bandits."),
    "train": ("tacsuite.commands.train",
              "Train an agent (dr-rpo, dr-lsvi-ucb, lsvi-ucb, mbrcsl, rcsl, bc, pbc, dt-lite, "
              "iql, loop, ucrl2, psrl, optimistic-q, lsvi-disc, er-dqn, model-dqn, "
              "perfect-model-dqn, ppo, sac)."),
    "evaluate": ("tacsuite.commands.evaluate",
                 "Mean return with a CI of a trained policy in a (shifted) environment."),
    "sim": ("tacsuite.commands.sim", "Gel simulator: quasi-static press with gradients."),
    "sysid": ("tacsuite.commands.sysid",
              "Identify gel and contact parameters from press/slide/twist data (synth, fit)."),
    "optimize": ("tacsuite.commands.optimize",
                 "Solve a tactile task open-loop by simulator gradients or CMA-ES."),
    "sweep": ("tacsuite.commands.sweep",
              "Run a sweep spec (algorithms x options x seeds) locally or on Ray, resumably."),
    "report": ("tacsuite.commands.report",
               "IQM with bootstrap CIs, curves and profiles of a sweep folder."),
}


def _lazy(module: str):
    def run(argv: list[str], prog: str) -> int:
        return importlib.import_module(module).main(argv, prog)

    return run


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--version":
        from tacsuite import __version__
        from tacsuite.sim.backend import INSTALL, compiler

        try:
            c = compiler()
        except ValueError as exc:
            print(f"tacsuite: error: {exc}", file=sys.stderr)
            return 2
        installed = c["version"] or f"(not installed: {INSTALL[c['name']]})"
        print(f"tacsuite {__version__}\nsimulator compiler: {c['name']} {installed}")
        return 0
    table = {name: (_lazy(mod), summary) for name, (mod, summary) in COMMANDS.items()}
    try:
        return dispatch(table, argv, "tacsuite",
                        "tacsuite: differentiable tactile simulation, Gymnasium environments, "
                        "agents and exact oracles for contact-rich, theory-grounded RL.")
    except (ValueError, FileNotFoundError, KeyError, MissingExtra) as exc:
        if os.environ.get("TACSUITE_DEBUG"):
            raise
        print(f"tacsuite: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
