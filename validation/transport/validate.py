"""Validation of ``sciflow.transport`` (1-D slab S_N) against published benchmarks.

Three groups of checks, each against reference values kept in a JSON file next to this script
together with its source:

1. **Criticality** — Sood, Forster & Parsons (2003; LA-13511, 1999), ``sood_forster_parsons.json``:
   one-group bare, water-reflected and linearly anisotropic slabs and two-group slabs are set up
   at their published critical dimension, so the exact answer is k = 1. ``k_eigenvalue`` is run
   for S_N orders 8 ... 128 on a mesh fine enough that the spatial error is below 1e-6; k must
   approach 1 at the Gauss-Legendre rate O(N^-2), be within 2e-3 at S16 (one-group cases) and
   1e-4 at S128, and the N -> infinity Richardson extrapolate must be within 5e-5 of 1. The
   spatial O(h^2) convergence of diamond difference is shown for PUa-1-0-SL, and for two slabs
   the eigenfunction is checked against Kaper, Lindeman & Leaf's flux ratios.
2. **Reed's problem** (NSE 46, 1971), ``reed_1971.json``: sciflow's cell averages are compared with
   the spatially exact solution of the same S_N equations (a matrix-exponential solve, written
   here, cross-checked against a closed-form S8 solution); the error must fall as O(h^2). The
   angular convergence against an S256 exact solution is shown as well.
3. **Garcia & Siewert** (JQSRT 27, 1982), ``garcia_siewert_1982.json``: exit intensities of a
   tau0 = 5 slab with single-scattering albedo exp(-tau/s) (s = 1: one thin Region per cell, each
   with its own Material) and s = infinity, under isotropic illumination through
   ``Slab(incident={"left": 1.0})``. Intensities at the tabulated directions (not quadrature
   nodes) are obtained by integrating the S_N emission density along each ray. Tolerance
   2e-2 (16/N)^1.5 on the largest *relative* error over the 44 tabulated intensities, at
   S16 ... S128 (the transmitted intensities of the s = 1 slab are 6e-6 ... 1e-2, so an
   absolute bound would pass a zero); albedo and transmission from ``psi_out`` close the
   particle balance.

``run(outdir, quick=False)`` returns the dict that ``sciflow validate`` expects; ``quick=True``
runs a subset in a few seconds.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np

from sciflow.transport import Material, Region, Slab, k_eigenvalue, solve
from sciflow.validation import Check, save_figure

HERE = Path(__file__).resolve().parent

# -- tolerances (the pass criteria, stated once) ---------------------------------------------------
K_TOL_S16 = 2e-3          # |k - 1| at S16, one-group cases
K_TOL_FINE = 1e-4         # |k - 1| at the finest order (S128; S64 in quick mode)
K_TOL_EXTRAP = 5e-5       # |k_inf - 1|, k_inf the Richardson extrapolate in N
ORDER_RANGE = (1.5, 3.0)  # observed convergence order in N of k (Gauss-Legendre: 2)
MESH_TOL = 2e-6           # estimated spatial error of k on the chosen mesh
FLUX_RATIO_TOL = 1e-4     # eigenfunction ratios phi(x)/phi(0), finest order
REED_TOL_L1 = 1e-4        # relative L1 error of Reed cell averages on the finest mesh
REED_ORDER = (1.8, 2.2)   # observed spatial order (diamond difference: 2)
MESH_ORDER = (1.8, 2.2)   # observed spatial order of k (SFP mesh study)
# Garcia-Siewert exit intensities: relative errors. Measured largest relative error over the
# 44 intensities (2000 cells): S16 7.2e-3, S32 2.8e-3, S64 8.5e-4, S128 2.1e-4 (all at the
# grazing transmitted direction mu = 0.05 of the s = inf slab); quick mode (500 cells) S16
# 7.2e-3, S32 2.8e-3. The envelope below leaves a 2.5-4.2x margin. The published values carry
# six significant digits (rounding <= 5e-6 relative, 40x below the S128 error), so no
# absolute floor is needed, not even for the smallest (6.07e-6, s = 1, mu = 0.05).
GS_REL_TOL_FINE = 5e-4    # largest relative exit-intensity error at S128 (measured 2.1e-4)


def gs_tolerance(order: int) -> float:
    """Allowed largest relative exit-intensity error at S_N for the Garcia-Siewert slabs."""
    return 2e-2 * (16.0 / order) ** 1.5


def gs_relative_error(computed, published) -> np.ndarray:
    """|computed - published| / |published| per intensity (every published value is > 0)."""
    published = np.asarray(published, dtype=float)
    if np.any(published <= 0):
        raise ValueError("published intensities must be > 0 for a relative error")
    return np.abs(np.asarray(computed, dtype=float) - published) / published


def _load(name):
    return json.loads((HERE / name).read_text())


def _fmt(x, digits=2):
    return f"{x:.{digits}e}" if isinstance(x, float | np.floating) else str(x)


def _observed_order(e_coarse, e_fine, ratio=2.0):
    if e_coarse == 0 or e_fine == 0 or np.sign(e_coarse) != np.sign(e_fine):
        return float("nan")
    return float(math.log(abs(e_coarse / e_fine)) / math.log(ratio))


# ================================================================================================
# 1. Sood, Forster & Parsons critical slabs
# ================================================================================================

def sfp_material(spec: dict) -> Material:
    """A sciflow Material from the SFP cross-section record (group 0 = fast)."""
    st = spec["sigma_t"]
    if np.ndim(st) == 0:
        return Material(st, spec["sigma_s"], spec["nu"] * spec["sigma_f"])
    sc = spec["scatter"]
    ss = np.zeros((1, 2, 2))
    ss[0, 0, 0] = sc["fast->fast"]
    ss[0, 1, 0] = sc["fast->slow"]
    ss[0, 1, 1] = sc["slow->slow"]
    ss[0, 0, 1] = sc["slow->fast"]
    return Material(np.array(st, float), ss, np.array(spec["nu"]) * np.array(spec["sigma_f"]),
                    chi=np.array(spec["chi"], float))


def sfp_slab(case: dict, materials: dict, refine: float = 1.0) -> Slab:
    """The critical slab of ``case``; ``refine`` scales the number of cells."""
    mats = {name: sfp_material(spec) for name, spec in materials.items()}
    regions = case["regions"]
    tau = [w * float(np.max(mats[m].sigma_t)) for m, w in regions]
    h = min(tau[0] / 400.0, 0.02)          # mesh in mean free paths: <= 1/400 of the core
    regs = [Region(mats[m], w, cells=max(50, int(math.ceil(refine * t / h))))
            for (m, w), t in zip(regions, tau, strict=True)]
    left = "reflective" if case["symmetry"] == "half" else "vacuum"
    return Slab(regs, left=left, right="vacuum")


def _edge_value(avg, j):
    """Point value at cell edge j from uniform cell averages (4th order); mirror about edge 0."""
    def a(i):
        return avg[-i - 1] if i < 0 else avg[i]

    return (-a(j - 2) + 7 * a(j - 1) + 7 * a(j) - a(j + 1)) / 12.0


def run_sfp(quick: bool) -> dict:
    data = _load("sood_forster_parsons.json")
    cases = [c for c in data["cases"] if c.get("quick") or not quick]
    orders = (16, 64) if quick else (8, 16, 32, 64, 128)
    n_fine = orders[-1]
    out = {"cases": {}, "passed": True}
    for case in cases:
        t0 = time.perf_counter()
        slab = sfp_slab(case, data["materials"])
        ks, sols = {}, {}
        for n in orders:
            sols[n] = k_eigenvalue(slab, order=n, tol=1e-10)
            ks[n] = sols[n].k
        # spatial error on this mesh (O(h^2): e(h) ~ (k(h) - k(h/2)) * 4/3), at S16
        k16_fine = k_eigenvalue(sfp_slab(case, data["materials"], refine=2.0), order=16,
                                tol=1e-10).k
        mesh_err = abs(ks[16] - k16_fine) * 4.0 / 3.0
        rec = {"problem": case["problem"], "kind": case["kind"], "groups": case["groups"],
               "r_c_cm": case["r_c_cm"],
               "cells": int(slab.n_cells), "k": {str(n): ks[n] for n in orders},
               "mesh_error_S16": mesh_err}
        checks = {}
        if case["groups"] == 1:
            checks["S16"] = abs(ks[16] - 1.0) < K_TOL_S16
        checks["fine"] = abs(ks[n_fine] - 1.0) < K_TOL_FINE
        checks["mesh"] = mesh_err < MESH_TOL
        if not quick:
            p = _observed_order(ks[32] - ks[64], ks[64] - ks[128])
            k_inf = ks[128] + (ks[128] - ks[64]) / (2.0 ** p - 1.0)
            rec.update(order_N=p, k_extrapolated=k_inf)
            checks["order"] = ORDER_RANGE[0] <= p <= ORDER_RANGE[1]
            checks["extrapolated"] = abs(k_inf - 1.0) < K_TOL_EXTRAP
            # what the extrapolated k implies for r_c, against the published precision
            d = 1e-4 * case["r_c_cm"]              # scaling the core scales r_c alike
            kp = k_eigenvalue(_scaled(case, data, 1 + 1e-4), order=32, tol=1e-10).k
            km = k_eigenvalue(_scaled(case, data, 1 - 1e-4), order=32, tol=1e-10).k
            dkdr = (kp - km) / (2 * d)
            rec["dk_dr_per_cm"] = dkdr
            rec["implied_rc_shift_cm"] = (1.0 - k_inf) / dkdr
            if "la13511_1999" in case:   # which edition's r_c does the computation support?
                st = float(np.atleast_1d(data["materials"][case["regions"][0][0]]["sigma_t"])[0])
                rec["edition_check"] = {
                    "implied_rc_mfp": (case["r_c_cm"] + rec["implied_rc_shift_cm"]) * st,
                    "published_2003_mfp": case["r_c_mfp"],
                    "published_1999_mfp": case["la13511_1999"]["r_c_mfp"]}
        fr = case.get("flux_ratios")
        if fr and not quick:
            phi = sols[n_fine].phi[0]
            ncell = phi.size  # one region, uniform cells, reflective centre at edge 0
            centre = _edge_value(phi, 0)
            got = [_edge_value(phi, int(round(q * ncell))) / centre for q in fr["x_over_rc"]]
            err = float(np.max(np.abs(np.array(got) - fr["phi_over_phi0"])))
            rec["flux_ratios"] = {"x_over_rc": fr["x_over_rc"], "computed": got,
                                  "published": fr["phi_over_phi0"], "max_abs_error": err}
            checks["flux_ratios"] = err < FLUX_RATIO_TOL
        rec["checks"] = checks
        rec["passed"] = all(checks.values())
        rec["wall_time_s"] = time.perf_counter() - t0
        out["cases"][case["id"]] = rec
        out["passed"] &= rec["passed"]
    out["orders"] = list(orders)
    out["mesh_study"] = _sfp_mesh_study(data, quick)
    out["passed"] &= out["mesh_study"]["passed"]
    return out


def _scaled(case, data, factor):
    """The slab of ``case`` with its first (fissile) region scaled by ``factor``."""
    c = dict(case)
    c["regions"] = [[case["regions"][0][0], case["regions"][0][1] * factor]] + \
        [list(r) for r in case["regions"][1:]]
    return sfp_slab(c, data["materials"])


def _sfp_mesh_study(data, quick):
    """k(h) at S16 for PUa-1-0-SL: diamond difference converges as O(h^2)."""
    case = next(c for c in data["cases"] if c["id"] == "PUa-1-0-SL")
    mat = sfp_material(data["materials"]["PUa"])
    cells = (5, 10, 20, 40, 80) if quick else (5, 10, 20, 40, 80, 160, 320, 640)
    ks = [k_eigenvalue(Slab([Region(mat, case["regions"][0][1], cells=c)], left="reflective"),
                       order=16, tol=1e-11).k for c in cells]
    k_ref = ks[-1] + (ks[-1] - ks[-2]) / 3.0          # Richardson, p = 2
    err = [abs(k - k_ref) for k in ks]
    orders = [_observed_order(err[i], err[i + 1]) for i in range(len(err) - 2)]
    h = [case["regions"][0][1] / c for c in cells]
    p_last = orders[-1]
    return {"case": "PUa-1-0-SL", "order": 16, "cells": list(cells), "h_cm": h, "k": ks,
            "k_h0": k_ref, "error": err, "observed_order": orders,
            "passed": MESH_ORDER[0] <= p_last <= MESH_ORDER[1]}


def _sfp_markdown(res) -> str:
    lines = ["### Critical slabs (Sood, Forster & Parsons 2003 / LA-13511)", "",
             "Each slab is at its published critical dimension, so k = 1 exactly. "
             f"Pass: |k-1| < {K_TOL_S16:g} at S16 (one-group), < {K_TOL_FINE:g} at "
             f"S{res['orders'][-1]}, observed order in N in [{ORDER_RANGE[0]}, {ORDER_RANGE[1]}],"
             f" Richardson extrapolate |k_inf - 1| < {K_TOL_EXTRAP:g}, estimated mesh error "
             f"< {MESH_TOL:g}.", ""]
    orders = res["orders"]
    head = "| case | # | kind | cells | " + " | ".join(f"k-1 S{n}" for n in orders)
    head += " | p(N) | k_inf-1 | r_c shift (cm) | mesh err | pass |"
    lines += [head, "|" + "---|" * (head.count("|") - 1)]
    for cid, r in res["cases"].items():
        ks = " | ".join(f"{r['k'][str(n)] - 1:+.2e}" for n in orders)
        p = f"{r['order_N']:.2f}" if "order_N" in r else "-"
        ke = f"{r['k_extrapolated'] - 1:+.1e}" if "k_extrapolated" in r else "-"
        sh = f"{r['implied_rc_shift_cm']:+.1e}" if "implied_rc_shift_cm" in r else "-"
        mark = "PASS" if r["passed"] else "FAIL (" + ", ".join(
            k for k, v in r["checks"].items() if not v) + ")"
        lines.append(f"| {cid} | {r['problem']} | {r['kind']} | {r['cells']} | {ks} | {p} | "
                     f"{ke} | {sh} | {r['mesh_error_S16']:.0e} | {mark} |")
    lines += ["", "The two-group S16 values are reported but not held to the S16 bound: "
              "PU-2-0-SL is only 0.40 fast mean free paths thick (half), and its S16 error "
              "(Gauss-Legendre, O(N^-2)) is slightly above 2e-3; at S32 and beyond it meets "
              "the same N^-2 envelope as the one-group slabs. 'r_c shift' is the change of the "
              "published critical half-thickness that would make the extrapolated k exactly 1 "
              "(dk/dr_c by finite differences).", ""]
    for cid, r in res["cases"].items():
        if "k_extrapolated" in r and abs(r["k_extrapolated"] - 1.0) > 1e-5:
            lines.append(f"- {cid}: k_inf - 1 = {r['k_extrapolated'] - 1:+.1e} (within tolerance) "
                         f"would be removed by r_c = "
                         f"{r['r_c_cm'] + r['implied_rc_shift_cm']:.6f} cm instead of the "
                         f"published {r['r_c_cm']} cm.")
        if "edition_check" in r:
            e = r["edition_check"]
            lines.append(f"- {cid}: the extrapolated k implies r_c = "
                         f"{e['implied_rc_mfp']:.6f} mfp; "
                         f"published {e['published_2003_mfp']} (2003) and "
                         f"{e['published_1999_mfp']} (LA-13511, 1999).")
    lines.append("")
    fr = [(cid, r["flux_ratios"]) for cid, r in res["cases"].items() if "flux_ratios" in r]
    if fr:
        lines += [f"Eigenfunction ratios phi(x)/phi(0) at S{orders[-1]} (Kaper, Lindeman & Leaf "
                  f"1974, as tabulated by SFP; tolerance {FLUX_RATIO_TOL:g}):", "",
                  "| case | x/r_c | computed | published | error |", "|---|---|---|---|---|"]
        for cid, f in fr:
            for x, c, p in zip(f["x_over_rc"], f["computed"], f["published"], strict=True):
                lines.append(f"| {cid} | {x} | {c:.7f} | {p:.7f} | {c - p:+.1e} |")
        lines.append("")
    ms = res["mesh_study"]
    lines += [f"Mesh convergence, PUa-1-0-SL at S16 (diamond difference): cells "
              f"{ms['cells']}, |k(h) - k(h->0)| = "
              + ", ".join(f"{e:.1e}" for e in ms["error"])
              + "; observed orders " + ", ".join(f"{p:.2f}" for p in ms["observed_order"]) + ".",
              ""]
    return "\n".join(lines)


# ================================================================================================
# 2. Reed's problem and the exact S_N reference
# ================================================================================================

class ExactSN:
    """Spatially exact solution of the one-group S_N equations with isotropic scattering on a
    slab of homogeneous regions (the reference for Reed's problem).

    In each region ``mu_n psi_n' = -sigma_t psi_n + (sigma_s phi + q)/2``, a linear ODE system
    ``psi' = A psi + b``; with ``A = V diag(lam) V^-1`` the solution is a constant particular
    part ``q / (2 sigma_a)`` plus ``sum_k c_k v_k exp(lam_k (x - x_k))`` where ``x_k`` is the
    region's left edge for decaying and its right edge for growing modes (no overflow).
    Continuity of every psi_n at the interfaces and the boundary conditions give one linear
    system for all c_k. Voids (sigma_t = 0, no source) have psi_n constant.
    """

    def __init__(self, regions, order, left="reflective", right="vacuum"):
        mu, w = np.polynomial.legendre.leggauss(order)
        self.mu, self.w = mu, w
        nd, n = order, order // 2
        self.edges = np.concatenate(([0.0], np.cumsum([r["x"][1] - r["x"][0]
                                                       for r in regions])))
        self.data = []
        for r in regions:
            st, ss, q = r["sigma_t"], r["sigma_s"], r["source"]
            if st == 0.0:
                if q:
                    raise ValueError("a void with a source has no bounded solution")
                self.data.append((np.zeros(nd), np.eye(nd), np.zeros(nd)))
                continue
            A = (-st * np.eye(nd) + 0.5 * ss * np.outer(np.ones(nd), w)) / mu[:, None]
            lam, V = np.linalg.eig(A)
            if np.max(np.abs(lam.imag)) > 1e-9 * np.max(np.abs(lam.real)):
                raise ValueError("complex S_N eigenvalues")
            sa = st - ss
            if q and sa <= 0:
                raise ValueError("a conservative region with a source is not supported")
            psip = np.full(nd, 0.5 * q / sa) if q else np.zeros(nd)
            self.data.append((lam.real, V.real, psip))
        R = len(regions)
        M = np.zeros((nd * R, nd * R))
        rhs = np.zeros(nd * R)
        row = 0
        E, p = self._modes(0, self.edges[0]), self.data[0][2]
        for k in range(n):                      # incoming at the left (mu > 0)
            ip, im = n + k, n - 1 - k
            if left == "reflective":
                M[row, :nd] = E[ip] - E[im]
                rhs[row] = -(p[ip] - p[im])
            else:
                M[row, :nd] = E[ip]
                rhs[row] = -p[ip]
            row += 1
        for r in range(R - 1):
            M[row:row + nd, r * nd:(r + 1) * nd] = self._modes(r, self.edges[r + 1])
            M[row:row + nd, (r + 1) * nd:(r + 2) * nd] = -self._modes(r + 1, self.edges[r + 1])
            rhs[row:row + nd] = self.data[r + 1][2] - self.data[r][2]
            row += nd
        E, p = self._modes(R - 1, self.edges[-1]), self.data[-1][2]
        for k in range(n):                      # incoming at the right (mu < 0)
            im, ip = n - 1 - k, n + k
            if right == "reflective":
                M[row, (R - 1) * nd:] = E[im] - E[ip]
                rhs[row] = -(p[im] - p[ip])
            else:
                M[row, (R - 1) * nd:] = E[im]
                rhs[row] = -p[im]
            row += 1
        self.coef = np.linalg.solve(M, rhs).reshape(R, nd)

    def _ref(self, r):
        lam = self.data[r][0]
        return np.where(lam < 0, self.edges[r], self.edges[r + 1])

    def _modes(self, r, x):
        lam, V, _ = self.data[r]
        return V * np.exp(lam * (x - self._ref(r)))[None, :]

    def _region(self, x):
        return int(min(max(np.searchsorted(self.edges, x, side="right") - 1, 0),
                       len(self.data) - 1))

    def phi(self, x):
        """Scalar flux at points x."""
        out = []
        for xi in np.atleast_1d(x):
            r = self._region(xi)
            out.append(self.w @ (self._modes(r, xi) @ self.coef[r] + self.data[r][2]))
        return np.array(out)

    def cell_averages(self, x_edges):
        """Scalar-flux averages over the cells of ``x_edges`` (cells must not straddle regions)."""
        out = np.empty(x_edges.size - 1)
        for i in range(out.size):
            a, b = x_edges[i], x_edges[i + 1]
            r = self._region(0.5 * (a + b))
            lam, V, psip = self.data[r]
            ref = self._ref(r)
            z = lam * (b - a)
            avg = np.ones_like(lam)
            neg, pos = lam < 0, lam > 0
            # mean of exp(lam (x - ref)) over [a, b], written so that no exponent is positive
            avg[neg] = np.exp(lam[neg] * (a - ref[neg])) * np.expm1(z[neg]) / z[neg]
            avg[pos] = np.exp(lam[pos] * (b - ref[pos])) * -np.expm1(-z[pos]) / z[pos]
            out[i] = self.w @ (V @ (self.coef[r] * avg) + psip)
        return out


def reed_slab(regions, cells_per_cm: int) -> Slab:
    regs = [Region(Material(r["sigma_t"], r["sigma_s"]), r["x"][1] - r["x"][0],
                   source=r["source"], cells=max(1, int(round(cells_per_cm * (r["x"][1]
                                                                                - r["x"][0])))))
            for r in regions]
    return Slab(regs, left="reflective", right="vacuum")


def _l1_rel(phi, ref, h):
    return float(np.sum(np.abs(phi - ref) * h) / np.sum(np.abs(ref) * h))


def run_reed(quick: bool) -> dict:
    data = _load("reed_1971.json")
    regions = data["regions"]
    out = {"passed": True}
    # cross-check of the exact S_N reference against the closed-form S8 solution
    cc = data["cross_check_S8"]
    ex8 = ExactSN(regions, 8)
    diff = float(np.max(np.abs(ex8.phi(np.array(cc["x_cm"])) - cc["phi"])))
    out["reference_check_S8_max_abs_diff"] = diff
    out["reference_check_passed"] = diff < 1e-10
    out["passed"] &= out["reference_check_passed"]
    # spatial convergence at fixed S_N
    orders = (8,) if quick else (8, 16)
    meshes = (8, 16, 32, 64, 128) if quick else (4, 8, 16, 32, 64, 128, 256, 512)
    schemes = ("diamond",) if quick else ("diamond", "step_characteristic")
    conv = {}
    for n in orders:
        ex = ex8 if n == 8 else ExactSN(regions, n)
        for scheme in schemes:
            errs, its = [], []
            for m in meshes:
                sol = solve(reed_slab(regions, m), order=n, scheme=scheme, accel="dsa",
                            tol=1e-12)
                ref = ex.cell_averages(sol.x_edges)
                errs.append(_l1_rel(sol.phi[0], ref, np.diff(sol.x_edges)))
                its.append(sol.iterations)
            p = [_observed_order(errs[i], errs[i + 1]) for i in range(len(errs) - 1)]
            ok = errs[-1] < REED_TOL_L1 and REED_ORDER[0] <= p[-1] <= REED_ORDER[1]
            conv[f"S{n}/{scheme}"] = {"cells_per_cm": list(meshes), "l1_rel_error": errs,
                                      "observed_order": p, "dsa_iterations": its,
                                      "passed": ok}
            out["passed"] &= ok
    out["spatial"] = conv
    # angular convergence against an S256 exact solution, on a fine mesh
    m_fine = 128 if quick else 512
    ref_order = 128 if quick else 256
    ex_ref = ExactSN(regions, ref_order)
    ang = {}
    sol_fine = None
    for n in ((4, 8, 16, 32) if quick else (4, 8, 16, 32, 64)):
        sol = solve(reed_slab(regions, m_fine), order=n, accel="dsa", tol=1e-12)
        ref = ex_ref.cell_averages(sol.x_edges)
        ang[n] = _l1_rel(sol.phi[0], ref, np.diff(sol.x_edges))
        if n == 16:
            sol_fine = sol
    out["angular"] = {"reference_order": ref_order, "cells_per_cm": m_fine,
                      "l1_rel_error": {str(k): v for k, v in ang.items()}}
    vals = list(ang.values())
    out["angular"]["monotone"] = bool(all(b < a for a, b in zip(vals, vals[1:], strict=False)))
    out["passed"] &= out["angular"]["monotone"]
    out["_plot"] = {"sol16": sol_fine, "ex16": ExactSN(regions, 16), "ex_ref": ex_ref,
                    "coarse": solve(reed_slab(regions, 8), order=16, accel="dsa", tol=1e-12)}
    return out


def _reed_markdown(res) -> str:
    lines = ["### Reed's problem (Reed 1971)", "",
             "Reference: the spatially exact solution of the same S_N equations (matrix "
             "exponentials per region); it matches the closed-form S8 solution to "
             f"{res['reference_check_S8_max_abs_diff']:.1e}. Pass: relative L1 error of the "
             f"cell-averaged scalar flux < {REED_TOL_L1:g} on the finest mesh and observed order "
             f"in [{REED_ORDER[0]}, {REED_ORDER[1]}] on the last refinement.", ""]
    for key, c in res["spatial"].items():
        lines += [f"**{key}** — cells/cm: {c['cells_per_cm']}", "",
                  "| cells/cm | L1 rel. error | order | DSA iterations |", "|---|---|---|---|"]
        for i, m in enumerate(c["cells_per_cm"]):
            p = f"{c['observed_order'][i - 1]:.2f}" if i else "-"
            lines.append(f"| {m} | {c['l1_rel_error'][i]:.2e} | {p} | {c['dsa_iterations'][i]} |")
        lines += ["", f"{'PASS' if c['passed'] else 'FAIL'}", ""]
    a = res["angular"]
    lines += [f"Angular convergence on {a['cells_per_cm']} cells/cm against the exact "
              f"S{a['reference_order']} solution (relative L1 error of the cell averages): "
              + ", ".join(f"S{k}: {v:.2e}" for k, v in a["l1_rel_error"].items())
              + (" — decreasing." if a["monotone"] else " — NOT decreasing."), ""]
    return "\n".join(lines)


def _reed_figure(res, outdir: Path) -> str:
    import matplotlib.pyplot as plt

    p = res["_plot"]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    ax = axes[0]
    x = np.linspace(0, 8, 4001)
    ax.plot(x, p["ex_ref"].phi(x), "k-", lw=1.0,
            label=f"exact S{res['angular']['reference_order']}")
    ax.plot(x, p["ex16"].phi(x), "C1--", lw=1.0, label="exact S16")
    ax.stairs(p["coarse"].phi[0], p["coarse"].x_edges, color="C0", baseline=None,
              label="sciflow S16, 8 cells/cm")
    ax.set(xlabel="x (cm)", ylabel="scalar flux", title="Reed's problem")
    for e in (2, 3, 5, 6):
        ax.axvline(e, color="0.85", lw=0.8, zorder=0)
    ax.legend(fontsize=8)
    ax = axes[1]
    for key, c in res["spatial"].items():
        h = 1.0 / np.array(c["cells_per_cm"])
        ax.loglog(h, c["l1_rel_error"], "o-", label=key)
    h = 1.0 / np.array(next(iter(res["spatial"].values()))["cells_per_cm"])
    e0 = next(iter(res["spatial"].values()))["l1_rel_error"][-1]
    ax.loglog(h, e0 * (h / h[-1]) ** 2, "k:", label="O(h²)")
    ax.set(xlabel="h (cm)", ylabel="relative L1 error vs exact S_N", title="spatial convergence")
    ax.legend(fontsize=8)
    ax = axes[2]
    a = res["angular"]["l1_rel_error"]
    ns = [int(k) for k in a]
    ax.loglog(ns, list(a.values()), "s-")
    ax.set_xticks(ns, [str(n) for n in ns])
    ax.minorticks_off()
    ax.set(xlabel="S_N order N",
           ylabel=f"rel. L1 error vs exact S{res['angular']['reference_order']}",
           title=f"angular convergence ({res['angular']['cells_per_cm']} cells/cm)")
    return save_figure(fig, outdir, "transport_reed_flux.png", dpi=110)


# ================================================================================================
# 3. Garcia & Siewert exit intensities
# ================================================================================================

def gs_slab(s: float, n_cells: int, tau0: float = 5.0):
    """Slab of optical thickness tau0 with omega(tau) = exp(-tau/s), lit by intensity 1 from the
    left. Returns the slab and the cell edges and (cell-averaged) omega."""
    e = np.linspace(0.0, tau0, n_cells + 1)
    if math.isinf(s):
        om = np.ones(n_cells)
        slab = Slab([Region(Material(1.0, 1.0), tau0, cells=n_cells)], incident={"left": 1.0})
    else:
        om = s * (np.exp(-e[:-1] / s) - np.exp(-e[1:] / s)) / np.diff(e)
        slab = Slab([Region(Material(1.0, float(o)), float(h), cells=1)
                     for o, h in zip(om, np.diff(e), strict=True)], incident={"left": 1.0})
    return slab, e, om


def exit_intensities(phi, edges, omega, mu, tau0):
    """I(0,-mu) and I(tau0,mu) at arbitrary mu, by integrating the emission density
    omega phi / 2 (piecewise constant per cell, exactly) along each ray; incidence 1 at tau=0."""
    S = 0.5 * omega * phi
    a, b = edges[:-1], edges[1:]
    refl = np.array([S @ (np.exp(-a / m) - np.exp(-b / m)) for m in mu])
    trans = np.array([math.exp(-tau0 / m) + S @ (np.exp(-(tau0 - b) / m) - np.exp(-(tau0 - a) / m))
                      for m in mu])
    return refl, trans


def run_gs(quick: bool) -> dict:
    data = _load("garcia_siewert_1982.json")
    tau0 = data["problem"]["tau0"]
    mu = np.array(data["mu"])
    orders = (16, 32) if quick else (16, 32, 64, 128)
    n_cells = 500 if quick else 2000
    out = {"orders": list(orders), "cells": n_cells, "tables": {}, "passed": True}
    for key, tab in data["tables"].items():
        s = float(tab["s"])
        slab, edges, om = gs_slab(s, n_cells, tau0)
        ref_r, ref_t = np.array(tab["I_reflected"]), np.array(tab["I_transmitted"])
        rec = {"s": tab["s"], "by_order": {}}
        for n in orders:
            sol = solve(slab, order=n, accel="dsa", tol=1e-12)
            r, t = exit_intensities(sol.phi[0], edges, om, mu, tau0)
            err = float(max(np.max(np.abs(r - ref_r)), np.max(np.abs(t - ref_t))))
            rel_r, rel_t = gs_relative_error(r, ref_r), gs_relative_error(t, ref_t)
            rel = float(max(rel_r.max(), rel_t.max()))
            q = sol.quadrature
            half = q.mu.size // 2
            wm = (q.w * q.mu)[half:]
            j_in = float(wm.sum())                        # incident partial current (GL)
            albedo = float(wm @ sol.psi_out["left"][0]) / j_in
            transm = float(wm @ sol.psi_out["right"][0]) / j_in
            absorbed = float(sol.absorption[0]) / j_in
            tol = gs_tolerance(n)
            ok = rel < tol and abs(albedo + transm + absorbed - 1.0) < 1e-8
            if n == 128:
                ok &= rel < GS_REL_TOL_FINE
            rec["by_order"][str(n)] = {
                "max_rel_error": rel, "max_abs_error": err, "tolerance": tol,
                "max_rel_error_reflected": float(rel_r.max()),
                "max_rel_error_transmitted": float(rel_t.max()), "albedo": albedo,
                "transmission": transm, "absorbed": absorbed,
                "balance_error": albedo + transm + absorbed - 1.0,
                "iterations": sol.iterations, "passed": bool(ok),
                "I_reflected": r.tolist(), "I_transmitted": t.tolist()}
            out["passed"] &= bool(ok)
        rec["published"] = {"I_reflected": ref_r.tolist(), "I_transmitted": ref_t.tolist()}
        out["tables"][key] = rec
    out["mu"] = mu.tolist()
    return out


def _gs_markdown(res) -> str:
    nmax = str(res["orders"][-1])
    lines = ["### Garcia & Siewert (1982): exit intensities, tau0 = 5, omega = exp(-tau/s)", "",
             f"Isotropic incidence of intensity 1 through `Slab(incident={{'left': 1.0}})`, "
             f"{res['cells']} cells. Pass: largest relative error over the 22 tabulated "
             "intensities of each slab below 2e-2 (16/N)^1.5 at S_N"
             + (f" and below {GS_REL_TOL_FINE:g} at S128" if nmax == "128" else "")
             + "; albedo + transmission + absorption = 1 within 1e-8 (partial currents from "
             "`psi_out` with the Gauss-Legendre half-range weights).", "",
             "| s | S_N | max rel. error | tolerance | max abs. error | albedo | transmission "
             "| absorbed | balance | iterations | pass |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for rec in res["tables"].values():
        for n, r in rec["by_order"].items():
            lines.append(f"| {rec['s']} | S{n} | {r['max_rel_error']:.2e} | "
                         f"{r['tolerance']:.1e} | {r['max_abs_error']:.1e} | "
                         f"{r['albedo']:.6f} | {r['transmission']:.6f} | "
                         f"{r['absorbed']:.6f} | {r['balance_error']:+.0e} | {r['iterations']} | "
                         f"{'PASS' if r['passed'] else 'FAIL'} |")
    lines += ["", f"Computed (S{nmax}) vs published exit intensities:", "",
              "| mu | s | I(0,-mu) | published | I(tau0,mu) | published |",
              "|---|---|---|---|---|---|"]
    for rec in res["tables"].values():
        r = rec["by_order"][nmax]
        for i, m in enumerate(res["mu"]):
            lines.append(f"| {m:.2f} | {rec['s']} | {r['I_reflected'][i]:.6f} | "
                         f"{rec['published']['I_reflected'][i]:.6f} | "
                         f"{r['I_transmitted'][i]:.6e} | "
                         f"{rec['published']['I_transmitted'][i]:.6e} |")
    lines.append("")
    return "\n".join(lines)


def _k_figure(sfp, gs, outdir: Path) -> str:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    ax = axes[0]
    orders = np.array(sfp["orders"])
    for i, (cid, r) in enumerate(sfp["cases"].items()):
        err = [abs(r["k"][str(n)] - 1.0) for n in orders]
        ax.loglog(orders, err, "o-", ms=3, lw=1, color=plt.cm.tab20(i % 20), label=cid)
    ax.loglog(orders, 0.4 * orders ** -2.0, "k:", label="0.4 N⁻²")
    ax.plot([16], [K_TOL_S16], "rv", ms=8, label="tolerance S16")
    ax.plot([orders[-1]], [K_TOL_FINE], "r^", ms=8, label=f"tolerance S{orders[-1]}")
    ax.set(xlabel="S_N order N", ylabel="|k - 1|", title="SFP critical slabs: k vs N")
    ax.set_xticks(orders, [str(n) for n in orders])
    ax.minorticks_off()
    ax.legend(fontsize=6, ncol=2)
    ax = axes[1]
    ms = sfp["mesh_study"]
    h = np.array(ms["h_cm"])
    ax.loglog(h, ms["error"], "o-", label="|k(h) - k(h→0)|, S16")
    ax.loglog(h, ms["error"][-2] * (h / h[-2]) ** 2, "k:", label="O(h²)")
    ax.set(xlabel="cell width h (cm)", ylabel="spatial error of k", title="PUa-1-0-SL: k vs mesh")
    ax.legend(fontsize=8)
    ax = axes[2]
    for rec in gs["tables"].values():
        ns = [int(n) for n in rec["by_order"]]
        ax.loglog(ns, [rec["by_order"][str(n)]["max_rel_error"] for n in ns], "o-",
                  label=f"Garcia-Siewert s={rec['s']}")
    ns = np.array(gs["orders"])
    ax.loglog(ns, [gs_tolerance(n) for n in ns], "r--", label="tolerance")
    ax.set_xticks(ns, [str(n) for n in ns])
    ax.minorticks_off()
    ax.set(xlabel="S_N order N", ylabel="max |I - I_published| / I_published",
           title="exit intensities vs N")
    ax.legend(fontsize=8)
    return save_figure(fig, outdir, "transport_k_convergence.png", dpi=110)


def _gs_figure(gs, outdir: Path) -> str:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    mu = np.array(gs["mu"])
    nmax = str(gs["orders"][-1])
    for rec in gs["tables"].values():
        r = rec["by_order"][nmax]
        axes[0].plot(mu, rec["published"]["I_reflected"], "o", label=f"published s={rec['s']}")
        axes[0].plot(mu, r["I_reflected"], "-", label=f"sciflow S{nmax} s={rec['s']}")
        axes[1].semilogy(mu, rec["published"]["I_transmitted"], "o",
                         label=f"published s={rec['s']}")
        axes[1].semilogy(mu, r["I_transmitted"], "-", label=f"sciflow S{nmax} s={rec['s']}")
    axes[0].set(xlabel="mu", ylabel="I(0, -mu)", title="reflected")
    axes[1].set(xlabel="mu", ylabel="I(tau0, mu)", title="transmitted")
    for ax in axes:
        ax.legend(fontsize=7)
    return save_figure(fig, outdir, "transport_garcia_siewert.png", dpi=110)


# ================================================================================================

def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items() if not str(k).startswith("_")}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.bool_ | bool):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating | float):
        return float(obj)
    return obj


def run(outdir, quick: bool = False) -> dict:
    """Run every transport benchmark; write figures into ``outdir``; return the report dict."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    sfp = run_sfp(quick)
    t_sfp = time.perf_counter() - t0
    reed = run_reed(quick)
    t_reed = time.perf_counter() - t0 - t_sfp
    gs = run_gs(quick)
    t_gs = time.perf_counter() - t0 - t_sfp - t_reed
    figures = [_reed_figure(reed, outdir), _k_figure(sfp, gs, outdir), _gs_figure(gs, outdir)]
    passed = bool(sfp["passed"] and reed["passed"] and gs["passed"])
    md = ["Solver: `sciflow.transport` (Gauss-Legendre S_N, diamond difference unless stated, "
          "DSA). Reference values and their sources: `validation/transport/*.json`."
          + (" Quick mode: a subset." if quick else ""), "",
          _sfp_markdown(sfp), _reed_markdown(reed), _gs_markdown(gs),
          f"_timings: SFP {t_sfp:.1f} s, Reed {t_reed:.1f} s, Garcia-Siewert {t_gs:.1f} s_"]
    metrics = _jsonable({"quick": quick, "sood_forster_parsons": sfp, "reed": reed,
                         "garcia_siewert": gs,
                         "wall_time_s": {"sfp": t_sfp, "reed": t_reed, "garcia_siewert": t_gs}})
    return {"title": "Transport: S_N slab benchmarks (SFP criticality, Reed, Garcia-Siewert)",
            "markdown": "\n".join(md), "metrics": metrics, "figures": figures,
            "passed": passed, "checks": _checks(sfp, reed, gs)}


def _checks(sfp, reed, gs):
    """The summary-table rows: the pass criteria above, the worst case of each."""
    SFP = "Sood, Forster & Parsons 2003 (LA-13511), critical dimensions"
    REED = "exact S_N solution of Reed's problem (Reed, NSE 46, 1971)"
    GS = "Garcia & Siewert, JQSRT 27 (1982), Tables 1-2 (44 exit intensities)"
    cases = sfp["cases"]
    nf = str(sfp["orders"][-1])
    one = [abs(r["k"]["16"] - 1) for r in cases.values() if r["groups"] == 1]
    fine = max(abs(r["k"][nf] - 1) for r in cases.values())
    mesh = max(r["mesh_error_S16"] for r in cases.values())
    rows = [Check(f"k at S16, worst of {len(one)} one-group slabs", 1 + max(one), 1, SFP,
                  error=max(one), tolerance=K_TOL_S16, passed=max(one) < K_TOL_S16),
            Check(f"k at S{nf}, worst of {len(cases)} slabs", 1 + fine, 1, SFP, error=fine,
                  tolerance=K_TOL_FINE, passed=fine < K_TOL_FINE),
            Check("estimated spatial error of k on the mesh used (worst)", mesh, 0,
                  "Richardson estimate (h, h/2)", error=mesh, tolerance=MESH_TOL,
                  passed=mesh < MESH_TOL)]
    if any("order_N" in r for r in cases.values()):
        ps = [r["order_N"] for r in cases.values()]
        rows.append(Check("observed order of k in N (worst)", max(ps, key=lambda p: abs(p - 2)),
                          2, "Gauss-Legendre quadrature", tolerance=f"in {list(ORDER_RANGE)}",
                          passed=all(ORDER_RANGE[0] <= p <= ORDER_RANGE[1] for p in ps)))
        ke = max(abs(r["k_extrapolated"] - 1) for r in cases.values())
        rows.append(Check("Richardson-extrapolated k (N → ∞), worst", 1 + ke, 1, SFP, error=ke,
                          tolerance=K_TOL_EXTRAP, passed=ke < K_TOL_EXTRAP))
    fr = [r["flux_ratios"]["max_abs_error"] for r in cases.values() if "flux_ratios" in r]
    if fr:
        rows.append(Check(f"eigenfunction ratios phi(x)/phi(0) at S{nf}, worst", max(fr),
                          "published ratios", "Kaper, Lindeman & Leaf 1974 (tabulated by SFP)",
                          error=max(fr), tolerance=FLUX_RATIO_TOL, passed=max(fr) < FLUX_RATIO_TOL))
    ms = sfp["mesh_study"]
    p = ms["observed_order"][-1]
    rows.append(Check("spatial order of k, PUa-1-0-SL at S16 (diamond difference)", p, 2,
                      "diamond difference: O(h²)", error=abs(p - 2), tolerance=0.2,
                      passed=ms["passed"]))
    rows.append(Check("exact S_N reference vs closed-form S8 solution",
                      reed["reference_check_S8_max_abs_diff"], 0, REED,
                      error=reed["reference_check_S8_max_abs_diff"], tolerance=1e-10,
                      passed=reed["reference_check_passed"]))
    sp = reed["spatial"]
    combos = ", ".join(sp)
    e = max(c["l1_rel_error"][-1] for c in sp.values())
    q = max((c["observed_order"][-1] for c in sp.values()), key=lambda v: abs(v - 2))
    fine = next(iter(sp.values()))["cells_per_cm"][-1]
    rows.append(Check(f"Reed: relative L1 error at {fine} cells/cm, worst of {combos}", e, 0,
                      REED, error=e, tolerance=REED_TOL_L1, passed=e < REED_TOL_L1))
    rows.append(Check(f"Reed: observed spatial order, worst of {combos}", q, 2, REED,
                      error=abs(q - 2), tolerance=0.2,
                      passed=all(REED_ORDER[0] <= c["observed_order"][-1] <= REED_ORDER[1]
                                 for c in sp.values())))
    a = reed["angular"]
    rows.append(Check(f"Reed: L1 error vs exact S{a['reference_order']} decreases with N",
                      a["monotone"], True, REED, passed=a["monotone"]))
    for n in gs["orders"]:
        recs = [t["by_order"][str(n)] for t in gs["tables"].values()]
        rel = max(r["max_rel_error"] for r in recs)
        tol = gs_tolerance(n) if n != 128 else min(gs_tolerance(n), GS_REL_TOL_FINE)
        rows.append(Check(f"Garcia-Siewert S{n}: max relative exit-intensity error (s = 1, ∞)",
                          rel, "published", GS, error=rel, tolerance=tol, passed=rel < tol))
    bal = max(abs(r["balance_error"]) for t in gs["tables"].values()
              for r in t["by_order"].values())
    rows.append(Check("Garcia-Siewert: albedo + transmission + absorption - 1 (worst)", bal, 0,
                      "particle balance", error=bal, tolerance=1e-8, passed=bal < 1e-8))
    return rows


if __name__ == "__main__":  # pragma: no cover
    import sys

    res = run(HERE.parent / "report", quick="--quick" in sys.argv)
    print(res["markdown"])
    print("PASSED" if res["passed"] else "FAILED")
