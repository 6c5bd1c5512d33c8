"""The two optimal-gain oracles agree on every continuing environment of the suite."""

import numpy as np
import pytest

from tacsuite.envs.continuing_toy_text import ContinuingFrozenLakeEnv, ContinuingTaxiEnv
from tacsuite.envs.garnet import garnet_model
from tacsuite.envs.linear_amdp import linear_amdp_model
from tacsuite.envs.river_swim import river_swim_model
from tacsuite.theory.average_reward import optimal_gain, optimal_gain_lp, policy_gain


def _models():
    yield "garnet-10x3", garnet_model(10, 3, 3, 0)
    yield "garnet-50x5", garnet_model(50, 5, 5, 1)
    m = linear_amdp_model(20, 4, 5, 0)
    yield "linear-amdp", (m.P, m.R)
    fl = ContinuingFrozenLakeEnv()
    yield "frozen-lake", (fl.P, fl.R)
    fl8 = ContinuingFrozenLakeEnv(map_name="8x8")
    yield "frozen-lake-8x8", (fl8.P, fl8.R)
    taxi = ContinuingTaxiEnv()
    yield "taxi", (taxi.P, taxi.R)
    yield "river-swim-6", river_swim_model(6)


@pytest.mark.parametrize("name,model", list(_models()), ids=lambda x: x if isinstance(x, str)
                         else "")
def test_lp_and_rvi_gains_agree_and_the_policy_attains_them(name, model):
    P, R = model
    sol = optimal_gain(P, R, tol=1e-10)
    lp_gain, _ = optimal_gain_lp(P, R)
    assert sol.gain == pytest.approx(lp_gain, abs=1e-6), name
    if R.shape[0] <= 100:  # the exact multichain evaluation is a dense 3S x 3S solve
        g, _ = policy_gain(P, R, sol.policy)
        np.testing.assert_allclose(g, lp_gain, atol=1e-6)
