"""System identification: sim-to-sim recovery through the CLI, standard errors, baselines
on the same budget, and the observation and marker-CSV formats."""

import json

import numpy as np
import pytest

from tacsuite.sim import sysid

CONFIG = {}   # the default rig: 6 x 6 x 2 cells, a 20-step press and slide
TRUTH = {"E": 1e5, "nu": 0.35, "mu": 0.5}


@pytest.fixture(scope="module")
def rig():
    return sysid.Rig(CONFIG)


@pytest.fixture(scope="module")
def obs(rig):
    return sysid.synth(TRUTH, "slide", 0.01, 0, rig=rig)


def test_gradient_fit_recovers_parameters_from_2x_off_guesses(rig, obs):
    res = sysid.fit(obs, ["E", "nu", "mu"], {"E": 2e5, "nu": 0.175, "mu": 1.0}, budget=50,
                    rig=rig)
    f, se = res["fitted"], res["stderr"]
    assert abs(f["E"] / TRUTH["E"] - 1) < 0.03
    assert abs(f["mu"] / TRUTH["mu"] - 1) < 0.03
    assert abs(f["nu"] - TRUTH["nu"]) < 0.02
    for k in TRUTH:     # the Gauss-Newton standard errors cover the truth (3 sigma)
        assert 0 < se[k] and abs(f[k] - TRUTH[k]) < 3 * se[k], (k, f[k], se[k])
    # random search on the same budget ends with a far larger loss
    rnd = sysid.fit(obs, ["E", "nu", "mu"], {"E": 2e5, "nu": 0.175, "mu": 1.0},
                    method="random", budget=res["sim_calls"], stderr=False, rig=rig)
    assert rnd["loss"] > 10 * res["loss"]


def test_cli_synth_then_fit_writes_result_and_plots(tmp_path):
    from tacsuite.cli import main
    o = tmp_path / "obs.npz"
    assert main(["sysid", "synth", "--E", "1e5", "--mu", "0.5", "--motion", "press",
                 "--noise", "0.01", "--out", str(o)]) == 0
    z = sysid.load_observations(o)
    assert z["actions"].shape == (20, 6) and z["markers"].shape[2] == 2
    assert main(["sysid", "fit", str(o), "--params", "E", "--init", "E=1.5e5",
                 "--method", "cmaes", "--budget", "6", "--out", str(tmp_path / "fit")]) == 0
    res = json.loads((tmp_path / "fit" / "result.json").read_text())
    for key in ("fitted", "stderr", "loss", "iterations", "sim_calls", "seconds"):
        assert key in res
    assert (tmp_path / "fit" / "trajectory.png").is_file()
    assert (tmp_path / "fit" / "signals.png").is_file()


def test_marker_csv_loader_and_bad_inputs(tmp_path):
    p = tmp_path / "m.csv"
    rows = ["step,marker,du,dv"] + [f"{s},{m},{s + m},{-s}" for s in range(3) for m in range(2)]
    p.write_text("\n".join(rows) + "\n")
    m = sysid.load_marker_csv(p)
    assert m.shape == (3, 2, 2) and m[2, 1, 0] == 3 and m[2, 1, 1] == -2
    p.write_text("step,marker,du\n0,0,1\n")
    with pytest.raises(ValueError, match="columns"):
        sysid.load_marker_csv(p)
    with pytest.raises(ValueError, match="subset"):
        sysid.check_params(["E", "bogus"])
    with pytest.raises(ValueError, match="motion"):
        sysid.motion_actions("spin", sysid.DEFAULT_CONFIG)
    bad = tmp_path / "bad.npz"
    np.savez(bad, actions=np.zeros((4, 6)))
    with pytest.raises(ValueError, match="wrench"):
        sysid.load_observations(bad)


def test_parameters_not_fitted_take_the_given_values(rig, obs):
    obj = sysid.Objective(obs, ["E"], fixed={"mu": 0.7, "nu": 0.3}, rig=rig)
    obj.value(obj.to_z([1.2e5]))
    assert rig.pair.values["mu"][0] == 0.7 and rig.gel.values["nu"][0] == 0.3
    rig.simulate(obs["actions"], {"E": 1e5})          # the rest back to their defaults
    assert rig.pair.values["mu"][0] == sysid.PARAMS["mu"][2]
