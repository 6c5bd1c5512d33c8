"""PointMazeStitch-v0: registered only with the `mujoco` extra; clear error without it."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import tacsuite  # noqa: F401
from tacsuite.envs import point_maze_stitch as pm
from tacsuite.envs.registration import registered_ids


def test_registered_exactly_when_mujoco_imports():
    assert ("tacsuite/PointMazeStitch-v0" in registered_ids()) == pm.mujoco_available()


def test_missing_mujoco_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "gymnasium_robotics.envs.maze.point_maze", None)
    with pytest.raises(ImportError, match=r"tacsuite\[mujoco\]"):
        pm.PointMazeStitchEnv()


def test_cell_coordinates_match_the_mbrcsl_layout():
    assert pm.cell_xy(pm.START_CELL).tolist() == [-0.5, 0.5]
    assert pm.cell_xy(pm.GOAL_CELL).tolist() == [1.5, -0.5]


@pytest.mark.skipif(not pm.mujoco_available(), reason="needs tacsuite[mujoco]")
def test_stitching_gap_in_the_scripted_routes():
    from tacsuite.envs.datasets import collect

    def returns(route):
        eps = collect("tacsuite/PointMazeStitch-v0",
                      lambda i, rng, env: pm.PDWaypointPolicy(route, rng), 3, seed=0)
        return np.array([e["rewards"].sum() for e in eps])

    short, detour, best = (returns(r) for r in (pm.SHORT_ROUTE, pm.DETOUR_ROUTE,
                                                pm.OPTIMAL_ROUTE))
    assert short.max() == 0.0
    assert best.min() > detour.max() + 20  # the stitched route is clearly better
