"""The numbers the README's tour quotes are what its code gives.

The code blocks are taken from README.md itself (the ```python block that uses
``optimize_steps`` for sampling, the one that uses ``k_eigenvalue`` for transport) and run
statement by statement. Each bare expression with a trailing ``# <number>`` comment is
evaluated and must round to the quoted number at the quoted precision (half a unit of its last
digit: ``0.048`` means [0.0475, 0.0485]). So a README edit that changes the code or a number is
checked as it stands, and a code change that moves a quoted number fails here.
"""

import ast
import re
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

README = Path(__file__).resolve().parents[1] / "README.md"
NUMBER = r"[-+]?\d[\d,]*\.?\d*(?:[eE][-+]?\d+)?"


def _python_blocks():
    text = README.read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def _block(marker):
    blocks = [b for b in _python_blocks() if marker in b]
    assert len(blocks) == 1, f"expected one README python block using {marker!r}, found " \
                             f"{len(blocks)}"
    return blocks[0]


def _comment(lines, node):
    """The trailing comment on the last line of statement ``node`` (or '')."""
    line = lines[node.end_lineno - 1]
    return line.split("#", 1)[1].strip() if "#" in line else ""


def _run(code, stop_after=None):
    """Run ``code`` statement by statement.

    Returns ``(namespace, quoted, comments)``: ``quoted`` the ``(comment, value)`` of every
    bare expression that carries a trailing comment, ``comments`` ``{name: comment}`` of the
    commented assignments. ``stop_after``: stop after that many quoted expressions.
    """
    lines = code.splitlines()
    ns = {"__name__": "readme"}
    quoted, comments = [], {}
    for node in ast.parse(code).body:
        comment = _comment(lines, node)
        if isinstance(node, ast.Expr):
            value = eval(compile(ast.Expression(node.value), "README.md", "eval"), ns)  # noqa: S307
            if comment:
                quoted.append((comment, value))
                if stop_after is not None and len(quoted) >= stop_after:
                    break
        else:
            exec(compile(ast.Module([node], type_ignores=[]), "README.md", "exec"), ns)  # noqa: S102
            if comment and isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        comments[target.id] = comment
    return ns, quoted, comments


def _leading_number(comment):
    m = re.match(NUMBER, comment)
    assert m, f"no number at the start of the README comment {comment!r}"
    return m.group(0)


def _assert_quoted(value, quoted):
    """``value`` rounds to the README's ``quoted`` number (half a unit of its last digit)."""
    digits = quoted.split(".")[1] if "." in quoted else ""
    half_unit = 0.5 * 10.0 ** (-len(digits))
    expect = float(quoted.replace(",", ""))
    assert abs(float(value) - expect) <= half_unit * (1 + 1e-9), (
        f"README quotes {quoted}, the code gives {float(value):.6g}")


# ------------------------------------------------------------------ sampling
def test_sampling_error_at_nfe_10():
    """``unipc_2`` at NFE 10 on uniform log-SNR steps vs the exact PF-ODE solution
    (README: 0.048)."""
    _, quoted, _ = _run(_block("optimize_steps"), stop_after=1)
    (comment, value), = quoted
    _assert_quoted(value, _leading_number(comment))


@pytest.mark.slow
def test_sampling_error_with_optimised_steps():
    """The whole sampling snippet, ``optimize_steps`` included (README: 0.048, then 0.0013)."""
    _, quoted, _ = _run(_block("optimize_steps"))
    assert len(quoted) == 2, quoted
    for comment, value in quoted:
        _assert_quoted(value, _leading_number(comment))
    assert quoted[1][1] < quoted[0][1]


# ------------------------------------------------------------------ transport
@pytest.fixture(scope="module")
def transport():
    code = _block("k_eigenvalue")
    return code, _run(code)


def test_transport_dsa_iterations(transport):
    """README: DSA converges in 11 iterations on the c = 0.999 slab."""
    _, (ns, _, comments) = transport
    m = re.match(r"(\d+) iterations", comments.get("sol", ""))
    assert m, f"the README no longer quotes the DSA iteration count: {comments}"
    assert ns["sol"].iterations == int(m.group(1))


def test_transport_source_iteration_needs_more_than_quoted(transport):
    """README: source iteration needs more than 17,000 iterations on the same slab (its
    spectral radius is ~c = 0.999: ln(1e-10)/ln(0.999) ~ 23,000)."""
    from sciflow import ConvergenceError
    from sciflow.transport import solve

    code, (ns, _, _) = transport
    m = re.search(r"SI needs > (" + NUMBER + ")", code)
    assert m, "the README no longer quotes the SI iteration count"
    limit = int(m.group(1).replace(",", ""))
    with pytest.raises(ConvergenceError):
        solve(ns["slab"], order=16, accel="none", tol=1e-10, max_iter=limit)


def test_transport_quoted_values(transport):
    """README: Fourier DSA spectral radius 0.2243 (c = 0.999, S16); k = 0.99991 for the Sood
    PUa-1-0-SL critical slab."""
    _, (_, quoted, _) = transport
    assert len(quoted) == 2, quoted
    for comment, value in quoted:
        _assert_quoted(value, _leading_number(comment))


# ------------------------------------------------------------------ multiplicative
def test_multiplicative_flow_map_error():
    """README: Dale-Langevin keeps x > 0; the log-space PF-ODE at NFE 10 is within 0.0014 of
    the exact flow map."""
    _, quoted, _ = _run(_block("dale_langevin"))
    assert len(quoted) == 2, quoted
    (c_sign, positive), (comment, value) = quoted
    assert c_sign.startswith("True") and bool(positive) is True
    _assert_quoted(value, _leading_number(comment))


# ------------------------------------------------------------------ gauge
def test_gauge_energies_and_dimension():
    """README: the decomposition recovers E|grad phi|^2 = 5 and E|r|^2 = 1.25 of the rotated
    Gaussian field; the Swiss roll has dimension 2."""
    _, quoted, _ = _run(_block("intrinsic_dimension"))
    assert len(quoted) == 3, quoted
    for comment, value in quoted:
        _assert_quoted(value, _leading_number(comment))


# ------------------------------------------------------------------ programmed GC
def test_programmed_gc_prediction_numbers():
    _, quoted, _ = _run(_block("ProgrammedColumn"))
    assert len(quoted) == 3
    for comment, value in quoted:
        _assert_quoted(value, _leading_number(comment))
