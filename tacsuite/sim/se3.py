"""Rigid poses as (translation, rotation vector), in numpy and as Taichi functions.

A pose is a 6-vector (p, r): the frame's origin p (m) and its orientation as a rotation
vector r (axis times angle, rad), so that a point with local coordinates q sits at
R(r) q + p in the world. Actions interpolate poses linearly in (p, r) over the substeps
of a control step: smooth in both end poses, hence differentiable, and exact for
rotations about a fixed axis.

R(r) uses Rodrigues' formula in the cancellation-free form
R = I + (sin th / th) K + 1/2 (sin(th/2) / (th/2))^2 K^2 with K the cross-product matrix
of r; below th^2 = 1e-4 both coefficients come from their Taylor series in th^2, so the
function and its derivative stay exact and finite at r = 0 in float32 and float64.
"""

import numpy as np

from tacsuite.sim.backend import import_taichi

ti = import_taichi()

SERIES_BELOW = 1e-4   # th^2 under which the Taylor series of the coefficients is used


def skew(r: np.ndarray) -> np.ndarray:
    x, y, z = r
    return np.array([[0.0, -z, y], [z, 0.0, -x], [-y, x, 0.0]])


def rotation_matrix(r) -> np.ndarray:
    """R(r) for one rotation vector r (3,)."""
    r = np.asarray(r, dtype=np.float64).reshape(3)
    th2 = float(r @ r)
    if th2 < SERIES_BELOW:
        a = 1.0 - th2 / 6.0 + th2 * th2 / 120.0
        b = 0.5 - th2 / 24.0 + th2 * th2 / 720.0
    else:
        th = np.sqrt(th2)
        a = np.sin(th) / th
        b = 0.5 * (np.sin(th / 2) / (th / 2)) ** 2
    K = skew(r)
    return np.eye(3) + a * K + b * (K @ K)


def as_poses(value, batch: int, name: str) -> np.ndarray:
    """Validate a pose (6,) or per-environment poses (batch, 6); returns (batch, 6)."""
    a = np.asarray(value, dtype=np.float64)
    if a.shape == (6,):
        a = np.tile(a, (batch, 1))
    if a.shape != (batch, 6) or not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be a finite pose (6,) = (x, y, z, rx, ry, rz) or "
                         f"per-environment poses ({batch}, 6), got shape {a.shape}")
    return a


@ti.func
def rotation(r):
    """Taichi R(r) for a rotation vector r (3-vector of the caller's float type)."""
    th2 = r.dot(r)
    a = 1.0 - th2 / 6.0 + th2 * th2 / 120.0
    b = 0.5 - th2 / 24.0 + th2 * th2 / 720.0
    if th2 >= SERIES_BELOW:
        th = ti.sqrt(th2)
        a = ti.sin(th) / th
        h = ti.sin(0.5 * th) / (0.5 * th)
        b = 0.5 * h * h
    # K^2 = r r^T - th2 I, written out: Taichi 1.7.4 prints a "Loading variable before
    # anything is stored" warning per entry when it differentiates a matrix product in a
    # kernel (harmless, zero-initialised adjoints, but hundreds of lines on a first run).
    z = r[0] - r[0]          # zero and one of the caller's float type
    o = z + 1.0 - b * th2
    K = ti.Matrix([[z, -r[2], r[1]], [r[2], z, -r[0]], [-r[1], r[0], z]])
    rr = ti.Matrix([[r[i] * r[j] for j in ti.static(range(3))] for i in ti.static(range(3))])
    eye = ti.Matrix([[o, z, z], [z, o, z], [z, z, o]])
    return eye + a * K + b * rr


# Matrix-vector products written out, for kernels that are differentiated by Taichi: its
# 1.7.4 reverse pass of `R @ v` prints "Loading variable before anything is stored" once
# per entry while compiling (harmless, the adjoints start at zero, but noise on a first
# run). Same numbers as `R @ v` and `R.transpose() @ v`.
@ti.func
def rot(R, v):
    return ti.Vector([R[i, 0] * v[0] + R[i, 1] * v[1] + R[i, 2] * v[2]
                      for i in ti.static(range(3))])


@ti.func
def rot_t(R, v):
    return ti.Vector([R[0, i] * v[0] + R[1, i] * v[1] + R[2, i] * v[2]
                      for i in ti.static(range(3))])
