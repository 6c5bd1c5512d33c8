"""Scene files with MPM and cable bodies: validation errors name the field; the shipped
scenes build, and the cable scene runs a few steps through `actions_at`."""

import json

import numpy as np
import pytest

from tacsuite.sim.scene import actions_at, build, example_scenes, load_scene, validate


def _raw(name):
    return json.loads(example_scenes()[name].read_text())


@pytest.mark.parametrize("path,value,match", [
    (("bodies", 1, "material", "plastic"), "tresca", r"bodies\[1\]\.material\.plastic"),
    (("bodies", 1, "dx"), -1.0, r"bodies\[1\]\.dx"),
    (("bodies", 1, "shape"), {"kind": "torus"}, r"bodies\[1\]\.shape\.kind"),
])
def test_bad_mpm_entries_raise_naming_the_field(path, value, match):
    raw = _raw("plasticine_dent")
    d = raw
    for k in path[:-1]:
        d = d[k]
    d[path[-1]] = value
    with pytest.raises(ValueError, match=match):
        validate(raw)


def test_bad_cable_node_index_is_refused():
    raw = _raw("cable_drag")
    raw["bodies"][1]["grasped"] = [31]
    with pytest.raises(ValueError, match=r"bodies\[1\]\.grasped\[0\]"):
        validate(raw)


def test_shipped_scenes_build_and_the_cable_scene_runs():
    world, objs = build(load_scene(example_scenes()["plasticine_dent"]))
    assert objs["clay"].n_points == 12 * 12 * 5 * 8 and objs["clay"].plastic == "von_mises"
    scene = load_scene(example_scenes()["cable_drag"])
    world, objs = build(scene)
    world.reset()
    for i in range(3):
        world.step(actions_at(scene, i, world.dt))
    x = objs["rope"].positions()[0]
    grasp = actions_at(scene, 2, world.dt)["rope"]
    # the grasped end keeps its offset from the gripper frame (its radius, 2 mm, above it)
    assert np.all(np.isfinite(x)) and abs(x[0, 2] - (grasp[2] + 0.002)) < 1e-12


def test_a_contact_against_a_gel_is_a_surface_pair_and_bad_fields_are_named():
    raw = _raw("cable_fingertip_drag")
    sc = validate(raw)
    assert [c["surface"] for c in sc["contacts"]] == [False, True]
    raw["contacts"] = "auto"
    assert {(c["a"], c["b"], c["surface"]) for c in validate(raw)["contacts"]} == {
        ("rope", "ground", False), ("rope", "finger", True)}
    raw = _raw("cable_fingertip_drag")
    raw["contacts"][0]["cutoff"] = 1e-3
    with pytest.raises(ValueError, match=r"contacts\[0\]\.cutoff"):
        validate(raw)
    raw = _raw("cable_fingertip_drag")
    raw["contacts"][1]["cutoff"] = -1.0
    with pytest.raises(ValueError, match=r"contacts\[1\]\.cutoff"):
        validate(raw)
    raw = _raw("fingertip_press_slide")
    raw["contacts"] = [{"a": "table", "b": "finger"}]
    with pytest.raises(ValueError, match=r"contacts\[0\]\.a"):
        validate(raw)


def test_the_fingertip_drags_the_cable_and_the_sensor_reads_what_the_cable_feels():
    from tacsuite.commands.sim_run import _record
    from tacsuite.sim.surface_pair import SurfacePair

    scene = load_scene(example_scenes()["cable_fingertip_drag"])
    world, objs = build(scene)
    pair = objs["rope-finger"]
    assert isinstance(pair, SurfacePair)
    world.reset()
    for i in range(25):   # the pad reaches the cable after 16 control steps
        world.step(actions_at(scene, i, world.dt))
    f = pair.force()[0]
    assert f[2] > 1e-3, "the pad does not press the cable"
    frame = _record(scene, world, objs, 0.0)
    np.testing.assert_allclose(frame["sensor/finger/force"][0], f, rtol=1e-10)
    np.testing.assert_allclose(pair.node_forces()[0].sum(axis=0), f, rtol=1e-10)
