"""CaseOpen: open a hinged lid to a target angle by pushing it up with a gel fingertip."""

from __future__ import annotations

import numpy as np
import torch

from tacsuite.envs.tactile.env import TactileEnv, TactileVectorEnv
from tacsuite.envs.tactile.task import Arg, TactileTask, real_in

HALF = (0.03, 0.02, 0.003)    # lid half extents (m); hinge along its back edge (x = 0)
GEL = (0.012, 0.012, 0.004)
Z = 0.03                      # lid mid-plane height (m)


def hinge_angle(q):
    """Opening angle (rad) of the lid from its quaternion (rotation about -y)."""
    lib = torch if isinstance(q, torch.Tensor) else np
    return 2.0 * lib.arctan2(-q[..., 2], q[..., 0])


class CaseOpenTask(TactileTask):
    name = "CaseOpen"
    driven = ("finger",)
    sensors = ("finger",)
    force_scale = 0.05
    loss_outputs = (("finger-lid.force", "all"), ("lid.q", "final"))
    args = {"target_angle": Arg(0.4, real_in(0.1, 1.4), "nominal opening angle (rad)"),
            **TactileTask.args}

    def make_scene(self) -> dict:
        return {
            "name": "case_open", "dtype": "float32", "gravity": [0.0, 0.0, -9.81],
            "time": {"dt": "auto", "substeps": 10, "duration": 1.0},
            "bodies": [
                {"id": "lid", "type": "rigid",
                 "shape": {"kind": "box", "half_extents": list(HALF), "spacing": 0.01},
                 "density": 600.0, "pose": [HALF[0], 0.0, Z, 0.0, 0.0, 0.0]},
                {"id": "finger", "type": "fem",
                 "mesh": {"kind": "box", "size": list(GEL), "cells": [2, 2, 1]},
                 "material": {"E": self.stiffness, "nu": 0.3, "density": 1000.0, "alpha": 50.0},
                 "pose": self.initial_control().tolist()}],
            "contacts": [{"a": "finger", "b": "lid", "kn": 2e6, "kd": 50.0, "kt": 2e6,
                          "mu": 0.8}],
            "joints": [{"id": "hinge", "type": "hinge", "body": "lid", "anchor": [0.0, 0.0, Z],
                        "axis": [0.0, -1.0, 0.0], "limits": [0.0, 1.6], "damping": 1e-5}]}

    def initial_control(self) -> np.ndarray:
        # pad facing up under the lid's front half
        return np.array([0.045, 0.0, Z - HALF[2] - GEL[2] - 5e-4, 0.0, 0.0, 0.0])

    def control_bounds(self):
        lo = np.r_[0.0, -0.02, 0.0, -0.5, -0.5, -0.5]
        hi = np.r_[0.07, 0.02, 0.07, 0.5, 0.5, 0.5]
        return lo, hi, np.r_[1e-3, 1e-3, 1e-3, 0.02, 0.02, 0.02]

    def initial_actions(self):
        a = np.zeros((self.horizon, 6))
        a[:, 2] = 0.6
        return a

    def body_poses(self, c):
        return {"finger": c}

    def randomize(self, rng):
        return {"target": float(rng.uniform(0.8, 1.2) * self.target_angle)}

    def default_draws(self):
        return {"target": self.target_angle}

    def apply_episode(self, objs, draws, ids):
        B = len(draws)
        objs["lid"].set_initial(pose=np.tile([HALF[0], 0.0, Z, 0.0, 0.0, 0.0], (B, 1)),
                                velocity=np.zeros((B, 3)), angular_velocity=np.zeros((B, 3)))

    def metrics(self, world, objs, c, draws):
        angle = hinge_angle(objs["lid"].state()["q"])
        target = np.array([d["target"] for d in draws])
        err = np.abs(angle - target)
        return {"angle": angle, "angle_error": err, "cost": err / target, "success": err < 0.05}

    def proprio(self, world, objs, c, draws):
        angle = hinge_angle(objs["lid"].state()["q"])
        target = np.array([d["target"] for d in draws])
        return np.column_stack([c[:, :3] / 0.02, c[:, 3:], angle, target - angle])

    def loss(self, c, outs, draws, kind):
        target = torch.as_tensor([d["target"] for d in draws], dtype=torch.float64)
        state = ((hinge_angle(outs["lid.q"]) - target) / target) ** 2
        fn = torch.linalg.norm(outs["finger-lid.force"] + 1e-12, dim=-1) / self.force_scale
        tactile = torch.relu(1.0 - fn).pow(2).mean(dim=0)
        return {"state": state, "tactile": tactile, "both": state + 0.1 * tactile}[kind]


class CaseOpenEnv(TactileEnv):
    """Open a hinged lid to a target angle by pushing it up with a gel fingertip.

    ## Description
    A 6 x 4 cm lid (8.6 g) is hinged along its back edge and rests closed on its lower
    limit; a gel pad (12 x 12 x 4 mm, facing up) starts under its front half and must
    lift it to the target angle, following the lid as it turns.

    ## Action Space
    Box(-1, 1, (6,)), a bounded SE(3) delta of the fingertip's pose: a[0:3] moves it (x,
    y, z: 1 mm per unit), a[3:6] adds to its rotation vector (0.02 rad per unit).
    Clipped to a workspace: x 0-7 cm from the hinge, y within +-2 cm, z 0-7 cm,
    rotation within +-0.5 rad per component.

    ## Observation Space
    `obs_mode="state"`: Box of proprioception (pose, lid angle, angle error) then tactile
    (force, torque, marker displacements); `obs_mode="dict"`: a Dict of the two (float32);
    `obs_mode="image"`: the Dict and "image_finger", a uint8 (48, 64, 3) tactile image.

    ## Rewards
    -|angle error| / target per step, +10 on success.

    ## Starting State
    Target angle drawn in [0.8, 1.2] x `target_angle`.

    ## Episode End
    Terminated when |angle error| < 0.05 rad; truncated after `horizon` steps.

    ## Arguments
    target_angle (rad), horizon (steps), stiffness (gel E, Pa), obs_mode, image_height,
    image_width, render_mode.

    ## Version History
    v0: first version.
    """

    task_cls = CaseOpenTask


class CaseOpenVectorEnv(TactileVectorEnv):
    task_cls = CaseOpenTask
