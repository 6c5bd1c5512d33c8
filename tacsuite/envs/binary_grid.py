"""Pieces the binary-observation grid worlds share (ProcMaze, ButtonGrid).

Their observations are `(grid, grid, channels)` indicator arrays flattened in C order,
so cell `(row, col)` channel `c` sits at `(row * grid + col) * channels + c`. Every step
function here works on a batch of such observations: the environments step a batch of
one, the perfect-model agent steps a batch of model rollouts with the same code.
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

# Action -> (row, col) offset: 0 stay, 1 up, 2 left, 3 down, 4 right.
MOVES = np.array([[0, 0], [-1, 0], [0, -1], [1, 0], [0, 1]], dtype=np.int64)
ACTION_NAMES = ("stay", "up", "left", "down", "right")


def binary_space(n: int) -> spaces.Box:
    """Observations are 0/1 indicators stored as float32 (what the networks consume)."""
    return spaces.Box(0.0, 1.0, (n,), np.float32)


def cells_of(obs: np.ndarray, grid: int, channels: int, channel: int) -> np.ndarray:
    """(B,) flat cell index of the single set bit of `channel` in each observation."""
    return np.argmax(obs.reshape(len(obs), grid * grid, channels)[:, :, channel], axis=1)


def move(cell: np.ndarray, actions: np.ndarray, grid: int) -> tuple[np.ndarray, np.ndarray]:
    """Flat cells after each action, clipped to the grid, and whether the cell changed."""
    row, col = np.divmod(cell, grid)
    row = np.clip(row + MOVES[actions, 0], 0, grid - 1)
    col = np.clip(col + MOVES[actions, 1], 0, grid - 1)
    new = row * grid + col
    return new, new != cell


def rgb_grid(layers: list[tuple[np.ndarray, tuple[int, int, int]]], grid: int,
             scale: int = 12) -> np.ndarray:
    """A uint8 image: grey background, each (mask over cells, colour) painted in order."""
    img = np.full((grid, grid, 3), 235, np.uint8)
    for mask, colour in layers:
        img[np.asarray(mask, bool).reshape(grid, grid)] = colour
    return np.kron(img, np.ones((scale, scale, 1), np.uint8))
