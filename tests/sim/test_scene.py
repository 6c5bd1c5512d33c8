"""Scene files: validation names the bad field; `tacsuite sim run` runs every shipped
scene end to end; bad input exits 2 with a clear message."""

import copy
import json

import numpy as np
import pytest

from tacsuite.cli import main as cli
from tacsuite.sim.scene import auto_contacts, example_scenes, load_scene, pose_at, validate

EXAMPLES = example_scenes()


def raw(name):
    return json.loads(EXAMPLES[name].read_text())


def test_every_example_is_valid_and_the_expected_set_ships():
    assert {"fingertip_press_slide", "two_finger_cube", "hinged_lid"} <= set(EXAMPLES)
    for path in EXAMPLES.values():
        load_scene(path)


def _set(d, path, value):
    keys = path.split("/")
    for k in keys[:-1]:
        d = d[int(k)] if isinstance(d, list) else d[k]
    last = keys[-1]
    if value is KeyError:
        del d[last]
    elif isinstance(d, list):
        d[int(last)] = value
    else:
        d[last] = value


@pytest.mark.parametrize("path,value,message", [
    ("bodys", [], r"scene field bodys: unknown field; allowed here: \["),
    ("time/substeps", 0, r"time.substeps: must be an integer >= 1, got 0"),
    ("time/duration", "long", r"time.duration: must be a finite number"),
    ("bodies/1/density", "heavy", r"bodies\[1\].density: must be a finite number"),
    ("bodies/1/shape/half_extents", [0.01, 0.01], r"bodies\[1\].shape.half_extents: must be a "
     r"list of 3"),
    ("bodies/1/shape/kind", "cone", r"bodies\[1\].shape.kind: 'cone' is not allowed; choose "
     r"one of \['box', 'sphere'"),
    ("bodies/1/shape/radius", 0.01, r"bodies\[1\].shape.radius: unknown field"),
    ("bodies/2/material/nu", 0.5, r"bodies\[2\].material.nu: must lie in \(-1, 0.5\)"),
    ("bodies/2/type", "soft", r"bodies\[2\].type: 'soft' is not allowed"),
    ("bodies/1/id", "left", r"bodies\[2\].id: 'left' is used twice"),
    ("contacts/0/b", "nobody", r"contacts\[0\].b: no body with id 'nobody'; bodies are"),
    ("contacts/2/a", "ground", r"contacts\[2\].a: 'ground' is a ground body; the point side"),
    ("contacts/0/mu", [0.1, 0.2], r"contacts\[0\].mu: a per-environment list needs 1 numbers"),
    ("actions/ghost", {"motion": "hold"}, r"actions.ghost: no body with id 'ghost'"),
    ("actions/cube", {"motion": "hold"}, r"actions.cube: 'cube' is a rigid body; actions drive"),
    ("actions/left/motion", "wiggle", r"actions.left.motion: 'wiggle' is not allowed"),
    ("actions/left/lift_time", KeyError, r"actions.left.lift_time: is required"),
])
def test_validation_errors_name_the_field_and_what_is_allowed(path, value, message):
    sc = raw("two_finger_cube")
    _set(sc, path, value)
    with pytest.raises(ValueError, match=message):
        validate(sc)


def test_joint_and_table_errors_name_the_field():
    sc = raw("hinged_lid")
    bad = copy.deepcopy(sc)
    bad["joints"][0]["body"] = "pusher"
    with pytest.raises(ValueError, match=r"joints\[0\].body: 'pusher' is a kinematic body"):
        validate(bad)
    bad = copy.deepcopy(sc)
    bad["joints"][0]["limits"] = [0.2, 1.0]
    with pytest.raises(ValueError, match=r"joints\[0\].limits: must be \[lo, hi\]"):
        validate(bad)
    bad = copy.deepcopy(sc)
    bad["actions"]["pusher"]["table"]["t"] = [0.0, 0.5, 0.4]
    with pytest.raises(ValueError, match=r"actions.pusher.table.t: times must increase"):
        validate(bad)


def test_named_motions_and_tables_interpolate_waypoints():
    sc = load_scene(EXAMPLES["two_finger_cube"])
    left = sc["actions"]["left"]
    start = np.array(sc["bodies"][2]["pose"])
    np.testing.assert_allclose(pose_at(left, 0.0), start)
    np.testing.assert_allclose(pose_at(left, 0.025), start + [0.0004, 0, 0, 0, 0, 0])
    np.testing.assert_allclose(pose_at(left, 0.07), start + [0.0008, 0, 0, 0, 0, 0])
    np.testing.assert_allclose(pose_at(left, 1.0), start + [0.0008, 0, 0.005, 0, 0, 0])
    ids = {b["id"]: b["type"] for b in sc["bodies"]}
    pairs = {(c["a"], c["b"]) for c in auto_contacts(ids, sc["contact_defaults"])}
    assert pairs == {("left", "cube"), ("right", "cube"), ("cube", "ground")}


# The grasp scene is built and run in test_rigid_grasp.py; its CLI run is the slow variant.
# The MPM and cable scenes (automatic substep) run in test_scene_objects.py.
@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow)
                                  if n == "two_finger_cube" else n
                                  for n in ("fingertip_press_slide", "hinged_lid",
                                            "two_finger_cube")])
def test_sim_run_runs_each_example_scene(name, tmp_path, capsys):
    sc = load_scene(EXAMPLES[name])
    ctrl = sc["time"]["dt"] * sc["time"]["substeps"]
    extra = ["--frames-png", "--video", "gif"] if name == "hinged_lid" else []
    rc = cli(["sim", "run", name, "--out", str(tmp_path), "--duration", str(2 * ctrl)] + extra)
    assert rc == 0, capsys.readouterr().err
    d = np.load(tmp_path / "states.npz")
    assert d["time"].shape == (3,) or d["time"].shape == (2,)
    F = len(d["time"])
    for b in sc["bodies"]:
        if b["type"] == "rigid":
            assert d[f"rigid/{b['id']}/x"].shape == (F, 1, 3)
            np.testing.assert_allclose(np.linalg.norm(d[f"rigid/{b['id']}/q"], axis=-1), 1.0)
        if b["type"] == "fem":
            assert d[f"fem/{b['id']}/x"].shape[:2] == (F, 1)
            assert d[f"sensor/{b['id']}/torque"].shape == (F, 1, 3)
    for c in sc["contacts"]:
        assert d[f"contact/{c['a']}-{c['b']}/force"].shape == (F, 1, 3)
    if extra:
        assert len(list((tmp_path / "frames").glob("*.png"))) == F
        assert (tmp_path / "scene.gif").stat().st_size > 1000
    assert json.loads((tmp_path / "summary.json").read_text())["frames"] == F


def test_sim_run_bad_input_exits_2_with_a_clear_message(tmp_path, capsys):
    assert cli(["sim", "run", "no_such_scene", "--out", str(tmp_path)]) == 2
    assert "neither a file nor a shipped example" in capsys.readouterr().err
    bad = raw("hinged_lid")
    bad["bodies"][0]["density"] = -1
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(bad))
    assert cli(["sim", "run", str(p), "--out", str(tmp_path)]) == 2
    assert "scene field bodies[0].density: must be > 0.0" in capsys.readouterr().err
    p.write_text("{\"name\": ")
    assert cli(["sim", "run", str(p), "--out", str(tmp_path)]) == 2
    assert "not valid JSON (line 1" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:                  # tyro refuses the choice
        cli(["sim", "run", "hinged_lid", "--out", str(tmp_path), "--video", "avi"])
    assert exc.value.code == 2 and "avi" in capsys.readouterr().err
