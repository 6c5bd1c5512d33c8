"""TactileGrasp: a parallel gripper with two gel fingertips grasps an object on the ground
and lifts it to a target height without letting it slip."""

from __future__ import annotations

import numpy as np
import torch

from tacsuite.envs.tactile.env import TactileEnv, TactileVectorEnv
from tacsuite.envs.tactile.task import FRICTION, Arg, TactileTask, compose_rotvec, real_in
from tacsuite.sim.readout import rotation_matrices

HALF = 0.01                   # cube half size (m)
GEL = (0.012, 0.012, 0.004)   # pads; the contact face is GEL[2] from the bonded face
MATERIALS = ("rigid",)
NEEDS_MPM = ("elastic", "elastoplastic")


def check_material(name: str, material) -> str:
    if material in NEEDS_MPM:
        raise ValueError(f"{name}={material!r} needs deformable (MPM) objects, which "
                         f"this version does not have; choose one of {list(MATERIALS)}")
    if material not in MATERIALS:
        raise ValueError(f"{name} must be one of {list(MATERIALS)} (elastic and "
                         f"elastoplastic come with MPM objects), got {material!r}")
    return material


class TactileGraspTask(TactileTask):
    name = "TactileGrasp"
    driven = ("left", "right")
    sensors = ("left", "right")
    force_scale = 0.1
    loss_outputs = (("left-cube.force", "all"), ("right-cube.force", "all"),
                    ("cube.x", "final"))

    args = {"material": Arg("rigid", check_material, "object material"),
            "lift": Arg(0.01, real_in(0.001, 0.05), "height to lift the cube by (m)"),
            **TactileTask.args, "mu": FRICTION}

    def make_scene(self) -> dict:
        p = self.poses_np(self.initial_control()[None])
        gel = {"mesh": {"kind": "box", "size": list(GEL), "cells": [2, 2, 1]},
               "material": {"E": self.stiffness, "nu": 0.3, "density": 1000.0, "alpha": 50.0}}
        pair = {"kn": 2e6, "kd": 50.0, "kt": 2e6, "mu": self.mu}
        return {
            "name": "tactile_grasp", "dtype": "float32", "gravity": [0.0, 0.0, -9.81],
            "time": {"dt": "auto", "substeps": 10, "duration": 1.0},
            "bodies": [
                {"id": "ground", "type": "ground"},
                {"id": "cube", "type": "rigid",
                 "shape": {"kind": "box", "half_extents": [HALF] * 3, "spacing": 0.01},
                 "density": 500.0, "pose": [0.0, 0.0, HALF, 0.0, 0.0, 0.0]},
                {"id": "left", "type": "fem", **gel, "pose": p["left"][0].tolist()},
                {"id": "right", "type": "fem", **gel, "pose": p["right"][0].tolist()}],
            "contacts": [{"a": "left", "b": "cube", **pair}, {"a": "right", "b": "cube", **pair},
                         {"a": "cube", "b": "ground", "kn": 2e6, "kd": 50.0, "kt": 2e6,
                          "mu": 0.5}]}

    def initial_control(self) -> np.ndarray:
        # gripper pose (centre x, y, z, rotation vector) and the gap between the two
        # contact faces; the fingers close along the gripper's x axis
        return np.array([0.0, 0.0, HALF, 0.0, 0.0, 0.0, 2 * HALF + 0.002])

    def control_bounds(self):
        lo = np.r_[-0.02, -0.02, 0.004, -0.5, -0.5, -0.5, 0.008]
        hi = np.r_[0.02, 0.02, 0.06, 0.5, 0.5, 0.5, 0.03]
        return lo, hi, np.r_[5e-4, 5e-4, 5e-4, 0.02, 0.02, 0.02, 3e-4]

    def initial_actions(self):
        a = np.zeros((self.horizon, 7))
        n = max(1, self.horizon // 4)
        a[:n, 6] = -1.0
        a[n:, 2] = 1.0
        return a

    def body_poses(self, c):
        # Each pad sits half the gap plus its thickness from the centre along the
        # gripper's x axis, facing the other: turned by -+90 degrees about y, then with
        # the gripper.
        R = rotation_matrices(c[..., 3:6])
        off = R[..., :, 0] * (c[..., 6:7] / 2 + GEL[2])
        y = torch.zeros_like(c[..., 3:6])
        y[..., 1] = np.pi / 2
        return {"left": torch.cat([c[..., :3] - off, compose_rotvec(c[..., 3:6], y)], -1),
                "right": torch.cat([c[..., :3] + off, compose_rotvec(c[..., 3:6], -y)], -1)}

    def default_draws(self):
        return {"dx": 0.0}

    def randomize(self, rng):
        return {"dx": float(rng.uniform(-0.0008, 0.0008))}

    def apply_episode(self, objs, draws, ids):
        B = len(draws)
        pose = np.array([[d["dx"], 0.0, HALF, 0.0, 0.0, 0.0] for d in draws])
        objs["cube"].set_initial(pose=pose, velocity=np.zeros((B, 3)),
                                 angular_velocity=np.zeros((B, 3)))

    def metrics(self, world, objs, c, draws):
        z = objs["cube"].state()["x"][:, 2]
        height = z - HALF
        # slip: how far the gripper rose more than the cube did
        slip = np.maximum((c[:, 2] - HALF) - height, 0.0)
        err = np.abs(self.lift - height) / self.lift
        return {"height": height, "slip": slip, "cost": np.minimum(err, 2.0),
                "success": height >= 0.9 * self.lift}

    def proprio(self, world, objs, c, draws):
        x = objs["cube"].state()["x"]
        return np.column_stack([c[:, :3] / 0.02, c[:, 3:6], c[:, 6:] / 0.02,
                                (x - c[:, :3]) / 0.01, (x[:, 2:3] - HALF) / self.lift])

    def loss(self, c, outs, draws, kind):
        height = outs["cube.x"][:, 2] - HALF
        state = ((height - self.lift) / self.lift) ** 2
        cone = 0.0
        for key, sign in (("left-cube.force", 1.0), ("right-cube.force", -1.0)):
            f = outs[key]
            fn = torch.clamp(sign * f[..., 0], min=1e-6)
            ft = torch.sqrt(f[..., 1] ** 2 + f[..., 2] ** 2 + 1e-12)
            # friction-cone ratio |f_t| / (mu f_n): near 1 the finger is about to slip
            cone = cone + (ft / (self.mu * fn + 1e-3)).mean(dim=0)
        return {"state": state, "tactile": cone, "both": state + 0.1 * cone}[kind]


class TactileGraspEnv(TactileEnv):
    """Grasp an object with two gel fingertips and lift it to a target height.

    ## Description
    A 2 cm cube (4 g) rests on the ground between the two gel pads (12 x 12 x 4 mm each,
    facing each other) of a parallel gripper. The gripper must close, squeeze and lift
    the cube by `lift` metres. `material="rigid"` is the object this version has
    (elastic and elastoplastic objects need the MPM bodies and are refused).

    ## Action Space
    Box(-1, 1, (7,)), a bounded SE(3) delta of the gripper and its width: a[0:3] moves
    its centre (x, y, z: 0.5 mm per unit), a[3:6] adds to its rotation vector (0.02 rad
    per unit; the pads turn about the centre), a[6] changes the gap between the pads
    (0.3 mm per unit). Clipped to a workspace: centre within +-2 cm in x, y and 4-60 mm
    up, rotation within +-0.5 rad per component, gap 8-30 mm. The pads do not touch the
    ground (no pad-ground contact), so low tilted grasps pass through it.

    ## Observation Space
    `obs_mode="state"`: Box of proprioception (gripper position, rotation vector and
    width, cube position relative to the gripper, cube height) then tactile (force,
    torque, markers of each pad); `obs_mode="dict"`: a Dict of the two (float32);
    `obs_mode="image"`: the Dict and "image_left", "image_right", uint8 (48, 64, 3)
    tactile images of the two pads.

    ## Rewards
    -min(|lift - height| / lift, 2) per step, +10 on success. `info["slip"]`: how far the
    gripper rose more than the cube.

    ## Starting State
    The cube shifted by up to 0.8 mm in x.

    ## Episode End
    Terminated when the cube is at 90 % of the lift height; truncated after `horizon`.

    ## Arguments
    material ("rigid"), lift (m), horizon (steps), stiffness (gel E, Pa), mu (gel-cube
    friction), obs_mode, image_height, image_width, render_mode.

    ## Version History
    v1: rotation deltas (7-D actions: pose delta as the other tasks, then width); the
    proprioception holds the gripper's rotation vector.
    v0: first version (rigid objects; 4-D actions, translation and width).
    """

    task_cls = TactileGraspTask


class TactileGraspVectorEnv(TactileVectorEnv):
    task_cls = TactileGraspTask
