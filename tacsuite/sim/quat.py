"""Unit quaternions q = (w, x, y, z) for rigid-body orientation, as Taichi funcs and numpy.

Convention: q rotates body-frame vectors into the world, R(q) v = q (0, v) q*; products
compose like rotation matrices, R(q1 q2) = R(q1) R(q2). The numpy twins (`np_*`) are the
references the tests compare the kernels against and what the host side uses to convert
user poses.
"""

import numpy as np

from tacsuite.sim.backend import import_taichi
from tacsuite.sim.se3 import rot, rot_t

ti = import_taichi()


@ti.func
def mul(a, b):
    return ti.Vector([a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3],
                      a[0] * b[1] + a[1] * b[0] + a[2] * b[3] - a[3] * b[2],
                      a[0] * b[2] - a[1] * b[3] + a[2] * b[0] + a[3] * b[1],
                      a[0] * b[3] + a[1] * b[2] - a[2] * b[1] + a[3] * b[0]])


@ti.func
def to_matrix(q):
    w, x, y, z = q[0], q[1], q[2], q[3]
    return ti.Matrix([[1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
                      [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
                      [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]])


@ti.func
def axis_rotation(k: ti.template(), angle):
    """Quaternion of a rotation by `angle` about the body axis e_k (k static)."""
    c, s = ti.cos(0.5 * angle), ti.sin(0.5 * angle)
    return ti.Vector([c, s if ti.static(k == 0) else 0.0 * s,
                      s if ti.static(k == 1) else 0.0 * s,
                      s if ti.static(k == 2) else 0.0 * s])


@ti.func
def rotate_axis(p, k: ti.template(), angle):
    """Components of p in a frame turned by `angle` about e_k: R_k(angle)^T p."""
    c, s = ti.cos(angle), ti.sin(angle)
    out = p
    if ti.static(k == 0):
        out = ti.Vector([p[0], c * p[1] + s * p[2], -s * p[1] + c * p[2]])
    elif ti.static(k == 1):
        out = ti.Vector([c * p[0] - s * p[2], p[1], s * p[0] + c * p[2]])
    else:
        out = ti.Vector([c * p[0] + s * p[1], -s * p[0] + c * p[1], p[2]])
    return out


@ti.func
def free_rotor(q, L, inv_inertia, h):
    """Torque-free motion of a rigid body over time h: the new orientation quaternion.

    L is the (conserved) world angular momentum and inv_inertia the principal inverse
    inertia (body frame). The Hamiltonian sum_k Pi_k^2 / (2 I_k) is split into its three
    terms, each a rotation about one principal axis that is integrated exactly, composed
    symmetrically (Strang: 0, 1, 2, 1, 0 with half steps on 0 and 1). The scheme is
    symplectic and time-reversible, keeps L and |Pi| exactly and the energy to O(h^2)
    with no drift, and needs no implicit solve for the gyroscopic term at any step size.
    """
    R = to_matrix(q)
    pi = rot_t(R, L)
    qn = q
    for j in ti.static(range(5)):
        k = ti.static([0, 1, 2, 1, 0][j])
        step = ti.static([0.5, 0.5, 1.0, 0.5, 0.5][j])
        angle = step * h * pi[k] * inv_inertia[k]
        qn = mul(qn, axis_rotation(k, angle))
        pi = rotate_axis(pi, k, angle)
    return qn / qn.norm()


@ti.func
def angular_velocity(q, L, inv_inertia):
    """World angular velocity omega = R I^-1 R^T L."""
    R = to_matrix(q)
    return rot(R, inv_inertia * rot_t(R, L))


@ti.func
def angular_momentum(q, omega, inertia):
    """World angular momentum L = R I R^T omega."""
    R = to_matrix(q)
    return rot(R, inertia * rot_t(R, omega))


# --- numpy twins ----------------------------------------------------------------------------

def np_mul(a, b) -> np.ndarray:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return np.array([a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3],
                     a[0] * b[1] + a[1] * b[0] + a[2] * b[3] - a[3] * b[2],
                     a[0] * b[2] - a[1] * b[3] + a[2] * b[0] + a[3] * b[1],
                     a[0] * b[3] + a[1] * b[2] - a[2] * b[1] + a[3] * b[0]])


def np_to_matrix(q) -> np.ndarray:
    w, x, y, z = np.asarray(q, float) / np.linalg.norm(q)
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
                     [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
                     [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]])


def np_from_matrix(R) -> np.ndarray:
    """Unit quaternion (w >= 0) of a proper rotation matrix (Shepperd's method)."""
    R = np.asarray(R, float)
    tr = np.trace(R)
    if tr > 0:
        s = 2.0 * np.sqrt(1.0 + tr)
        q = [0.25 * s, (R[2, 1] - R[1, 2]) / s, (R[0, 2] - R[2, 0]) / s, (R[1, 0] - R[0, 1]) / s]
    else:
        i = int(np.argmax(np.diag(R)))
        j, k = (i + 1) % 3, (i + 2) % 3
        s = 2.0 * np.sqrt(1.0 + R[i, i] - R[j, j] - R[k, k])
        q = [0.0] * 4
        q[0] = (R[k, j] - R[j, k]) / s
        q[1 + i] = 0.25 * s
        q[1 + j] = (R[j, i] + R[i, j]) / s
        q[1 + k] = (R[k, i] + R[i, k]) / s
    q = np.array(q)
    return q * (1.0 if q[0] >= 0 else -1.0)


def np_axis_angle(axis, angle: float) -> np.ndarray:
    axis = np.asarray(axis, float)
    n = np.linalg.norm(axis)
    if not n > 0:
        raise ValueError(f"rotation axis must be a non-zero vector, got {axis.tolist()}")
    return np.concatenate([[np.cos(0.5 * angle)], np.sin(0.5 * angle) * axis / n])


def np_relative_rotation_vector(q0, q1) -> np.ndarray:
    """Rotation vector (axis * angle, world frame) of the rotation taking q0 to q1."""
    d = np_mul(q1, np.array([q0[0], -q0[1], -q0[2], -q0[3]]))
    if d[0] < 0:
        d = -d
    s = np.linalg.norm(d[1:])
    if s < 1e-15:
        return 2.0 * d[1:]
    return 2.0 * np.arctan2(s, d[0]) * d[1:] / s


@ti.func
def from_rotation_vector(r):
    """Unit quaternion of the rotation vector r (axis * angle); exact and smooth at r = 0."""
    th2 = r.dot(r)
    # sin(th/2)/th and cos(th/2) by their series below th^2 = 1e-4 (no 0/0 at rest).
    s = 0.5 - th2 / 48.0 + th2 * th2 / 3840.0
    c = 1.0 - th2 / 8.0 + th2 * th2 / 384.0
    if th2 >= 1e-4:
        th = ti.sqrt(th2)
        s = ti.sin(0.5 * th) / th
        c = ti.cos(0.5 * th)
    return ti.Vector([c, s * r[0], s * r[1], s * r[2]])


def np_from_rotation_vector(r) -> np.ndarray:
    r = np.asarray(r, float).reshape(3)
    th = float(np.linalg.norm(r))
    if th < 1e-12:
        return np.array([1.0, 0.5 * r[0], 0.5 * r[1], 0.5 * r[2]]) / np.sqrt(1 + th * th / 4)
    return np.concatenate([[np.cos(0.5 * th)], np.sin(0.5 * th) * r / th])
