"""`python -m micrograd demo`: a short run end to end, the full default run, options and help."""

import builtins
import importlib.util
import io
import pathlib
import re
import subprocess
import sys
import types

import pytest

import micrograd.tape as tape_module
from micrograd import MLP, data
from micrograd.cli import demo, main
from micrograd.cli.demo import DEFAULT_SEED, DivergedError, predict_grid, train
from micrograd.cli.terminal import ProgressBar
from micrograd.engine import TracingError
from micrograd.optim import SGD


def run_demo(tmp_path, *extra):
    return main(["demo", "--out", str(tmp_path / "out"), *extra])


def test_short_run_writes_model_and_pictures(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    assert run_demo(tmp_path, "--steps", "3", "--samples", "20", "--hidden", "4") == 0
    out = capsys.readouterr()
    folder = tmp_path / "out"
    assert (folder / "model.json").exists()
    png = b"\x89PNG\r\n\x1a\n"
    assert (folder / "decision_boundary.png").read_bytes().startswith(png)
    assert (folder / "loss.png").read_bytes().startswith(png)
    # The neuron graph is drawn, or skipped with a one-line notice when viz/Graphviz is missing.
    if not (folder / "neuron.svg").exists():
        assert "skipping it" in out.out
    model = MLP.load(folder / "model.json")
    assert model.config()["nouts"] == [4, 1]
    assert "training MLP(2, [4, 1]) on 20 moons points" in out.out
    assert "3/3" in out.err  # the progress bar, on stderr


def test_missing_matplotlib_is_a_one_line_notice(tmp_path, capsys, monkeypatch):
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.split(".")[0] == "matplotlib" or name == "micrograd.viz":
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    assert run_demo(tmp_path, "--steps", "2", "--samples", "10", "--hidden", "3") == 0
    out = capsys.readouterr().out
    notices = [line for line in out.splitlines() if "matplotlib is not installed" in line]
    assert len(notices) == 1
    assert "cannot draw the neuron graph" in out
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["model.json"]


@pytest.mark.parametrize("dataset", ["circles", "blobs", "spiral", "xor"])
def test_every_dataset_runs(tmp_path, dataset, capsys):
    args = ["--dataset", dataset, "--steps", "2", "--samples", "12", "--hidden", "3,3"]
    assert run_demo(tmp_path, *args) == 0
    assert f"12 {dataset} points" in capsys.readouterr().out


@pytest.mark.slow
def test_default_run_reaches_full_training_accuracy(tmp_path, capsys):
    folder = tmp_path / "out"
    assert main(["demo", "--out", str(folder)]) == 0
    out = capsys.readouterr()
    assert "training MLP(2, [16, 16, 1]) on 100 moons points (noise 0.1) for 100 steps" in out.out
    assert "100/100" in out.err
    (summary,) = [line for line in out.out.splitlines() if line.startswith("done in")]
    assert summary.endswith("training accuracy 100%")
    assert "(tape, numpy replay)" in summary or "(tape, python replay)" in summary
    # The saved model is the trained one: it classifies every training point correctly.
    model = MLP.load(folder / "model.json")
    points, labels = data.make_moons(100, noise=0.1, random_state=DEFAULT_SEED)
    assert sum((model(p).data > 0) == (y == 1) for p, y in zip(points, labels)) == 100
    # The guide's training loop (docs/guide/training.md) is this run, and prints the same loss.
    loss = summary.split("loss ")[1].split(",")[0]
    page = pathlib.Path(__file__).parents[2] / "docs" / "guide" / "training.md"
    assert f"# loss {loss}, accuracy 100%" in page.read_text(encoding="utf-8")


@pytest.mark.parametrize("engine", ["auto", "tape", "eager"])
def test_training_matches_a_hand_written_loop(engine):
    points, labels = data.make_moons(10, noise=0.1, random_state=0)
    _, history = train(points, labels, [3], 4, 0.5, seed=2, engine=engine)
    # Karpathy's loop, written out: hinge + 1e-4 L2, lr = 0.5 * (1 - 0.9 k / 4).
    model = MLP(2, [3, 1], seed=2)
    losses = []
    for k in range(4):
        scores = [model(p) for p in points]
        ys = [2 * y - 1 for y in labels]
        hinge = sum(((1 + -y * s).relu() for y, s in zip(ys, scores)), 0.0) * (1 / len(ys))
        loss = hinge + 1e-4 * sum(p * p for p in model.parameters())
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= 0.5 * (1.0 - 0.9 * k / 4) * p.grad
        losses.append(loss.data)
    assert history.loss == pytest.approx(losses, rel=1e-12)


def test_tape_and_eager_training_agree(monkeypatch):
    points, labels = data.make_moons(40, noise=0.2, random_state=3)
    runs = {"eager": train(points, labels, [8, 6], 15, 1.0, seed=5, engine="eager")}
    if importlib.util.find_spec("numpy") is not None:
        runs["tape, numpy replay"] = train(points, labels, [8, 6], 15, 1.0, seed=5, engine="tape")
    # Without numpy the tape replays in pure Python.
    monkeypatch.setattr(tape_module.backends, "have_numpy", lambda: False)
    runs["tape, python replay"] = train(points, labels, [8, 6], 15, 1.0, seed=5, engine="tape")
    eager_model, eager = runs.pop("eager")
    assert eager.engine == "eager"
    for name, (model, history) in runs.items():
        assert history.engine == name
        assert history.loss == pytest.approx(eager.loss, rel=1e-12)
        assert history.accuracy == eager.accuracy
        for p, q in zip(model.parameters(), eager_model.parameters()):
            assert p.data == pytest.approx(q.data, rel=1e-12, abs=1e-14)


def test_auto_falls_back_to_eager_when_tracing_fails(monkeypatch):
    def refuse(*args, **kwargs):
        raise TracingError("cannot trace this model")

    monkeypatch.setattr(tape_module, "trace", refuse)
    points, labels = data.make_moons(10, noise=0.1, random_state=0)
    _, history = train(points, labels, [3], 2, 0.5, seed=2)
    assert history.engine == "eager" and len(history.loss) == 2
    with pytest.raises(TracingError, match="cannot trace this model"):
        train(points, labels, [3], 2, 0.5, seed=2, engine="tape")
    with pytest.raises(ValueError, match="engine must be one of"):
        train(points, labels, [3], 2, 0.5, seed=2, engine="jit")


def test_engine_option_is_reported(tmp_path, capsys):
    args = ["--steps", "2", "--samples", "10", "--hidden", "3", "--engine", "eager"]
    assert run_demo(tmp_path, *args) == 0
    assert "s (eager): loss" in capsys.readouterr().out


def test_predict_grid_matches_the_model():
    np = pytest.importorskip("numpy")
    model = MLP(2, [5, 4, 1], activation="tanh", output_activation="sigmoid", seed=1)
    xs, ys = np.meshgrid(np.linspace(-1, 1, 3), np.linspace(-2, 2, 4))
    grid = predict_grid(model, xs, ys)
    expected = [[model([x, y]).data for x, y in zip(rx, ry)] for rx, ry in zip(xs, ys)]
    assert np.allclose(grid, expected, rtol=1e-12, atol=0)


def test_progress_bar_on_a_pipe_prints_tenths():
    stream = io.StringIO()
    bar = ProgressBar(stream)
    for k in range(1, 21):
        bar(k, 20, 1.0 / k, k / 20)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 10 and "\r" not in stream.getvalue()
    assert lines[-1].startswith("[" + "#" * 30 + "] 20/20") and "accuracy 100.0%" in lines[-1]


class Terminal(io.StringIO):
    """A text stream that says it is a terminal, as sys.stderr in a console does."""

    def isatty(self):
        return True


def test_progress_bar_on_a_terminal_redraws_one_line():
    stream = Terminal()
    bar = ProgressBar(stream)
    for k in range(1, 4):
        bar(k, 3, 0.5, 1.0)
    text = stream.getvalue()
    assert text.count("\r") == 3 and text.endswith("\n") and text.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--hidden", "16,x"], "hidden layer sizes"),
        (["--hidden", "0"], "hidden layer sizes"),
        (["--steps", "0"], "positive int"),
        (["--lr", "-1"], "number >= 0"),
        (["--dataset", "iris"], "invalid choice"),
    ],
)
def test_bad_options_are_rejected(args, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", *args])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_help_documents_every_option():
    done = subprocess.run(
        [sys.executable, "-m", "micrograd", "demo", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    options = ("--dataset", "--samples", "--noise", "--hidden", "--steps", "--lr", "--seed")
    for option in (*options, "--engine"):
        assert option in done.stdout
    assert "--out" in done.stdout and "micrograd-demo" in done.stdout


def test_renderer_failure_is_a_one_line_notice(tmp_path, capsys, monkeypatch):
    class RenderError(RuntimeError):
        pass

    class Drawing:
        def save(self, path):
            raise RenderError("no Graphviz program found\nsecond line")

    drawn = []
    fake = types.ModuleType("micrograd.viz")
    fake.draw_dot = lambda value: drawn.append(value) or Drawing()
    monkeypatch.setitem(sys.modules, "micrograd.viz", fake)
    assert run_demo(tmp_path, "--steps", "2", "--samples", "10", "--hidden", "3") == 0
    out = capsys.readouterr().out
    assert "cannot render the neuron graph (no Graphviz program found); skipping it" in out
    assert "second line" not in out
    # It drew one neuron: out = relu(w·x + b) on an input where the neuron is active.
    (value,) = drawn
    assert value.label == "out" and value.op.name == "relu" and value.data > 0
    assert not (tmp_path / "out" / "neuron.svg").exists()


def test_output_folder_that_is_a_file_fails_cleanly(tmp_path, capsys):
    blocker = tmp_path / "out"
    blocker.write_text("not a folder")
    assert run_demo(tmp_path, "--steps", "1", "--samples", "4", "--hidden", "2") == 1
    assert "demo: cannot create output folder" in capsys.readouterr().err


# Issue 13: bad or diverging runs end in one line on stderr and a non-zero exit.


@pytest.mark.parametrize(
    ("option", "value"),
    [("--lr", "inf"), ("--lr", "nan"), ("--lr", "-inf"), ("--lr", "1e999"), ("--noise", "inf")],
)
def test_non_finite_numbers_are_refused(option, value, capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        run_demo(tmp_path, f"{option}={value}")
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert all(fact in err.splitlines()[-1] for fact in (option, f"'{value}'", "finite"))
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("engine", ["tape", "eager"])
def test_a_diverging_run_ends_in_one_line(engine, tmp_path, capsys):
    code = run_demo(tmp_path, "--lr", "1e20", "--steps", "5", "--engine", engine)
    err = capsys.readouterr().err
    assert code == 1
    lines = err.splitlines()
    # The progress bar's lines (one per step here), then the error: no warnings, no traceback.
    assert [line.startswith("[") for line in lines] == [True] * (len(lines) - 1) + [False]
    assert len(lines) <= 5
    assert lines[-1].startswith("demo: error: ")
    assert all(fact in lines[-1] for fact in ("step 4 of 5", "inf", "--lr", "1e+20"))
    assert "e+58" in err  # a runaway loss is shown in exponent form, not 59 digits
    assert not (tmp_path / "out" / "model.json").exists()


def test_a_diverging_run_as_a_process_prints_no_warnings(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "micrograd", "demo", "--lr", "1e20", "--steps", "5"]
        + ["--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=pathlib.Path(__file__).parents[2],
        check=False,
    )
    assert done.returncode == 1
    assert "Warning" not in done.stderr and "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1].startswith("demo: error: training diverged at step ")
    assert len(done.stderr.splitlines()) <= 6


def test_train_stops_at_the_first_non_finite_loss():
    points, labels = data.make_moons(20, noise=0.1, seed=0)
    seen = []
    with pytest.warns(RuntimeWarning):  # the ops' overflow warnings, left to the caller
        with pytest.raises(DivergedError, match="(?=.*step 2 of 9)(?=.*inf)"):
            train(points, labels, [4], 9, 1e200, seed=0, on_step=lambda k, *_: seen.append(k))
    assert seen == [1]


def test_train_stops_when_an_update_makes_a_weight_non_finite(monkeypatch):
    class Overflowing(SGD):
        def step(self, result=None):
            super().step(result)
            self.params[-1].data = float("inf")

    monkeypatch.setattr(demo, "SGD", Overflowing)
    points, labels = data.make_moons(10, noise=0.1, seed=0)
    with pytest.raises(DivergedError, match=r"(?=.*step 1 of 3)(?=.*layers\.1\.neurons\.0\.b)"):
        train(points, labels, [3], 3, 0.1, seed=0)


def test_an_interrupted_bar_on_a_terminal_ends_its_line():
    stream = Terminal()
    bar = ProgressBar(stream)
    bar(1, 5, 0.5, 1.0)
    bar.interrupt()
    bar.interrupt()  # only once
    assert stream.getvalue().count("\n") == 1 and stream.getvalue().endswith("\n")


def test_a_dataset_the_generator_refuses_is_one_line(tmp_path, capsys):
    assert run_demo(tmp_path, "--samples", "1") == 1
    err = capsys.readouterr().err
    assert err.startswith("demo: error: ") and err.count("\n") == 1
    assert all(fact in err for fact in ("moons", "n_samples", "2", "1"))
    assert not (tmp_path / "out").exists()


def test_an_output_folder_with_control_characters_is_shown_escaped(tmp_path, capsys):
    folder = tmp_path / "out\x1b[2J"
    args = ["--steps", "1", "--samples", "4", "--hidden", "2", "--engine", "eager"]
    assert main(["demo", "--out", str(folder), *args]) == 0
    out, err = capsys.readouterr()
    assert "\x1b" not in out + err
    assert f"wrote {tmp_path}/out\\x1b[2J/model.json" in out
    assert MLP.load(folder / "model.json").config()["nouts"] == [2, 1]


def test_a_finished_run_sums_up_its_numerical_warnings_in_one_line(tmp_path, capsys):
    # lr 1e10: the weights stay finite, but some scores overflow (inf) on the way.
    assert run_demo(tmp_path, "--lr", "1e10", "--steps", "5") == 0
    out, err = capsys.readouterr()
    summaries = [line for line in err.splitlines() if "numerical warnings" in line]
    assert len(summaries) == 1 and "inf" in summaries[0]
    assert int(summaries[0].split()[1]) > 100  # the warnings it stands for
    assert "Warning" not in err
    assert re.search(r"\): loss \d\.\d{4}e\+\d{3}, ", out)  # a runaway loss, in exponent form
    assert MLP.load(tmp_path / "out" / "model.json")  # a finite model, saved


@pytest.mark.parametrize("name", ["loss.png", "neuron.svg"])
def test_a_picture_that_cannot_be_written_ends_in_one_line(tmp_path, capsys, name):
    pytest.importorskip("matplotlib")
    (tmp_path / "out" / name).mkdir(parents=True)  # a folder in the way
    args = ["--steps", "1", "--samples", "4", "--hidden", "2", "--engine", "eager"]
    assert run_demo(tmp_path, *args) == 1
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if not line.startswith("[")]  # not the bar
    assert "Traceback" not in err and len(lines) == 1
    assert name in lines[0] and "folder" in lines[0]


@pytest.mark.parametrize("sizes", ["100000000", "1000,1000", "1," * 2000 + "1000000"])
def test_hidden_layers_too_large_are_refused_before_anything_is_built(tmp_path, capsys, sizes):
    with pytest.raises(SystemExit) as exit_info:
        run_demo(tmp_path, "--hidden", sizes)
    assert exit_info.value.code == 2
    last = capsys.readouterr().err.splitlines()[-1]
    assert "--hidden" in last and "1,000,000" in last


def test_an_unexpected_error_in_a_command_is_one_escaped_line(capsys, monkeypatch):
    def broken(args):
        raise RuntimeError("bad \x1b[2J thing")

    monkeypatch.setattr(demo, "run", broken)
    assert main(["demo"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "\x1b" not in err
    assert "demo: error: RuntimeError: bad \\x1b[2J thing" in err
