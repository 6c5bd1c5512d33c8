"""ButtonGrid: walk onto buttons to toggle them; all on pays 1 and deals a new layout."""

from __future__ import annotations

import numpy as np

from tacsuite.envs.batched import BatchedDynamicsEnv
from tacsuite.envs.binary_grid import ACTION_NAMES, cells_of, move, rgb_grid
from tacsuite.envs.validation import check_flag, check_int

PLAYER, ON, OFF = 0, 1, 2
CHANNELS = 3


class ButtonGridDynamics:
    """Batched transition function on observations; the env and the perfect model share it."""

    def __init__(self, grid_size: int, num_buttons: int, spontaneous_probability: float):
        self.grid_size = grid_size
        self.num_buttons = num_buttons
        self.spontaneous_probability = spontaneous_probability
        self.obs_dim = grid_size * grid_size * CHANNELS

    def reset(self, rng: np.random.Generator, batch: int = 1) -> np.ndarray:
        """New layouts: a uniform player cell and `num_buttons` distinct cells, all off."""
        cells = self.grid_size**2
        obs = np.zeros((batch, cells, CHANNELS), np.float32)
        rows = np.arange(batch)
        obs[rows, rng.integers(0, cells, batch), PLAYER] = 1.0
        buttons = np.argsort(rng.random((batch, cells)), axis=1)[:, : self.num_buttons]
        obs[rows[:, None], buttons, OFF] = 1.0
        return obs.reshape(batch, -1)

    def step(self, obs: np.ndarray, actions: np.ndarray, rng: np.random.Generator
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(next_obs, reward, terminated) for a batch of observations and actions."""
        g, b = self.grid_size, len(obs)
        cur = np.asarray(obs, np.float32).reshape(b, g * g, CHANNELS)
        # success is judged before the move: the reward comes the step after all are on
        success = ~np.any(cur[:, :, OFF] > 0.5, axis=1)
        cell = cells_of(cur, g, CHANNELS, PLAYER)
        new, moved = move(cell, np.asarray(actions), g)
        rows = np.arange(b)
        nxt = cur.copy()
        nxt[rows, cell, PLAYER] = 0.0
        nxt[rows, new, PLAYER] = 1.0
        hit = rows[moved & (nxt[rows, new, ON] + nxt[rows, new, OFF] > 0.5)]
        if hit.size:
            on = nxt[hit, new[hit], ON].copy()
            nxt[hit, new[hit], ON] = nxt[hit, new[hit], OFF]
            nxt[hit, new[hit], OFF] = on
        if self.spontaneous_probability > 0:
            lucky = rng.random(b) < self.spontaneous_probability
            if lucky.any():
                nxt[lucky, :, ON] = np.maximum(nxt[lucky, :, ON], nxt[lucky, :, OFF])
                nxt[lucky, :, OFF] = 0.0
        nxt = nxt.reshape(b, -1)
        if success.any():
            nxt[success] = self.reset(rng, int(success.sum()))
        return nxt, success.astype(np.float64), np.zeros(b, bool)


class ButtonGridEnv(BatchedDynamicsEnv):
    """A grid of buttons toggled by stepping onto them; all on pays 1, then a new layout.

    ## Description
    The ButtonGrid testbed of Young et al. ("The Benefits of Model-Based Generalization in
    Reinforcement Learning", ICML 2023). The layout space is combinatorial (player cell x
    button cells x button states), but a step changes at most the player and one button, so
    a learned per-bit model generalises across layouts.

    ## Action Space
    `Discrete(5)`: 0 stay, 1 up, 2 left, 3 down, 4 right (rows grow downward). Moves off
    the grid leave the player in place.

    ## Observation Space
    `Box(0, 1, (grid_size * grid_size * 3,), float32)` of 0/1 bits: a `(grid_size,
    grid_size, 3)` array flattened in C order with channels player, button on, button off.

    ## Rewards
    1.0 on a step taken while every button is on, else 0.0.

    ## Transitions
    Moving onto a button's cell toggles it (staying, or bumping into the edge, does not).
    With probability `1 / (10 * grid_size**2)` per step every button switches on at once.
    On the step that pays 1 the world is dealt anew: a uniform player cell, `num_buttons`
    distinct uniform button cells, all off.

    ## Starting State
    A new layout as above.

    ## Episode End
    Never terminates (a continuing task); `gym.make` truncates it at 1000 steps, like
    `RiverSwim-v0` (pass `max_episode_steps=` to change that).

    ## Arguments
    `gym.make("tacsuite/ButtonGrid-v0", grid_size=10, num_buttons=3, spontaneous=True)`.

    ## Version History
    - v0: initial version.
    """

    continuing = True  # read by the online agents to pick their evaluation score

    def __init__(self, grid_size: int = 10, num_buttons: int = 3, spontaneous: bool = True,
                 render_mode: str | None = None):
        grid_size = check_int("grid_size", grid_size, 2, 32)
        num_buttons = check_int("num_buttons", num_buttons, 1, grid_size**2)
        spontaneous = check_flag("spontaneous", spontaneous)
        self.grid_size, self.num_buttons = grid_size, num_buttons
        self._set_render_mode(render_mode)
        p = 1.0 / (10 * grid_size**2) if spontaneous else 0.0
        self._set_dynamics(ButtonGridDynamics(grid_size, num_buttons, p), len(ACTION_NAMES))

    def _channel(self, c: int) -> np.ndarray:
        return self._obs[0].reshape(self.grid_size, self.grid_size, CHANNELS)[:, :, c] > 0.5

    @property
    def position(self) -> tuple[int, int]:
        r, c = np.argwhere(self._channel(PLAYER))[0]
        return int(r), int(c)

    @property
    def button_cells(self) -> list[tuple[int, int]]:
        """Button cells in row-major order."""
        mask = self._channel(ON) | self._channel(OFF)
        return [(int(r), int(c)) for r, c in np.argwhere(mask)]

    @property
    def button_on(self) -> np.ndarray:
        """Whether each button of `button_cells` is on."""
        on = self._channel(ON)
        return np.array([on[r, c] for r, c in self.button_cells])

    def _render_rgb(self) -> np.ndarray:
        return rgb_grid([(self._channel(OFF), (120, 120, 120)), (self._channel(ON), (40, 170, 60)),
                         (self._channel(PLAYER), (200, 40, 40))], self.grid_size)
