"""The configuration fields, checks, run folder, evaluation and saved actor every offline
agent shares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from tacsuite.agents.common import saved
from tacsuite.common.cliargs import parse_kwargs
from tacsuite.common.runs import RunDir, check_out
from tacsuite.common.seeding import set_seed
from tacsuite.common.validate import (
    AT_LEAST_ONE,
    NON_NEGATIVE,
    POSITIVE,
    Interval,
    check_env_kwargs,
    check_numbers,
    env_spec,
)

MLP_ACTOR = "mlp-actor"


@dataclass
class OfflineConfig:
    env: str = "tacsuite/GridStitch-v0"
    """Gymnasium id used for evaluation."""
    env_kwargs: str = ""
    """Extra gym.make arguments as k=v,k2=v2 (Python literals)."""
    dataset: str = "gridstitch-mixed"
    """Named offline dataset (`tacsuite data list`); generated on first use."""
    dataset_seed: int = 0
    """Seed of the dataset generator."""
    seed: int = 0
    """Seed of training and evaluation."""
    out: str = "runs/offline"
    """Run folder (config.json, metrics.jsonl, result.json, agent.json)."""
    eval_episodes: int = 20
    """Evaluation episodes (full horizon, no early termination)."""
    overwrite: bool = False
    """Clear --out first when it holds an earlier run."""
    resume: bool = False
    """Reuse the agent saved in --out (same options) and evaluate it again, else train."""

    LIMITS: ClassVar[dict[str, Interval]] = {
        "eval_episodes": AT_LEAST_ONE, "seed": NON_NEGATIVE, "dataset_seed": NON_NEGATIVE,
        "epochs": AT_LEAST_ONE, "batch": AT_LEAST_ONE, "hidden": AT_LEAST_ONE,
        "lr": POSITIVE, "weight_decay": NON_NEGATIVE}


def env_kwargs(config: OfflineConfig) -> dict[str, Any]:
    kw = config.env_kwargs
    return dict(kw) if isinstance(kw, dict) else parse_kwargs(kw)


def check(config: OfflineConfig) -> None:
    """Everything that can be checked before the dataset is read or generated."""
    import gymnasium as gym
    from gymnasium import spaces

    from tacsuite.envs import datasets

    check_numbers(config)
    spec, _ = datasets.resolve(config.dataset, config.dataset_seed)
    env_spec(spec.env_id)
    kwargs = env_kwargs(config)
    check_env_kwargs(config.env, kwargs)
    check_out(config.out)
    env = gym.make(config.env, **kwargs)
    data_env = gym.make(spec.env_id, **dict(spec.env_kwargs))
    try:
        for what, space in (("observations", env.observation_space),
                            ("actions", env.action_space)):
            if not (isinstance(space, spaces.Box) and len(space.shape) == 1):
                raise ValueError(f"the offline agents need 1-D continuous (Box) {what}; "
                                 f"{config.env} has {space}")
        for what in ("observation_space", "action_space"):
            mine, theirs = getattr(env, what), getattr(data_env, what)
            if mine.shape != theirs.shape:
                raise ValueError(f"--env {config.env} has {what} {mine} but dataset "
                                 f"{config.dataset!r} was collected in {spec.env_id} with "
                                 f"{theirs}; choose a dataset of that env")
    finally:
        env.close()
        data_env.close()


def start(config: OfflineConfig) -> tuple[np.random.Generator, list[dict]]:
    """Seed everything and load (or generate) the dataset's episodes."""
    from tacsuite.envs import datasets

    if config.eval_episodes < 1:
        raise ValueError(f"eval_episodes must be >= 1, got {config.eval_episodes}")
    rng = set_seed(config.seed)
    episodes = datasets.load(config.dataset, config.dataset_seed)
    return rng, episodes


def open_run(config: OfflineConfig) -> RunDir:
    """Check the options, then take the run folder (refused if it holds another run)."""
    check(config)
    return RunDir(config.out, config, resumable=True)


def resumed_agent(run: RunDir, kinds: tuple[str, ...]) -> tuple[dict, dict] | None:
    """(meta, arrays) of the agent a resumed run saved, or None (train it)."""
    if not run.resumed:
        return None
    run.check_resume(changeable=("eval_episodes",))
    if not saved.has_agent(run.path):
        return None
    _, meta, arrays = saved.load_agent(run.path, kinds=kinds)
    return meta, arrays


def evaluate_actor(config: OfflineConfig, actor, *, record: bool = False) -> dict:
    """`trajectories.evaluate` of `actor` in config.env for config.eval_episodes episodes.

    Training seed s evaluates on episodes reset with seeds 10,000 s, 10,000 s + 1, ...:
    runs of different seeds are tested on different episodes."""
    from tacsuite.agents.common.trajectories import evaluate

    return evaluate(config.env, actor, config.eval_episodes, 10_000 * config.seed,
                    env_kwargs(config), record=record)


def write_result(run: RunDir, config: OfflineConfig, evaluation: dict, t0: float,
                 curves: dict, **extra) -> dict:
    """Write and return result.json (`trajectories.summarize`) of a run started at
    `time.perf_counter()` = t0."""
    import time

    from tacsuite.agents.common.trajectories import summarize

    result = summarize(config.env, evaluation, time.perf_counter() - t0, curves, **extra)
    run.write_result(result)
    return result


# ---------------------------------------------------------------- the MLP actor

def save_mlp_actor(run: RunDir, algo: str, net, scale, hidden, curves: dict, *,
                   tanh: bool = False, target: float | None = None, **extra
                   ) -> tuple[dict, dict]:
    """An MLP from observations (and return-to-go when `target` is set) to actions;
    returns what it saved, (meta, arrays)."""
    linears = [m for m in net if hasattr(m, "out_features")]
    meta = {"algo": algo, "n_in": int(linears[0].in_features),
            "n_out": int(linears[-1].out_features), "hidden": [int(h) for h in hidden],
            "tanh": bool(tanh), "target": target, "curves": curves, **extra}
    arrays = saved.module_arrays("net", net)
    arrays.update({"scale.mean": scale.mean.numpy(), "scale.std": scale.std.numpy()})
    saved.save_agent(run.path, MLP_ACTOR, meta, arrays)
    return meta, arrays


def mlp_actor_from_saved(meta: dict, arrays: dict):
    """(actor for trajectories.evaluate, net, scale) rebuilt from `save_mlp_actor` data."""
    import torch

    from tacsuite.agents.common.mlp import Standardizer, mlp, tensor

    net = mlp(int(meta["n_in"]), int(meta["n_out"]), meta["hidden"],
              out_activation=torch.nn.Tanh() if meta["tanh"] else None)
    saved.load_module("net", net, arrays)
    scale = Standardizer.from_arrays(arrays["scale.mean"], arrays["scale.std"])
    target = meta.get("target")

    @torch.no_grad()
    def actor(obs, collected, t):
        x = obs if target is None else np.concatenate(
            [obs, np.asarray(target - collected).reshape(-1, 1)], axis=1)
        return net(scale(tensor(x))).numpy()

    return actor, net, scale


# ---------------------------------------------------------------- training checkpoints

CHECKPOINT_KIND = "offline-checkpoint"


def _rng_state(rng: np.random.Generator) -> tuple[dict, dict]:
    """(meta, arrays) of every RNG a training loop may draw from: the run's Generator,
    numpy's legacy global one, torch's and Python's `random`."""
    import random

    import torch

    _, keys, pos, has_gauss, gauss = np.random.get_state()
    version, mt, gauss_next = random.getstate()
    meta = {"generator": rng.bit_generator.state,
            "numpy_legacy": [int(pos), int(has_gauss), float(gauss)],
            "python": [int(version), gauss_next]}
    arrays = {"rng.numpy_legacy": np.asarray(keys, dtype=np.uint32),
              "rng.python": np.asarray(mt, dtype=np.uint64),
              "rng.torch": torch.get_rng_state().numpy().copy()}
    return meta, arrays


def _set_rng_state(rng: np.random.Generator, meta: dict, arrays: dict) -> None:
    import random

    import torch

    rng.bit_generator.state = meta["generator"]
    pos, has_gauss, gauss = meta["numpy_legacy"]
    np.random.set_state(("MT19937", arrays["rng.numpy_legacy"], pos, has_gauss, gauss))
    version, gauss_next = meta["python"]
    random.setstate((version, tuple(int(v) for v in arrays["rng.python"]), gauss_next))
    torch.set_rng_state(torch.from_numpy(np.array(arrays["rng.torch"], dtype=np.uint8)))


class Checkpoints:
    """Checkpoints of one training stage, every tenth of its steps and at its end.

    A checkpoint holds the stage's modules and optimizers (torch state as arrays), the
    steps done, the caller's JSON state (loss curves, accumulators) and every RNG, in
    `checkpoint_<stage>.json` + its `.npz` (tacsuite.agents.common.saved: data only,
    written atomically). On `--resume` `begin` restores the last one, so the stage ends
    exactly where an uninterrupted run would; a finished stage is restored whole.

        ckpt = Checkpoints(run, "bc", rng, net=net)
        first, state = ckpt.begin(epochs, opt=opt)
        for epoch in range(first, epochs): ...; ckpt.reached(epoch + 1, {"curve": curve})

    `metric` names the metrics.jsonl field counting steps: lines logged after the restored
    checkpoint are dropped, as the resumed run logs them again.
    """

    def __init__(self, run: RunDir, stage: str, rng: np.random.Generator, *,
                 metric: str | None = None, **modules):
        self.run, self.stage, self.rng, self.metric = run, stage, rng, metric
        self.modules, self.optimizers = modules, {}
        self.name = f"{saved.CHECKPOINT}_{stage}"
        self.total = 0

    def begin(self, total: int, **optimizers) -> tuple[int, dict]:
        """(steps already done, caller state) after restoring the last checkpoint, or (0, {})."""
        self.total, self.optimizers = int(total), optimizers
        self.every = max(1, self.total // 10)
        if not (self.run.resumed and saved.has_agent(self.run.path, self.name)):
            return 0, {}
        _, meta, arrays = saved.load_agent(self.run.path, kinds=(CHECKPOINT_KIND,),
                                           name=self.name)
        done = int(meta["done"])
        if meta.get("stage") != self.stage or not 0 < done <= self.total:
            raise saved.SavedAgentError(
                f"{self.run.path / (self.name + '.json')} is at step {done} of stage "
                f"{meta.get('stage')!r}; this run trains {self.total} steps of {self.stage!r}")
        for key, module in self.modules.items():
            training = module.training
            saved.load_module(f"module.{key}", module, arrays)
            module.train(training)
        for key, opt in self.optimizers.items():
            _load_optimizer(f"opt.{key}", opt, arrays)
        _set_rng_state(self.rng, meta["rng"], arrays)
        if self.metric is not None:
            self.run.keep_metrics(lambda rec: rec.get(self.metric, 0) <= done)
        return done, meta["state"]

    def reached(self, done: int, state: dict) -> None:
        """Record that `done` steps are complete; saves every tenth and at the end."""
        if done % self.every and done != self.total:
            return
        rng_meta, arrays = _rng_state(self.rng)
        for key, module in self.modules.items():
            arrays.update(saved.module_arrays(f"module.{key}", module))
        for key, opt in self.optimizers.items():
            arrays.update(_optimizer_arrays(f"opt.{key}", opt))
        saved.save_agent(self.run.path, CHECKPOINT_KIND,
                         {"stage": self.stage, "done": int(done), "total": self.total,
                          "state": state, "rng": rng_meta}, arrays, name=self.name)


def _optimizer_arrays(prefix: str, opt) -> dict[str, np.ndarray]:
    """A torch optimizer's per-parameter state (moments, step counts) as arrays; its
    hyperparameters are the code's own and are rebuilt with it."""
    import torch

    out = {}
    for index, state in opt.state_dict()["state"].items():
        for key, value in state.items():
            value = (value.detach().cpu().numpy().copy() if isinstance(value, torch.Tensor)
                     else np.asarray(value))
            out[f"{prefix}.{int(index)}.{key}"] = value
    return out


def _load_optimizer(prefix: str, opt, arrays: dict[str, np.ndarray]) -> None:
    import torch

    fresh = opt.state_dict()
    state: dict[int, dict] = {}
    for name, value in arrays.items():
        if name.startswith(prefix + "."):
            index, key = name[len(prefix) + 1:].split(".", 1)
            state.setdefault(int(index), {})[key] = torch.from_numpy(np.array(value))
    if set(state) - set(range(sum(len(g["params"]) for g in fresh["param_groups"]))):
        raise saved.SavedAgentError(f"saved optimizer {prefix!r} does not fit the model")
    fresh["state"] = state
    opt.load_state_dict(fresh)
