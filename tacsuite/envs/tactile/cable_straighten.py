"""CableStraighten: a cable lies curved on the ground, one end pinned; a gel fingertip
presses on it and drags it until it lies straight along a target line."""

from __future__ import annotations

import numpy as np
import torch

from tacsuite.envs.tactile.env import TactileEnv, TactileVectorEnv
from tacsuite.envs.tactile.task import FRICTION, Arg, TactileTask, real_in

GEL = (0.012, 0.012, 0.004)   # pad size (m); the contact face is GEL[2] below the frame
NODES = 9                     # cable nodes (node 0 pinned at the origin)
LENGTH = 0.048                # cable length (m): segments of 6 mm, half the pad's width
RADIUS = 0.002                # m
# A soft, heavy cable: the ground's static friction holds a bend of ~1 rad on its own
# (the rod's rest shape is straight), so only the fingertip straightens it.
CABLE = {"E": 5e4, "density": 2000.0, "alpha": 20.0}
GROUND_MU = 0.5
HOVER = 0.002                 # start height of the pad's face above the cable's top


def arc_layout(bend: float) -> np.ndarray:
    """(NODES, 3) nodes of an arc of LENGTH turning by `bend` rad, starting above the
    origin along +x and bending towards +y, equally spaced (every chord spans the same
    arc); the centreline lies RADIUS above the ground."""
    s = np.linspace(0.0, LENGTH, NODES)
    k = bend / LENGTH
    return np.stack([np.sin(k * s) / k, (1.0 - np.cos(k * s)) / k, 0.0 * s + RADIUS], 1)


def line_distance(x):
    """(..., NODES) distance of every node (..., NODES, 3) to the target line, along x
    through the pinned end (RADIUS above the ground); numpy or torch."""
    lib = torch if isinstance(x, torch.Tensor) else np
    return lib.sqrt(x[..., 1] ** 2 + (x[..., 2] - RADIUS) ** 2)


class CableStraightenTask(TactileTask):
    name = "CableStraighten"
    driven = ("finger",)
    sensors = ("finger",)
    force_scale = 0.05
    loss_outputs = (("cable-finger.force", "all"), ("cable.x", "final"))
    args = {"bend": Arg(0.8, real_in(0.2, 1.5), "nominal angle the cable turns through (rad)"),
            "tolerance": Arg(0.0015, real_in(2e-4, 0.01),
                             "mean node distance to the line counted as straight (m)"),
            **TactileTask.args, "mu": FRICTION}

    def make_scene(self) -> dict:
        return {
            "name": "cable_straighten", "dtype": "float32", "gravity": [0.0, 0.0, -9.81],
            "time": {"dt": "auto", "substeps": 10, "duration": 1.0},
            "bodies": [
                {"id": "ground", "type": "ground"},
                {"id": "cable", "type": "cable", "start": [0.0, 0.0, RADIUS],
                 "end": [LENGTH, 0.0, RADIUS], "nodes": NODES, "radius": RADIUS,
                 "material": dict(CABLE), "fixed": [0]},
                {"id": "finger", "type": "fem",
                 "mesh": {"kind": "box", "size": list(GEL), "cells": [2, 2, 1]},
                 "material": {"E": self.stiffness, "nu": 0.3, "density": 1000.0, "alpha": 50.0},
                 "pose": self.initial_control().tolist()}],
            "contacts": [
                {"a": "cable", "b": "ground", "kn": 1e7, "kd": 0.0, "kt": 1e7, "mu": GROUND_MU},
                {"a": "cable", "b": "finger", "kn": 1e7, "kd": 0.0, "kt": 1e7, "mu": self.mu}]}

    def initial_control(self) -> np.ndarray:
        # pad facing down (local +z turned onto -z), above the free end of the nominal bend
        end = arc_layout(self.bend)[-1]
        return np.array([end[0] - 0.003, end[1], GEL[2] + 2 * RADIUS + HOVER, np.pi, 0.0,
                         0.0])

    def control_bounds(self):
        c0 = self.initial_control()
        lo = np.r_[-0.01, -0.03, GEL[2] + 2 * RADIUS - 0.002, c0[3:] - 0.5]
        hi = np.r_[0.07, 0.05, 0.03, c0[3:] + 0.5]
        return lo, hi, np.r_[1e-3, 1e-3, 5e-4, 0.02, 0.02, 0.02]

    def initial_actions(self):
        # press onto the free end (6 steps down to 1 mm into the cable's top), then drag
        # it to where the straight cable ends
        a = np.zeros((self.horizon, 6))
        n = min(6, self.horizon)
        a[:n, 2] = -1.0
        end = arc_layout(self.bend)[-1]
        rest = self.horizon - n
        if rest > 0:
            d = (np.array([LENGTH, 0.0]) - end[:2]) / (1e-3 * rest)
            a[n:, :2] = d / max(1.0, np.abs(d).max())
        return a

    def body_poses(self, c):
        return {"finger": c}

    def randomize(self, rng):
        return {"bend": float(rng.uniform(0.75, 1.25) * self.bend)}

    def default_draws(self):
        return {"bend": self.bend}

    def apply_episode(self, objs, draws, ids):
        objs["cable"].set_initial(x=np.stack([arc_layout(d["bend"]) for d in draws]),
                                  v=np.zeros((len(draws), NODES, 3)))

    @staticmethod
    def _start_distance(draws, power: int = 1):
        """(B,) mean over the nodes of (distance to the line)^power at the start."""
        return np.array([(line_distance(arc_layout(d["bend"])) ** power).mean()
                         for d in draws])

    def metrics(self, world, objs, c, draws):
        dist = line_distance(objs["cable"].positions()).mean(axis=1)
        return {"mean_distance": dist, "cost": dist / self._start_distance(draws),
                "success": dist < self.tolerance}

    def proprio(self, world, objs, c, draws):
        x = objs["cable"].positions()
        return np.column_stack([c[:, :3] / 0.02, c[:, 3:], x[:, :, :2].reshape(len(x), -1)
                                / 0.02, (x[:, -1] - c[:, :3]) / 0.01])

    def loss(self, c, outs, draws, kind):
        # mean squared distance (smooth where the cable is straight), 1 at the start
        d2 = torch.as_tensor(self._start_distance(draws, 2), dtype=torch.float64)
        state = (line_distance(outs["cable.x"]) ** 2).mean(dim=-1) / d2
        # Tactile term: keep pressing with about the design force (no loss of contact).
        fn = torch.linalg.norm(outs["cable-finger.force"] + 1e-12, dim=-1) / self.force_scale
        tactile = torch.relu(1.0 - fn).pow(2).mean(dim=0)
        return {"state": state, "tactile": tactile, "both": state + 0.1 * tactile}[kind]


class CableStraightenEnv(TactileEnv):
    """Straighten a curved cable on the ground by dragging it with a gel fingertip.

    ## Description
    A 4.8 cm cable (2 mm radius, 9 nodes, a soft heavy rod: E = 50 kPa, 2000 kg/m^3) lies
    on the ground (friction 0.5) in an arc that turns through `bend` radians, starting at
    the origin along +x. Its first node is pinned there (free to turn), the other end is
    free. The ground's static friction holds the bend: left alone the cable stays
    curved. A gel fingertip (12 x 12 x 4 mm pad, 2 x 2 x 1 cells, E = `stiffness`, facing
    down) starts 2 mm above the free end; it must press on the cable (they touch through
    the gel's deforming surface) and drag it until the cable lies along the target line,
    the line along x through the pinned end at the centreline's height (2 mm). The world
    steps 10 substeps per control step.

    ## Action Space
    Box(-1, 1, (6,)), a bounded SE(3) delta of the fingertip's pose: a[0:3] moves it (x,
    y: 1 mm, z: 0.5 mm per unit), a[3:6] adds to its rotation vector (0.02 rad per unit).
    Clipped to a workspace: x from -1 to 7 cm, y from -3 to 5 cm, the pad's face from 2 mm
    below the cable's top (its centreline) to 2.6 cm above the ground, rotation within
    +-0.5 rad of the
    start per component.

    ## Observation Space
    `obs_mode="state"`: Box of proprioception (fingertip pose; the cable's shape: x-y of
    its 9 nodes; the free end relative to the fingertip) then tactile (force and torque
    in the sensor frame, marker displacements of 4 contact-face nodes); `obs_mode="dict"`:
    the two parts as a Dict (float32); `obs_mode="image"`: the Dict and "image_finger", a
    uint8 (48, 64, 3) tactile image.

    ## Rewards
    -(mean distance of the cable's nodes to the target line) / (that distance at the
    start) per step, so -1 for an untouched cable and 0 for a straight one; +10 on
    success.

    ## Starting State
    The bend drawn in [0.75, 1.25] x `bend`; the cable at rest.

    ## Episode End
    Terminated when the nodes' mean distance to the line is below `tolerance`; truncated
    after `horizon` steps.

    ## Arguments
    bend (rad), tolerance (m), horizon (steps), stiffness (gel E, Pa), mu (gel-cable
    friction), obs_mode ("state" | "dict" | "image"), image_height, image_width (pixels),
    render_mode ("rgb_array").

    ## Version History
    v0: first version (contact at the cable's centreline, which lay on the ground).
    v1: contact at the cable's surface; the centreline rests RADIUS above the ground and
    the target line runs at that height.
    """

    task_cls = CableStraightenTask


class CableStraightenVectorEnv(TactileVectorEnv):
    task_cls = CableStraightenTask
