"""Two gel fingertips squeeze a free cube resting on the ground and lift: it rises with
them when 2 mu F_n exceeds its weight and slips out when not (one batch, mu per env)."""

import numpy as np

from tacsuite.sim.readout import pair_wrench
from tacsuite.sim.scene import actions_at, build, example_scenes, load_scene

G = 9.81


def test_two_fingertips_hold_the_cube_when_friction_exceeds_its_weight_and_let_it_slip():
    sc = load_scene(example_scenes()["two_finger_cube"])
    sc["batch"] = 2
    for c in sc["contacts"][:2]:
        c["mu"] = [0.8, 0.005]
    world, objs = build(sc)
    world.reset()
    cube = objs["cube"]
    z0 = cube.state()["x"][:, 2].copy()
    steps = 70                                            # 0.14 s: lifted by 3.75 mm
    for i in range(steps):
        world.step(actions_at(sc, i, world.dt))
    lift = actions_at(sc, steps - 1, world.dt)["left"][2] - sc["bodies"][2]["pose"][2]
    rise = cube.state()["x"][:, 2] - z0
    weight = G * cube.masses()
    fn = np.stack([np.abs(pair_wrench(objs[f"{s}-cube"], np.zeros((2, 3)))[0][:, 0])
                   for s in ("left", "right")])
    grip = np.array([0.8, 0.005]) * fn.sum(axis=0)
    assert grip[0] > 5 * weight[0] and grip[1] < 0.5 * weight[1]
    # held: follows the fingers up (the gel's shear compliance lets it lag a little)
    assert rise[0] > 0.8 * lift
    # slipping: stays on the ground
    assert abs(rise[1]) < 0.05 * lift
    # the forces are equal and opposite: sensor force = -(force of the gel on the cube)
    f_left = pair_wrench(objs["left-cube"], np.zeros((2, 3)))[0]
    np.testing.assert_allclose(f_left, -objs["left-cube"].force(), rtol=1e-10, atol=1e-12)
