"""SurfaceFollow: slide a gel fingertip along an unknown curved rigid surface while keeping
a target normal force."""

from __future__ import annotations

import numpy as np
import torch

from tacsuite.envs.tactile.env import TactileEnv, TactileVectorEnv
from tacsuite.envs.tactile.task import Arg, TactileTask, positive

RADIUS = 0.05                 # surface: a cylinder of this radius, axis along y (m)
GEL = (0.012, 0.012, 0.004)   # pad size (m); the contact face is GEL[2] below the frame
X0, X1 = -0.012, 0.012        # start and goal of the slide (m)
DEPTH = 1e-3                  # nominal indentation of the design force (state loss, m)


class SurfaceFollowTask(TactileTask):
    name = "SurfaceFollow"
    driven = ("finger",)
    sensors = ("finger",)
    loss_outputs = (("finger-surface.force", "all"),)
    args = {"target_force": Arg(0.1, positive, "normal force to keep (N)"), **TactileTask.args}

    @property
    def force_scale(self) -> float:
        return self.target_force

    def make_scene(self) -> dict:
        return {
            "name": "surface_follow", "dtype": "float32", "gravity": [0.0, 0.0, 0.0],
            "time": {"dt": "auto", "substeps": 10, "duration": 1.0},
            "bodies": [
                {"id": "surface", "type": "kinematic",
                 "shape": {"kind": "cylinder", "radius": RADIUS, "half_height": 0.02},
                 "pose": self._surface_pose(0.0, 0.0).tolist()},
                {"id": "finger", "type": "fem",
                 "mesh": {"kind": "box", "size": list(GEL), "cells": [2, 2, 1]},
                 "material": {"E": self.stiffness, "nu": 0.3, "density": 1000.0, "alpha": 50.0},
                 "pose": self.initial_control().tolist()}],
            "contacts": [{"a": "finger", "b": "surface", "kn": 2e6, "kd": 50.0, "kt": 2e6,
                          "mu": 0.3}]}

    @staticmethod
    def _surface_pose(cx: float, h: float) -> np.ndarray:
        # cylinder axis e_z turned onto y; its top line at height h above z = 0 at x = cx
        return np.array([cx, 0.0, h - RADIUS, np.pi / 2, 0.0, 0.0])

    def initial_control(self) -> np.ndarray:
        z = np.sqrt(RADIUS ** 2 - X0 ** 2) - RADIUS + GEL[2] + 3e-4
        return np.array([X0, 0.0, z, np.pi, 0.0, 0.0])

    def control_bounds(self):
        c0 = self.initial_control()
        lo = np.r_[X0 - 0.005, -0.01, -0.01, c0[3:] - 0.3]
        hi = np.r_[X1 + 0.005, 0.01, 0.02, c0[3:] + 0.3]
        return lo, hi, np.r_[1e-3, 1e-3, 2e-4, 0.02, 0.02, 0.02]

    def initial_actions(self):
        a = np.zeros((self.horizon, 6))
        a[:, 0] = min(1.0, (X1 - X0) / (1e-3 * self.horizon))
        a[:3, 2] = -1.0
        return a

    def body_poses(self, c):
        return {"finger": c}

    def randomize(self, rng):
        return {"cx": float(rng.uniform(-0.006, 0.006)), "h": float(rng.uniform(-5e-4, 5e-4))}

    def default_draws(self):
        return {"cx": 0.004, "h": 0.0}

    def apply_episode(self, objs, draws, ids):
        objs["surface"].set_initial(np.stack([self._surface_pose(d["cx"], d["h"])
                                              for d in draws]))

    def _geometry(self, c, draws):
        """Outward surface normal under the finger and the gap of the contact face (m)."""
        lib = torch if isinstance(c, torch.Tensor) else np
        cx = lib.as_tensor([d["cx"] for d in draws], dtype=c.dtype) if lib is torch else \
            np.array([d["cx"] for d in draws])
        h = lib.as_tensor([d["h"] for d in draws], dtype=c.dtype) if lib is torch else \
            np.array([d["h"] for d in draws])
        dx, dz = c[..., 0] - cx, c[..., 2] - (h - RADIUS)
        r = lib.sqrt(dx * dx + dz * dz)
        gap = r - GEL[2] - RADIUS
        return dx / r, dz / r, gap

    def _normal_force(self, force, c, draws):
        nx, nz, _ = self._geometry(c, draws)
        return -(force[..., 0] * nx + force[..., 2] * nz)

    def metrics(self, world, objs, c, draws):
        fn = self._normal_force(objs["finger-surface"].force(), c, draws)
        err = (fn - self.target_force) / self.target_force
        progress = np.clip((c[:, 0] - X0) / (X1 - X0), 0.0, 1.0)
        done = progress >= 1.0
        return {"normal_force": fn, "force_error": err,
                "cost": np.minimum(err ** 2, 1.0) + (1.0 - progress),
                "success": done & (np.abs(err) < 0.5)}

    def proprio(self, world, objs, c, draws):
        return np.column_stack([c[:, :3] / 0.02, c[:, 3:],
                                (c[:, 0] - X0) / (X1 - X0)])

    def loss(self, c, outs, draws, kind):
        cc = c[1:]                                           # (T, B, 6)
        progress = ((cc[-1, :, 0] - X1) / (X1 - X0)) ** 2
        _, _, gap = self._geometry(cc, draws)
        state = progress + ((gap + DEPTH) / DEPTH).pow(2).mean(dim=0)
        fn = self._normal_force(outs["finger-surface.force"], cc, draws)
        tactile = progress + ((fn - self.target_force) / self.target_force).pow(2).mean(dim=0)
        return {"state": state, "tactile": tactile, "both": state + tactile - progress}[kind]


class SurfaceFollowEnv(TactileEnv):
    """Slide a gel fingertip along an unknown curved surface at a target normal force.

    ## Description
    A gel pad (12 x 12 x 4 mm, 2 x 2 x 1 cells, facing down) starts just above a rigid
    cylinder of radius 5 cm lying along y, whose position and height are drawn per
    episode and not observed: the policy feels the surface through the gel. It must slide
    from x = -12 mm to x = +12 mm pressing with `target_force` newtons.

    ## Action Space
    Box(-1, 1, (6,)), a bounded SE(3) delta of the fingertip's pose: a[0:3] moves it (x,
    y: 1 mm, z: 0.2 mm per unit), a[3:6] adds to its rotation vector (0.02 rad per
    unit). Clipped to a workspace: x within 5 mm beyond the slide, y within +-1 cm, z
    from -1 to +2 cm, rotation within +-0.3 rad of the start per component.

    ## Observation Space
    `obs_mode="state"`: Box of proprioception (pose, progress) then tactile (force and
    torque in the sensor frame, scaled by `target_force`; marker displacements);
    `obs_mode="dict"`: a Dict of the two (float32); `obs_mode="image"`: the Dict and
    "image_finger", a uint8 (48, 64, 3) tactile image.

    ## Rewards
    -(min(force error^2, 1) + remaining distance fraction) per step, +10 on success.

    ## Starting State
    Surface axis shifted by up to 6 mm in x and 0.5 mm in height.

    ## Episode End
    Terminated on reaching the goal x with the normal force within 50 % of the target;
    truncated after `horizon` steps.

    ## Arguments
    target_force (N), horizon (steps), stiffness (gel E, Pa), obs_mode, image_height,
    image_width, render_mode.

    ## Version History
    v0: first version.
    """

    task_cls = SurfaceFollowTask


class SurfaceFollowVectorEnv(TactileVectorEnv):
    task_cls = SurfaceFollowTask
