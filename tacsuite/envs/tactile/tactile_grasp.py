"""TactileGrasp: a parallel gripper with two gel fingertips grasps an object on the ground
(rigid, elastic or elastoplastic) and lifts it to a target height without letting it slip
(or, elastoplastic, denting it for good)."""

from __future__ import annotations

import numpy as np
import torch

from tacsuite.envs.tactile.env import TactileEnv, TactileVectorEnv
from tacsuite.envs.tactile.task import FRICTION, Arg, TactileTask, compose_rotvec, real_in
from tacsuite.sim.readout import rotation_matrices

HALF = 0.01                   # cube half size (m)
GEL = (0.012, 0.012, 0.004)   # pads; the contact face is GEL[2] from the bonded face
MATERIALS = ("rigid", "elastic", "elastoplastic")
# The deformable cubes: MLS-MPM, 8^3 particles on a 5 mm grid, as heavy as the rigid one
# (4 g); fixed-corotated elasticity, von Mises plasticity for "elastoplastic", whose yield
# stress is low enough that a firm squeeze dents it for good (the optimisers' initial
# guess closes 3 mm and leaves 0.1 % permanent strain; closing 5.4 mm leaves 3 %).
MPM = {"dx": 0.005, "ppc": 2, "margin": 3}
MPM_MATERIAL = {"elastic": "fixed_corotated", "E": 5e4, "nu": 0.3, "density": 500.0,
                "alpha": 30.0}
YIELD_STRESS = 2e3            # Pa, elastoplastic
PLASTIC_BOUND = 0.02          # largest permanent principal log strain of a success


def check_material(name: str, material) -> str:
    if material not in MATERIALS:
        raise ValueError(f"{name} must be one of {list(MATERIALS)}, got {material!r}")
    return material


def permanent_strain(cube) -> np.ndarray:
    """(B,) the largest principal log strain of the cube's plastic deformation.

    MPM keeps each particle's elastic deformation gradient F_e; the total one is
    estimated as the least-squares affine map A from the particles' rest positions to
    their current ones (x ~ A X + b), so F_p = mean(F_e)^-1 A is the deformation that
    stays when the elastic part is released (rigid motions cancel: both carry the same
    rotation). Its principal log stretches |log s_i| measure the permanent dent; an
    elastic cube gives ~0 (to the affine fit's error), a dented one the flattening."""
    X = cube.points0 - cube.points0.mean(axis=0)
    x = cube.positions()
    xc = x - x.mean(axis=1, keepdims=True)
    A = np.einsum("bni,nj->bij", xc, X) @ np.linalg.inv(X.T @ X)
    Fe = cube.deformation().mean(axis=1)
    s = np.linalg.svd(np.linalg.solve(Fe, A), compute_uv=False)
    return np.abs(np.log(s)).max(axis=1)


class TactileGraspTask(TactileTask):
    name = "TactileGrasp"
    driven = ("left", "right")
    sensors = ("left", "right")
    force_scale = 0.1

    @property
    def deformable(self) -> bool:
        return self.material != "rigid"

    @property
    def half(self) -> float:
        """Half the cube's size as its contacts see it: MPM particles touch at their
        centres, half a particle spacing inside the sampled box."""
        return HALF - MPM["dx"] / MPM["ppc"] / 2 if self.deformable else HALF

    @property
    def loss_outputs(self):
        # gel against a rigid cube's SDF (gel points), or the cube's particles against the
        # gels' surfaces (a surface pair per pad): the pair names follow the point side
        pads = ("cube-left", "cube-right") if self.deformable else ("left-cube", "right-cube")
        return tuple((f"{p}.force", "all") for p in pads) + (("cube.x", "final"),)

    args = {"material": Arg("rigid", check_material, "object material"),
            "lift": Arg(0.01, real_in(0.001, 0.05), "height to lift the cube by (m)"),
            **TactileTask.args, "mu": FRICTION}

    def make_scene(self) -> dict:
        p = self.poses_np(self.initial_control()[None])
        gel = {"mesh": {"kind": "box", "size": list(GEL), "cells": [2, 2, 1]},
               "material": {"E": self.stiffness, "nu": 0.3, "density": 1000.0, "alpha": 50.0}}
        pads = [{"id": "left", "type": "fem", **gel, "pose": p["left"][0].tolist()},
                {"id": "right", "type": "fem", **gel, "pose": p["right"][0].tolist()}]
        if self.deformable:
            cube = {"id": "cube", "type": "mpm", "shape": {"kind": "box", "size": [2 * HALF] * 3},
                    "center": [0.0, 0.0, self.half], **MPM,
                    "material": {**MPM_MATERIAL, **({"plastic": "von_mises",
                                                     "yield_stress": YIELD_STRESS}
                                                    if self.material == "elastoplastic" else {})}}
            law = {"kn": 1e7, "kd": 0.0, "kt": 1e7}
            contacts = [{"a": "cube", "b": "left", **law, "mu": self.mu},
                        {"a": "cube", "b": "right", **law, "mu": self.mu},
                        {"a": "cube", "b": "ground", **law, "mu": 0.5}]
        else:
            cube = {"id": "cube", "type": "rigid",
                    "shape": {"kind": "box", "half_extents": [HALF] * 3, "spacing": 0.01},
                    "density": 500.0, "pose": [0.0, 0.0, HALF, 0.0, 0.0, 0.0]}
            pair = {"kn": 2e6, "kd": 50.0, "kt": 2e6, "mu": self.mu}
            contacts = [{"a": "left", "b": "cube", **pair}, {"a": "right", "b": "cube", **pair},
                        {"a": "cube", "b": "ground", "kn": 2e6, "kd": 50.0, "kt": 2e6,
                         "mu": 0.5}]
        return {"name": "tactile_grasp", "dtype": "float32", "gravity": [0.0, 0.0, -9.81],
                "time": {"dt": "auto", "substeps": 10, "duration": 1.0},
                "bodies": [{"id": "ground", "type": "ground"}, cube] + pads,
                "contacts": contacts}

    def initial_control(self) -> np.ndarray:
        # gripper pose (centre x, y, z, rotation vector) and the gap between the two
        # contact faces; the fingers close along the gripper's x axis
        return np.array([0.0, 0.0, self.half, 0.0, 0.0, 0.0, 2 * self.half + 0.002])

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
        dx = np.array([[d["dx"], 0.0, 0.0] for d in draws])
        cube = objs["cube"]
        if self.deformable:
            cube.set_initial(x=cube.points0[None] + dx[:, None], v=np.zeros((B, cube.n_points, 3)))
            return
        cube.set_initial(pose=np.column_stack([dx[:, :2], np.full(B, HALF), np.zeros((B, 3))]),
                         velocity=np.zeros((B, 3)), angular_velocity=np.zeros((B, 3)))

    def _centre(self, objs):
        """(B, 3) the cube's centre: its body position, or its particles' mean."""
        cube = objs["cube"]
        return cube.positions().mean(axis=1) if self.deformable else cube.state()["x"]

    def metrics(self, world, objs, c, draws):
        height = self._centre(objs)[:, 2] - self.half
        # slip: how far the gripper rose more than the cube did
        slip = np.maximum((c[:, 2] - self.half) - height, 0.0)
        err = np.abs(self.lift - height) / self.lift
        out = {"height": height, "slip": slip, "cost": np.minimum(err, 2.0),
               "success": height >= 0.9 * self.lift}
        if self.material == "elastoplastic":
            out["permanent_strain"] = permanent_strain(objs["cube"])
            out["success"] = out["success"] & (out["permanent_strain"] < PLASTIC_BOUND)
        return out

    def proprio(self, world, objs, c, draws):
        x = self._centre(objs)
        return np.column_stack([c[:, :3] / 0.02, c[:, 3:6], c[:, 6:] / 0.02,
                                (x - c[:, :3]) / 0.01, (x[:, 2:3] - self.half) / self.lift])

    def loss(self, c, outs, draws, kind):
        x = outs["cube.x"]
        height = (x.mean(dim=-2) if self.deformable else x)[..., 2] - self.half
        state = ((height - self.lift) / self.lift) ** 2
        cone = 0.0
        for (key, _), sign in zip(self.loss_outputs[:2], (1.0, -1.0), strict=True):
            # the force of the pad on the cube (a surface pair records the cube's on the pad)
            f = -outs[key] if self.deformable else outs[key]
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
    the cube by `lift` metres. `material`: "rigid" (a rigid body; the pads' nodes touch
    its box), "elastic" (an MLS-MPM cube of 8^3 particles, fixed-corotated, E = 50 kPa)
    or "elastoplastic" (the same with von Mises plasticity, yield stress 2 kPa: a hard
    squeeze dents it for good). The MPM cubes touch the gels' deforming surfaces
    (surface pairs); their contacts sit at the particles, half a particle spacing
    (1.25 mm) inside the sampled box, so the pads start that much closer.

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
    -min(|lift - height| / lift, 2) per step (height: of the cube's centre, the particles'
    mean for MPM cubes), +10 on success. `info["slip"]`: how far the gripper rose more
    than the cube. Elastoplastic: `info["permanent_strain"]`, the largest principal log
    strain of the cube's plastic deformation F_p = mean(F_e)^-1 A (A: least-squares
    affine map of the particles from rest, F_e: their elastic deformation gradients).

    ## Starting State
    The cube shifted by up to 0.8 mm in x.

    ## Episode End
    Terminated when the cube is at 90 % of the lift height (elastoplastic: and its
    permanent strain is below 0.02); truncated after `horizon`.

    ## Arguments
    material ("rigid" | "elastic" | "elastoplastic"), lift (m), horizon (steps),
    stiffness (gel E, Pa), mu (gel-cube friction), obs_mode, image_height, image_width,
    render_mode.

    ## Version History
    v1: rotation deltas (7-D actions: pose delta as the other tasks, then width); the
    proprioception holds the gripper's rotation vector. Later in v1: elastic and
    elastoplastic MPM cubes (`material`; the rigid cube's episodes are unchanged).
    v0: first version (rigid objects; 4-D actions, translation and width).
    """

    task_cls = TactileGraspTask


class TactileGraspVectorEnv(TactileVectorEnv):
    task_cls = TactileGraspTask
