"""ObjectRepose: push a block lying on the ground with a gel fingertip until it has turned
to a target yaw."""

from __future__ import annotations

import numpy as np
import torch

from tacsuite.envs.tactile.env import TactileEnv, TactileVectorEnv
from tacsuite.envs.tactile.task import FRICTION, Arg, TactileTask, real_in, wrap, yaw_of

HALF = (0.02, 0.01, 0.01)     # block half extents (m)
GEL = (0.012, 0.012, 0.006)   # gel pad size (m)


class ObjectReposeTask(TactileTask):
    name = "ObjectRepose"
    driven = ("finger",)
    sensors = ("finger",)
    force_scale = 0.05
    loss_outputs = (("finger-block.force", "all"), ("block.q", "final"))
    args = {"target_yaw": Arg(0.5, real_in(0.1, 1.2), "nominal yaw to turn the block to (rad)"),
            **TactileTask.args, "mu": FRICTION}

    def make_scene(self) -> dict:
        return {
            "name": "object_repose", "dtype": "float32", "gravity": [0.0, 0.0, -9.81],
            "time": {"dt": "auto", "substeps": 10, "duration": 1.0},
            "bodies": [
                {"id": "ground", "type": "ground"},
                {"id": "block", "type": "rigid",
                 "shape": {"kind": "box", "half_extents": list(HALF), "spacing": 0.01},
                 "density": 500.0, "pose": [0.0, 0.0, HALF[2], 0.0, 0.0, 0.0]},
                {"id": "finger", "type": "fem",
                 "mesh": {"kind": "box", "size": list(GEL), "cells": [2, 2, 1]},
                 "material": {"E": self.stiffness, "nu": 0.3, "density": 1000.0, "alpha": 50.0},
                 "pose": self.initial_control().tolist()}],
            "contacts": [
                {"a": "finger", "b": "block", "kn": 2e6, "kd": 50.0, "kt": 2e6, "mu": self.mu},
                {"a": "block", "b": "ground", "kn": 2e6, "kd": 50.0, "kt": 2e6, "mu": 0.3}]}

    def initial_control(self) -> np.ndarray:
        # The pad faces +y (local +z turned by -90 degrees about x), off-centre in x so a
        # push along +y turns the block counter-clockwise.
        return np.array([0.012, -(HALF[1] + GEL[2] + 0.0005), HALF[2], -np.pi / 2, 0.0, 0.0])

    def control_bounds(self):
        c0 = self.initial_control()
        lo = np.r_[-0.04, -0.04, 0.004, c0[3:] - 0.5]
        hi = np.r_[0.04, 0.04, 0.03, c0[3:] + 0.5]
        return lo, hi, np.r_[5e-4, 5e-4, 5e-4, 0.02, 0.02, 0.02]

    def initial_actions(self):
        a = np.zeros((self.horizon, 6))
        a[:, 1] = 0.6
        return a

    def body_poses(self, c):
        return {"finger": c}

    def randomize(self, rng):
        return {"target": float(rng.uniform(0.7, 1.3) * self.target_yaw),
                "dx": float(rng.uniform(-0.002, 0.002))}

    def default_draws(self):
        return {"target": self.target_yaw, "dx": 0.0}

    def apply_episode(self, objs, draws, ids):
        pose = np.array([[d["dx"], 0.0, HALF[2], 0.0, 0.0, 0.0] for d in draws])
        objs["block"].set_initial(pose=pose, velocity=np.zeros((len(draws), 3)),
                                  angular_velocity=np.zeros((len(draws), 3)))

    def _block(self, objs):
        s = objs["block"].state()
        return s["x"], yaw_of(s["q"])

    def metrics(self, world, objs, c, draws):
        x, yaw = self._block(objs)
        target = np.array([d["target"] for d in draws])
        err = np.abs(wrap(yaw - target))
        return {"yaw": yaw, "yaw_error": err, "cost": err / target,
                "success": err < 0.1}

    def proprio(self, world, objs, c, draws):
        x, yaw = self._block(objs)
        target = np.array([d["target"] for d in draws])
        return np.column_stack([c[:, :3] / 0.02, c[:, 3:], x[:, :2] / 0.02, np.sin(yaw),
                                np.cos(yaw), wrap(target - yaw)])

    def loss(self, c, outs, draws, kind):
        target = torch.as_tensor([d["target"] for d in draws], dtype=torch.float64)
        yaw = yaw_of(outs["block.q"])
        state = (wrap(yaw - target) / target) ** 2
        # Tactile term: keep pushing with about the design force (no loss of contact).
        fn = torch.linalg.norm(outs["finger-block.force"] + 1e-12, dim=-1) / self.force_scale
        tactile = torch.relu(1.0 - fn).pow(2).mean(dim=0)
        return {"state": state, "tactile": tactile, "both": state + 0.1 * tactile}[kind]


class ObjectReposeEnv(TactileEnv):
    """Push a block on the ground with a gel fingertip until it turns to a target yaw.

    ## Description
    A 4 x 2 x 2 cm block (4 g) rests on the ground; a gel fingertip (12 x 12 x 6 mm pad,
    2 x 2 x 1 cells, E = `stiffness`) starts behind its -y face, off-centre, so pushing
    turns the block. The world steps 10 substeps per control step.

    ## Action Space
    Box(-1, 1, (6,)), a bounded SE(3) delta of the fingertip's pose: a[0:3] moves it (x,
    y, z: 0.5 mm per unit), a[3:6] adds to its rotation vector (0.02 rad per unit).
    Clipped to a workspace: within +-4 cm in x and y, 4-30 mm up, rotation within
    +-0.5 rad of the start per component.

    ## Observation Space
    `obs_mode="state"`: Box of proprioception (fingertip pose, block x-y, sin/cos yaw, yaw
    error) then tactile (force and torque in the sensor frame, marker displacements of 4
    contact-face nodes); `obs_mode="dict"`: the two parts as a Dict (float32);
    `obs_mode="image"`: the Dict and "image_finger", a uint8 (48, 64, 3) tactile image.

    ## Rewards
    -|yaw error| / target yaw per step, +10 on success.

    ## Starting State
    Target yaw drawn in [0.7, 1.3] x `target_yaw`; block shifted by up to 2 mm in x.

    ## Episode End
    Terminated when |yaw error| < 0.1 rad; truncated after `horizon` steps.

    ## Arguments
    target_yaw (rad), horizon (steps), stiffness (gel E, Pa), mu (gel-block friction),
    obs_mode ("state" | "dict" | "image"), image_height, image_width (pixels),
    render_mode ("rgb_array").

    ## Version History
    v0: first version.
    """

    task_cls = ObjectReposeTask


class ObjectReposeVectorEnv(TactileVectorEnv):
    task_cls = ObjectReposeTask
