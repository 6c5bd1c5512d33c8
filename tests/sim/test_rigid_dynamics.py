"""Free rigid-body motion against closed forms and a high-accuracy reference."""

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from tacsuite.sim import quat
from tacsuite.sim.backend import ensure_init, import_taichi
from tacsuite.sim.rigid import RigidBody
from tacsuite.sim.rigid_shapes import make_shape, mesh_mass_properties
from tacsuite.sim.sdf_grid import icosphere
from tacsuite.sim.world import World

ensure_init()
ti = import_taichi()

HE = (0.03, 0.02, 0.01)


def _reference_rotation(q0, w0, inertia, T):
    """Euler's equations and the quaternion kinematics, integrated to 1e-12."""
    def rhs(_, y):
        q, wb = y[:4], y[4:]
        dw = np.cross(inertia * wb, wb) / inertia
        dq = 0.5 * quat.np_mul(q, np.r_[0.0, wb])
        return np.r_[dq, dw]

    wb0 = quat.np_to_matrix(q0).T @ w0
    sol = solve_ivp(rhs, (0, T), np.r_[q0, wb0], rtol=1e-12, atol=1e-12)
    return sol.y[:4, -1] / np.linalg.norm(sol.y[:4, -1])


def test_free_rotation_conserves_momentum_energy_and_follows_euler_equations():
    w = World(batch=2, dt=1e-3, substeps=10, dtype=ti.f64)
    w0 = np.array([[0.3, 8.0, 0.5], [4.0, 0.2, 9.0]])     # near the major/minor axes
    body = w.add(RigidBody("box", make_shape("box", dtype=ti.f64, half_extents=HE),
                           pose=(0, 0, 0, 0.2, 0.3, 0.4), angular_velocity=w0))
    w.reset()
    inertia = body.inertias()

    def momentum():
        s = body.state()
        return np.stack([quat.np_to_matrix(q) @ (inertia[b] * (quat.np_to_matrix(q).T @ s["w"][b]))
                         for b, q in enumerate(s["q"])])

    L0, E0 = momentum(), body.energy()
    steps = 100
    for _ in range(steps):
        w.step()
    L1, E1 = momentum(), body.energy()
    np.testing.assert_allclose(L1, L0, rtol=0, atol=1e-11 * np.abs(L0).max())
    np.testing.assert_allclose(E1, E0, rtol=1e-6)
    q0 = quat.np_from_rotation_vector([0.2, 0.3, 0.4])
    for b in range(2):
        ref = _reference_rotation(q0, w0[b], inertia[b], steps * w.substeps * w.dt)
        got = body.state()["q"][b]
        # second-order splitting: orientation error O(dt^2 |w|^3 T) ~ 1e-3 here
        assert min(np.abs(got - ref).max(), np.abs(got + ref).max()) < 3e-3


def test_projectile_matches_the_discrete_and_the_continuous_solution():
    g, dt, k, steps = 9.81, 1e-3, 10, 50
    w = World(batch=1, dt=dt, substeps=k, dtype=ti.f64, gravity=(0, 0, -g))
    ball = w.add(RigidBody("ball", make_shape("sphere", dtype=ti.f64, radius=0.01),
                           pose=(0, 0, 1, 0, 0, 0), velocity=(1.0, 0.5, 2.0)))
    w.reset()
    for _ in range(steps):
        w.step()
    n = steps * k
    t = n * dt
    x = ball.state()["x"][0]
    # symplectic Euler: z_n = z0 + vz t - g dt^2 n (n + 1) / 2, exactly
    np.testing.assert_allclose(x, [t, 0.5 * t, 1 + 2 * t - g * dt * dt * n * (n + 1) / 2],
                               rtol=0, atol=1e-12)
    assert abs(x[2] - (1 + 2 * t - 0.5 * g * t * t)) <= 0.5 * g * dt * t + 1e-12


@pytest.mark.parametrize("kind,size,volume,ipm", [
    ("box", {"half_extents": (0.03, 0.02, 0.01)}, 4.8e-5,
     [(4e-4 + 1e-4) / 3, (9e-4 + 1e-4) / 3, (9e-4 + 4e-4) / 3]),
    ("sphere", {"radius": 0.02}, 4 / 3 * math.pi * 8e-6, [0.4 * 4e-4] * 3),
    ("cylinder", {"radius": 0.01, "half_height": 0.02}, math.pi * 1e-4 * 0.04,
     [1e-4 / 4 + 4e-4 / 3, 1e-4 / 4 + 4e-4 / 3, 1e-4 / 2]),
])
def test_primitive_mass_properties_and_sample_areas(kind, size, volume, ipm):
    shape = make_shape(kind, dtype=ti.f64, **size)
    assert shape.volume == pytest.approx(volume, rel=1e-12)
    np.testing.assert_allclose(shape.inertia_per_mass, ipm, rtol=1e-12)
    if kind == "box":
        he = np.array(size["half_extents"])
        assert shape.areas.sum() == pytest.approx(8 * (he[0] * he[1] + he[1] * he[2]
                                                       + he[0] * he[2]), rel=1e-12)
    # every sample point lies on the surface
    phi = _sdf_numpy(shape)
    assert np.abs(phi).max() < 1e-9


def _sdf_numpy(shape):
    n = len(shape.points)
    pts = ti.Vector.field(3, ti.f64, shape=n)
    out = ti.field(ti.f64, shape=n)
    pts.from_numpy(shape.points)

    @ti.kernel
    def run():
        for i in range(n):
            out[i] = shape.local_sdf(pts[i])[0]

    run()
    return out.to_numpy()


def test_capsule_inertia_against_monte_carlo():
    r, hl = 0.01, 0.015
    shape = make_shape("capsule", dtype=ti.f64, radius=r, half_length=hl)
    rng = np.random.default_rng(0)
    p = rng.uniform(-1, 1, (400_000, 3)) * [r, r, hl + r]
    d = p - np.stack([0 * p[:, 0], 0 * p[:, 0], np.clip(p[:, 2], -hl, hl)], 1)
    inside = p[np.linalg.norm(d, axis=1) < r]
    box_vol = 8 * r * r * (hl + r)
    assert shape.volume == pytest.approx(box_vol * len(inside) / len(p), rel=0.01)
    ix = np.mean(inside[:, 1] ** 2 + inside[:, 2] ** 2)
    iz = np.mean(inside[:, 0] ** 2 + inside[:, 1] ** 2)
    np.testing.assert_allclose(shape.inertia_per_mass, [ix, ix, iz], rtol=0.01)


def test_mesh_mass_properties_match_the_analytic_solids():
    # A box as 12 triangles: exact.
    he = np.array([0.03, 0.02, 0.01])
    corners = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)]) * he
    tris = np.array([[0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5], [0, 4, 5], [0, 5, 1],
                     [2, 3, 7], [2, 7, 6], [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3]])
    V, com, inertia = mesh_mass_properties(corners + [0.1, 0.2, 0.3], tris)
    assert V == pytest.approx(8 * he.prod(), rel=1e-12)
    np.testing.assert_allclose(com, [0.1, 0.2, 0.3], atol=1e-14)
    a2 = he**2
    np.testing.assert_allclose(np.diag(inertia), [(a2[1] + a2[2]) / 3, (a2[0] + a2[2]) / 3,
                                                  (a2[0] + a2[1]) / 3], rtol=1e-12)
    # A fine icosphere: within its polygonal error of the sphere's 2/5 r^2.
    v, t = icosphere(0.02, 4)
    V, com, inertia = mesh_mass_properties(v, t)
    assert V == pytest.approx(4 / 3 * math.pi * 0.02**3, rel=5e-3)
    np.testing.assert_allclose(np.diag(inertia), 0.4 * 0.02**2, rtol=5e-3)


def test_mesh_body_uses_its_principal_frame():
    v, t = icosphere(0.02, 2)
    shape = make_shape("mesh", dtype=ti.f64, verts=v * [1.5, 1.0, 0.5] + 0.01, tris=t)
    assert np.all(np.diff(shape.inertia_per_mass) >= 0)
    np.testing.assert_allclose(shape.com, 0.01, atol=1e-12)
    assert np.abs(_sdf_numpy(shape)).max() < 0.1 * 0.02 * 0.5   # grid interpolation error


def test_bad_shapes_are_refused_with_the_field_named():
    with pytest.raises(ValueError, match="radius"):
        make_shape("sphere", dtype=ti.f64, radius=-1)
    with pytest.raises(ValueError, match="unknown shape 'cone'"):
        make_shape("cone", dtype=ti.f64)
    with pytest.raises(ValueError, match="half_length"):
        make_shape("capsule", dtype=ti.f64, radius=0.01)
