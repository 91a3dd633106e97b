"""Property-based tests of sciflow.transport.solve: particle balance on random slabs.

For a converged fixed-source solution without incident flux, integrating the transport
equation over the slab and the directions gives

    sum_regions q_r w_r  =  absorption + leakage_left + leakage_right

(net leakages, zero on reflective sides). Summing the discrete cell balances shows that both
schemes (diamond and step characteristic share the cell balance, they differ only in the
auxiliary relation) satisfy it up to the change of the scattering source in the last
iteration, i.e. to the iteration tolerance.
"""

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sciflow.transport import Material, Region, Slab, solve

TOL = 1e-10
# Largest relative balance error measured (tol = 1e-10): 5.2e-10 over 2,000 random slabs drawn
# from the same ranges with numpy's RNG (SI the worst; DSA, GMRES, GMRES+DSA <= 3.5e-11), and
# 8.8e-10 over 3 x 1,000 Hypothesis examples per scheme of the strategy below. 5e-9 leaves a
# 5.7x margin over the worst. (Before solve() re-swept after DSA, S2 step characteristic +
# DSA reached 1.4e-8: the example pinned below.)
BALANCE_RTOL = 5e-9

_region = st.tuples(
    st.floats(0.05, 5.0),    # sigma_t (1/cm)
    st.floats(0.0, 0.95),    # c = sigma_s/sigma_t (< 1: fixed-source problem; DD-DSA on
                             # step characteristic is stable for c < ~0.976 at S2..S8)
    st.floats(0.1, 5.0),     # width (cm)
    st.floats(0.0, 2.0),     # source
    st.integers(1, 12),      # cells
)
_slab = st.fixed_dictionaries({
    "regions": st.lists(_region, min_size=1, max_size=4),
    "left": st.sampled_from(["vacuum", "reflective"]),
    "right": st.sampled_from(["vacuum", "reflective"]),
    "order": st.sampled_from([2, 4, 8]),
    "accel": st.sampled_from(["none", "dsa", "gmres", "gmres+dsa"]),
    "first_source": st.floats(0.1, 2.0),  # some source, so the relative error is defined
})


def _balance_error(spec, scheme):
    regions = [Region(Material(s, c * s), w, spec["first_source"] if i == 0 else q, n)
               for i, (s, c, w, q, n) in enumerate(spec["regions"])]
    slab = Slab(regions, left=spec["left"], right=spec["right"])
    sol = solve(slab, order=spec["order"], scheme=scheme, accel=spec["accel"], tol=TOL)
    source = sum(r.source[0] * r.width for r in regions)
    out = sol.absorption[0] + sol.leakage_left[0] + sol.leakage_right[0]
    for side in ("left", "right"):
        if spec[side] == "reflective":
            assert getattr(sol, f"leakage_{side}")[0] == 0.0
    assert sol.converged and np.all(np.isfinite(sol.phi))
    return abs(source - out) / source


@settings(max_examples=25, deadline=None)
@given(spec=_slab)
def test_particle_balance_diamond(spec):
    assert _balance_error(spec, "diamond") < BALANCE_RTOL


# the case that exposed leakages taken from the sweep before the last DSA correction
_DSA_FAST = {"regions": [(0.275, 0.8, 2.0, 0.0, 9)], "left": "reflective", "right": "vacuum",
             "order": 2, "accel": "dsa", "first_source": 0.275}


@settings(max_examples=25, deadline=None)
@given(spec=_slab)
@example(spec=_DSA_FAST)
def test_particle_balance_step_characteristic(spec):
    assert _balance_error(spec, "step_characteristic") < BALANCE_RTOL
