"""Rigid bodies on the ground: Coulomb stick/slip on an incline, Newton's third law,
torques from lever arms, batches against separate runs, and a hinged compound pendulum."""

import math

import numpy as np
import pytest

from tacsuite.sim import quat
from tacsuite.sim.backend import ensure_init, import_taichi
from tacsuite.sim.contact_pair import ContactPair
from tacsuite.sim.ground import Ground
from tacsuite.sim.joints import Hinge
from tacsuite.sim.rigid import RigidBody
from tacsuite.sim.rigid_shapes import make_shape
from tacsuite.sim.world import World

ensure_init()
ti = import_taichi()

G = 9.81
HE = np.array([0.02, 0.02, 0.01])
CONTACT = dict(kn=2e7, kd=2e4, kt=2e7)


def incline_world(thetas, mus, dt=5e-5, substeps=40):
    """A 4 x 4 x 2 cm block resting on planes tilted by thetas about y (one per env)."""
    B = len(thetas)
    normals = np.stack([[math.sin(t), 0.0, math.cos(t)] for t in thetas])
    w = World(batch=B, dt=dt, substeps=substeps, dtype=ti.f64, gravity=(0, 0, -G))
    ground = w.add(Ground("ground", normal=normals))
    poses = np.stack([np.r_[HE[2] * normals[b], 0.0, t, 0.0] for b, t in enumerate(thetas)])
    box = w.add(RigidBody("box", make_shape("box", dtype=ti.f64, half_extents=HE),
                          density=1000.0, pose=poses))
    pair = w.add_pair(ContactPair(box, ground, mu=np.asarray(mus, float), **CONTACT))
    w.reset()
    return w, box, ground, pair


def downslope(theta):
    return np.array([math.cos(theta), 0.0, -math.sin(theta)])


THETAS = np.radians([20.0, 35.0, 35.0, 10.0])
MUS = [0.5, 0.5, 0.3, 0.8]


@pytest.fixture(scope="module")
def incline():
    """Four environments in one batch: (20 deg, mu 0.5) sticks, (35 deg, 0.5) and
    (35 deg, 0.3) slide, (10 deg, 0.8) rests. Returns the world, its bodies and the
    down-slope displacement of every env after each control step."""
    w, box, ground, pair = incline_world(THETAS, MUS)
    x0 = box.state()["x"].copy()
    s = []
    for _ in range(120):
        w.step()
        d = box.state()["x"] - x0
        s.append([d[b] @ downslope(t) for b, t in enumerate(THETAS)])
    times = (np.arange(120) + 1) * w.dt * w.substeps
    return w, box, ground, pair, times, np.array(s)


def test_block_on_incline_sticks_below_tan_mu_and_slides_with_coulomb_acceleration(incline):
    *_, times, s = incline
    # below the angle of friction (tan 20 deg < 0.5) the tangential springs hold it: an
    # elastic stretch of a few um, then no creep at all
    assert abs(s[-1, 0]) < 1e-5
    assert abs(s[-1, 0] - s[60, 0]) < 1e-8
    # above it: a = g (sin theta - mu cos theta), fitted after the initial settling
    sel = times > 0.05
    for b in (1, 2):
        acc = 2 * np.polyfit(times[sel], s[sel, b], 2)[0]
        want = G * (math.sin(THETAS[b]) - MUS[b] * math.cos(THETAS[b]))
        assert acc == pytest.approx(want, rel=0.03)


def test_contact_forces_are_equal_and_opposite_and_torques_follow_the_lever_arms(incline):
    w, box, ground, pair, *_ = incline
    f_body, tau_body = box.wrench()
    f_ground, tau_ground = ground.wrench()
    np.testing.assert_allclose(pair.force(), f_ground, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(f_body, -f_ground, rtol=1e-12, atol=1e-15)
    weight = G * box.masses()[0]
    # resting on the 10 deg slope (env 3) the contacts carry the weight, friction included
    np.testing.assert_allclose(f_body[3], [0, 0, weight], rtol=1e-3, atol=1e-4 * weight)
    # torque about the centre of mass = -(torque about the ground point) + (p - x_c) x F,
    # with x_c the centre of mass in the state the forces were computed from
    xc = w.io.read(box.x, w.last_force_slot)
    for b in range(4):
        lever = ground.points_np[b] - xc[b]
        want = -tau_ground[b] + np.cross(lever, f_body[b])
        np.testing.assert_allclose(tau_body[b], want, rtol=0, atol=1e-12)
        # the weight's moment about the ground point is large, so the check is not vacuous
        assert np.linalg.norm(tau_ground[b]) > 0.1 * weight * np.linalg.norm(lever)
    # the blocks do not tip: the normal forces shift until the net torque vanishes
    assert np.abs(tau_body).max() < 1e-3 * weight * HE[2]


def test_a_batch_with_different_parameters_equals_separate_runs(incline):
    w, box, *_ = incline
    single, sbox, _, _ = incline_world(THETAS[2:3], MUS[2:3])
    for _ in range(120):
        single.step()
    xb = box.state()["x"]
    np.testing.assert_allclose(sbox.state()["x"][0], xb[2], rtol=0, atol=1e-12)
    assert np.linalg.norm(xb[2] - xb[1]) > 1e-3      # the parameters did differ


def lid_world(amplitude, limits=None, substeps=20, dt=2e-4):
    """A 10 x 4 x 0.6 cm lid hanging from a hinge along y through its top edge."""
    a, b, c = 0.05, 0.02, 0.003
    w = World(batch=1, dt=dt, substeps=substeps, dtype=ti.f64, gravity=(0, 0, -G))
    rot = np.array([0.0, math.pi / 2 - amplitude, 0.0])
    com = quat.np_to_matrix(quat.np_from_rotation_vector(rot)) @ [a, 0, 0]
    lid = w.add(RigidBody("lid", make_shape("box", dtype=ti.f64, half_extents=(a, b, c)),
                          density=500.0, pose=np.r_[com, rot]))
    hinge = w.add_joint(Hinge("hinge", lid, anchor=(0, 0, 0), axis=(0, 1, 0), limits=limits))
    w.reset()
    return w, lid, hinge, (a, c)


def test_hinged_lid_swings_with_the_compound_pendulum_period():
    amp = math.radians(3.0)
    w, lid, hinge, (a, c) = lid_world(amp)
    angles, times = [], []
    for i in range(190):
        w.step()
        angles.append(hinge.angle()[0] - amp)      # angle from the hanging equilibrium
        times.append((i + 1) * w.dt * w.substeps)
    ang, t = np.array(angles), np.array(times)
    z = np.where(np.sign(ang[:-1]) != np.sign(ang[1:]))[0]
    tz = t[z] - ang[z] * (t[z + 1] - t[z]) / (ang[z + 1] - ang[z])
    period = 2 * np.diff(tz).mean()
    pivot_inertia = (a * a + c * c) / 3 + a * a          # per unit mass
    want = 2 * math.pi * math.sqrt(pivot_inertia / (G * a))
    assert len(tz) >= 3
    assert period == pytest.approx(want, rel=0.02)
    # the pin holds: anchor drift far below the lid's size, reaction ~ the weight
    assert abs(np.abs(ang).max() - amp) < 0.05 * amp
    assert np.linalg.norm(hinge.reaction()[0]) == pytest.approx(G * lid.masses()[0], rel=0.05)


def test_hinge_limit_stops_the_swing():
    amp = math.radians(20.0)
    w, lid, hinge, _ = lid_world(amp, limits=(-math.radians(5.0), math.radians(5.0)),
                                 substeps=10)
    reached = []
    for _ in range(60):
        w.step()
        reached.append(hinge.angle()[0])
    # free, it would swing to +40 deg; the limit (stiff penalty) holds it near +5 deg
    assert max(reached) < math.radians(5.0) + math.radians(1.0)
    assert max(reached) > math.radians(4.0)


def test_hinge_rejects_bad_input_with_the_field_named():
    w = World(batch=1, dt=1e-4, substeps=2, dtype=ti.f64)
    lid = w.add(RigidBody("lid", make_shape("box", dtype=ti.f64, half_extents=HE)))
    with pytest.raises(ValueError, match="axis"):
        Hinge("h", lid, anchor=(0, 0, 0), axis=(0, 0, 0))
    with pytest.raises(ValueError, match="limits"):
        Hinge("h", lid, anchor=(0, 0, 0), axis=(0, 1, 0), limits=(0.1, 0.2))
    with pytest.raises(ValueError, match="damping"):
        Hinge("h", lid, anchor=(0, 0, 0), axis=(0, 1, 0), damping=-1)
