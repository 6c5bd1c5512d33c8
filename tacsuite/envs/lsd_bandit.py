"""Last-switch-dependent (LSD) bandits and their delay-only special case, recharging bandits."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from gymnasium import spaces

from tacsuite.envs.base import SuiteEnv
from tacsuite.envs.lsd_instance import (
    LSDInstance,
    load_instance,
    random_instance,
    random_recharging_instance,
    recharging_instance,
)
from tacsuite.envs.raster import BLUE, DARK, LIGHT, ORANGE, Canvas
from tacsuite.envs.validation import check_action, check_flag, check_int
from tacsuite.theory.lsd import mean_table, next_state

# Random instances draw (k, tau_max) tables; beyond these sizes they stop being bandits
# anyone plans for and start being a memory hazard.
MAX_ARMS, MAX_TAU = 1000, 1000


def _check_instance_kwargs(k, horizon, instance_seed) -> None:
    check_int("k", k, 1, MAX_ARMS)
    check_int("horizon", horizon, 1)
    check_int("instance_seed", instance_seed, 0)


def _refuse_unused(given: str, args: dict[str, tuple]) -> None:
    """Arguments that only describe a random instance are an error beside a given one."""
    unused = sorted(name for name, (value, default) in args.items()
                    if not (isinstance(value, type(default)) and value == default))
    if unused:
        raise ValueError(f"{', '.join(unused)} describe a random instance and are not used "
                         f"with {given}=...; leave them out (the given instance fixes them)")


class LSDBanditEnv(SuiteEnv):
    """A k-armed bandit whose payoffs depend on how long each arm has been played or rested.

    ## Description
    Last-switch-dependent bandits (Laforgue, Clerici, Cesa-Bianchi and Gilad-Bachrach,
    AISTATS 2022). Playing an arm in a row satiates it (its mean payoff follows
    `satiated[c-1]` after c consecutive plays); leaving it alone lets it recover (it pays
    `rested[m-1]` after m idle rounds). Both counters are capped at `tau_max` = M.

    ## Action Space
    `Discrete(k)`: the arm to play.

    ## Observation Space
    `Box(-M, M, (k,), float32)`: the signed state of every arm, -c for the arm played last
    round with a run of c rounds (capped at M), +m for an arm idle m rounds (capped at M).

    ## Rewards
    Bernoulli (default) or Gaussian (`noise="gaussian"`, standard deviation `sigma`) with
    the mean of the played arm in its current state. `info["expected_rewards"]` holds the
    mean payoff of every arm in the new state (what each arm would pay next) and
    `info["expected_reward"]` the mean of the arm just played, for pseudo-regret.

    ## Starting State
    Arm i idle `initial_idle[i]` rounds (default M); `initial_idle[i] = 0` means played in
    the round before the first (state -1).

    ## Episode End
    Never terminates; truncated after `horizon` rounds.

    ## Arguments
    `gym.make("tacsuite/LSDBandit-v0", instance=PATH_OR_DICT)`, or a random Bernoulli
    instance from `k`, `tau_max`, `horizon`, `monotone` and `instance_seed`.
    The unwrapped env exposes `instance` and the mean table `mu[a, M + s]`.

    ## Version History
    - v0: initial version.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 4}

    def __init__(self, instance: str | dict | LSDInstance | None = None, k: int = 3,
                 tau_max: int = 4, horizon: int = 200, monotone: bool = True,
                 instance_seed: int = 0, render_mode: str | None = None):
        self._set_render_mode(render_mode)
        if instance is None:
            check_int("tau_max", tau_max, 1, MAX_TAU)
            _check_instance_kwargs(k, horizon, instance_seed)
            instance = random_instance(k, tau_max, horizon, instance_seed,
                                       check_flag("monotone", monotone))
        elif not isinstance(instance, str | dict | LSDInstance | os.PathLike):
            raise ValueError(f"instance must be a JSON path, a dict or an LSDInstance, got "
                             f"{type(instance).__name__}")
        else:
            _refuse_unused("instance", dict(k=(k, 3), tau_max=(tau_max, 4),
                                            horizon=(horizon, 200), monotone=(monotone, True),
                                            instance_seed=(instance_seed, 0)))
        self._setup(load_instance(instance))

    def _setup(self, instance: LSDInstance) -> None:
        self.instance = instance
        M = instance.tau_max
        self.mu = mean_table(instance.satiated, instance.rested)
        self.action_space = spaces.Discrete(instance.k)
        self.observation_space = spaces.Box(-float(M), float(M), (instance.k,), np.float32)
        self._state = instance.initial_state.copy()
        self._t = 0

    def expected_rewards(self) -> np.ndarray:
        """Mean payoff of every arm if played now."""
        M = self.instance.tau_max
        return self.mu[np.arange(self.instance.k), M + self._state].copy()

    def _obs(self) -> np.ndarray:
        return self._state.astype(np.float32)

    def _info(self, **extra: Any) -> dict[str, Any]:
        return {"expected_rewards": self.expected_rewards(), "t": self._t, **extra}

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._state = self.instance.initial_state.copy()
        self._t = 0
        return self._obs(), self._info()

    def step(self, action):
        a = check_action(self.action_space, action)
        M = self.instance.tau_max
        mean = float(self.mu[a, M + self._state[a]])
        if self.instance.noise == "bernoulli":
            reward = float(self.np_random.random() < mean)
        else:
            reward = float(mean + self.instance.sigma * self.np_random.standard_normal())
        self._state = next_state(self._state, a, M)
        self._t += 1
        truncated = self._t >= self.instance.horizon
        return self._obs(), reward, False, bool(truncated), self._info(expected_reward=mean)

    def _render_rgb(self) -> np.ndarray:
        """One bar per arm: its mean payoff if played now (orange: the arm played last),
        above a strip filled in proportion to its run (dark) or idle time (light)."""
        M, k = self.instance.tau_max, self.instance.k
        means = self.expected_rewards()
        top = max(1.0, float(np.max(np.abs(self.mu))))
        bar, gap, height = 40, 12, 160
        canvas = Canvas(height + 40, k * (bar + gap) + gap)
        for i in range(k):
            x = gap + i * (bar + gap)
            h = height * max(float(means[i]), 0.0) / top
            canvas.rect(x, 8, x + bar - 1, 8 + height, LIGHT)
            canvas.rect(x, 8 + height - h, x + bar - 1, 8 + height,
                        ORANGE if self._state[i] < 0 else BLUE)
            fill = bar * min(abs(int(self._state[i])), M) / M
            canvas.rect(x, height + 18, x + bar - 1, height + 30, LIGHT)
            canvas.rect(x, height + 18, x + fill - 1, height + 30,
                        DARK if self._state[i] < 0 else BLUE)
        return canvas.image


class RechargingBanditEnv(LSDBanditEnv):
    """A k-armed bandit whose payoffs grow with the delay since each arm was last pulled.

    ## Description
    Recharging (delay-dependent) bandits (Kleinberg and Immorlica, FOCS 2018;
    Papadigenopoulos, Caramanis and Shakkottai, NeurIPS 2022): arm i pays f_i(d) when
    pulled d rounds after its previous pull (d = 1: pulled in the previous round), with
    d capped at D. This is the LSD bandit with tau_max = D - 1, satiated payoffs f_i(1)
    and rested payoffs rested[m-1] = f_i(m+1).

    ## Action Space
    `Discrete(k)`: the arm to pull.

    ## Observation Space
    `Box(-(D-1), D-1, (k,), float32)`: the LSD signed state of every arm; the delay of
    arm i is 1 when its state is negative and state + 1 otherwise.

    ## Rewards
    Bernoulli with mean f_i(d). `info["expected_rewards"]` and `info["expected_reward"]`
    as in `tacsuite/LSDBandit-v0`.

    ## Starting State
    Every arm at delay `initial_delay` (default D, fully recharged).

    ## Episode End
    Never terminates; truncated after `horizon` rounds.

    ## Arguments
    `gym.make("tacsuite/RechargingBandit-v0", payoffs=[[f(1), ..., f(D)], ...],
    horizon=200, initial_delay=None)`, or random non-decreasing payoffs from `k`,
    `max_delay` and `instance_seed`.

    ## Version History
    - v0: initial version.
    """

    def __init__(self, payoffs=None, k: int = 3, max_delay: int = 5, horizon: int = 200,
                 initial_delay=None, instance_seed: int = 0, render_mode: str | None = None):
        self._set_render_mode(render_mode)
        check_int("horizon", horizon, 1)
        if payoffs is None:
            check_int("max_delay", max_delay, 2, MAX_TAU + 1)
            _check_instance_kwargs(k, horizon, instance_seed)
            inst = random_recharging_instance(k, max_delay, horizon, instance_seed)
            if initial_delay is not None:
                inst = recharging_instance(inst.delay_payoffs(), horizon, initial_delay)
        else:
            _refuse_unused("payoffs", dict(k=(k, 3), max_delay=(max_delay, 5),
                                           instance_seed=(instance_seed, 0)))
            try:
                f = np.asarray(payoffs, dtype=np.float64)
            except (TypeError, ValueError):
                f = np.full(1, np.nan)
            if f.ndim != 2 or not np.all(np.isfinite(f)) or np.any((f < 0) | (f > 1)):
                raise ValueError(f"payoffs must be a (k, D) array of Bernoulli means in [0, 1], "
                                 f"got {payoffs!r}")
            inst = recharging_instance(f, horizon, initial_delay)
        self._setup(inst)
