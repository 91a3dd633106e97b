"""Bad-input table of the foundation modules (sciflow.parallel, sciflow.cli)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sciflow import cli, parallel  # noqa: E402

from ._bad_input import Row, make_tests  # noqa: E402


def _square(x):
    return x * x


def _bad_spec(text="function = [unclosed\n"):
    import tempfile

    f = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
    f.write(text)
    f.close()
    return f.name


ROWS = [
    Row(parallel.map_tasks, "fn not callable", lambda: parallel.map_tasks(3, [1]), TypeError,
        r"fn must be callable"),
    Row(parallel.map_tasks, "tasks not iterable", lambda: parallel.map_tasks(_square, 5),
        TypeError, r"tasks must be iterable"),
    Row(parallel.map_tasks, "workers a bool",
        lambda: parallel.map_tasks(_square, [1], workers=True), TypeError, r"workers must be"),
    Row(parallel.map_tasks, "workers < -1", lambda: parallel.map_tasks(_square, [1], workers=-3),
        ValueError, r"workers must be -1"),
    Row(parallel.map_tasks, "workers a string",
        lambda: parallel.map_tasks(_square, [1], workers="many"), TypeError, r"workers must be"),
    Row(cli.find_project_dir, "name not a str", lambda: cli.find_project_dir(3), TypeError,
        r"name must be"),
    Row(cli.find_project_dir, "name empty", lambda: cli.find_project_dir(""), TypeError,
        r"name must be"),
    Row(cli.find_project_dir, "folder absent",
        lambda: cli.find_project_dir("no_such_folder_xyz", start="/"), FileNotFoundError,
        r"no 'no_such_folder_xyz/' folder"),
    Row(cli.save_figure, "fig not a Figure", lambda: cli.save_figure("fig", "/tmp", "a.png"),
        TypeError, r"fig must be a matplotlib Figure"),
    Row(cli.save_figure, "outdir absent",
        lambda: cli.save_figure(plt.figure(), "/no/such/dir", "a.png"), ValueError,
        r"outdir must be an existing folder"),
    Row(cli.save_figure, "name not .png",
        lambda: cli.save_figure(plt.figure(), "/tmp", "a.pdf"), ValueError,
        r"name must be a file name ending in \.png"),
    Row(cli.run_validation, "unknown case",
        lambda: cli.run_validation(only=["no_such_case"]), ValueError,
        r"only names unknown validation case"),
    Row(cli.run_validation, "only a bare string",
        lambda: cli.run_validation(only="transport"), TypeError, r"only must be a list"),
    Row(cli.run_validation, "validation_dir absent",
        lambda: cli.run_validation("/no/such/validation"), ValueError,
        r"validation_dir must be an existing folder"),
    Row(cli.main, "unknown validation case",
        lambda: cli.main(["validate", "--quick", "no_such_case"]), SystemExit,
        r"^sciflow validate: error: only names unknown validation case"),
    Row(cli.main, "unknown benchmark", lambda: cli.main(["bench", "no_such_benchmark"]),
        SystemExit, r"^sciflow bench: error: names: no benchmark matches \['no_such_benchmark'\]"),
    Row(parallel.connect, "address not a string", lambda: parallel.connect(8786), TypeError,
        r"address must be a string like 'tcp://host:8786'"),
    Row(parallel.connect, "address without a scheme", lambda: parallel.connect("localhost:8786"),
        ValueError, r"scheduler address must look like 'tcp://host:8786'"),
    Row(parallel.connect, "timeout <= 0",
        lambda: parallel.connect("tcp://127.0.0.1:8786", timeout=0), ValueError,
        r"timeout must be a number of seconds > 0"),
    Row(parallel.connect, "no scheduler there",
        lambda: parallel.connect("tcp://127.0.0.1:9", timeout=1), ValueError,
        r"cannot reach the dask scheduler at 'tcp://127.0.0.1:9' within 1 s"),
    Row(parallel.resolve_workers, "both workers and scheduler",
        lambda: parallel.resolve_workers(2, "tcp://127.0.0.1:8786"), ValueError,
        r"either workers or scheduler, not both"),
    Row(parallel.resolve_workers, "workers zero", lambda: parallel.resolve_workers(0),
        ValueError, r"workers must be -1 or a positive integer, got 0"),
    Row(parallel.resolve_workers, "workers a float", lambda: parallel.resolve_workers(2.0),
        TypeError, r"workers must be an integer"),
    Row(cli.main, "bad scheduler address",
        lambda: cli.main(["validate", "--quick", "--scheduler", "localhost"]), SystemExit,
        r"^sciflow validate: error: scheduler address must look like"),
    Row(cli.main, "unreachable scheduler",
        lambda: cli.main(["validate", "--quick", "--scheduler", "tcp://127.0.0.1:9"]),
        SystemExit, r"^sciflow validate: error: cannot reach the dask scheduler"),
    Row(cli.main, "workers and scheduler both",
        lambda: cli.main(["validate", "--workers", "2", "--scheduler", "tcp://x:1"]),
        SystemExit, r"^2$"),
    Row(cli.main, "sweep spec missing",
        lambda: cli.main(["sweep", "/no/such/spec.toml", "--no-progress"]), SystemExit,
        r"^sciflow sweep: error: spec file '/no/such/spec.toml' not found$"),
    Row(cli.main, "sweep spec malformed", lambda: cli.main(["sweep", _bad_spec(), "--no-progress"]),
        SystemExit, r"^sciflow sweep: error: .*invalid TOML"),
    Row(cli.main, "sweep spec with an unknown key",
        lambda: cli.main(["sweep", _bad_spec('function = "sciflow.transport.sweeps:slab_leakage"'
                                             '\nfrobnicate = 1\n'), "--no-progress"]),
        SystemExit, r"^sciflow sweep: error: .*frobnicate"),
    Row(cli.main, "unknown command", lambda: cli.main(["frobnicate"]), SystemExit, r"^2$"),
]


test_bad_input, _cover_parallel = make_tests("sciflow.parallel", ROWS)
_, _cover_cli = make_tests("sciflow.cli", ROWS)


def test_every_public_name_has_a_row():
    _cover_parallel()
    _cover_cli()
