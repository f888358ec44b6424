"""The handwritten digits: the loader against scikit-learn, the split, the demo job end to end."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest

from micrograd import MLP, data
from micrograd.cli import build_parser, main
from micrograd.cli import demo as demo_job
from micrograd.cli import digits as digits_job
from micrograd.data import load_digits, train_test_split
from micrograd.optim import SGD

sklearn_datasets = pytest.importorskip("sklearn.datasets")


def test_load_digits_matches_scikit_learn():
    ours = load_digits()
    theirs = sklearn_datasets.load_digits()
    assert (len(ours.data), len(ours.data[0])) == theirs.data.shape == (1797, 64)
    assert np.array_equal(np.array(ours.data), theirs.data)
    assert np.array_equal(np.array(ours.target), theirs.target)
    assert np.array_equal(np.array(ours.images), theirs.images)
    assert ours.target_names == theirs.target_names.tolist()
    x, y = load_digits(return_X_y=True)
    assert x == ours.data and y == ours.target
    x3, y3 = load_digits(n_class=3, return_X_y=True)
    x3_ref, y3_ref = sklearn_datasets.load_digits(n_class=3, return_X_y=True)
    assert np.array_equal(np.array(x3), x3_ref) and y3 == y3_ref.tolist()


def test_the_shipped_copy_is_used_without_scikit_learn_and_holds_the_same_digits(monkeypatch):
    with_sklearn = load_digits()
    assert with_sklearn.source == "scikit-learn"
    monkeypatch.setattr(data, "_read_sklearn_digits", lambda: None)
    shipped = load_digits()
    assert shipped.source == "micrograd"
    assert shipped.data == with_sklearn.data and shipped.target == with_sklearn.target


def test_a_damaged_copy_is_refused_naming_the_checksum(monkeypatch):
    raw = bytearray(data._read_shipped_digits())
    raw[100] = (raw[100] + 1) % 17  # one pixel count changed, still a valid count
    monkeypatch.setattr(data, "_read_sklearn_digits", lambda: bytes(raw))
    with pytest.raises(ValueError, match="SHA-256") as error:
        load_digits()
    assert data._DIGITS_SHA256 in str(error.value)
    monkeypatch.setattr(data, "_read_sklearn_digits", lambda: bytes(raw[:-65]))
    with pytest.raises(ValueError, match="116740"):
        load_digits()
    with pytest.raises(ValueError, match="n_class"):
        load_digits(n_class=11)


def test_the_package_data_is_declared_in_pyproject():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "pyproject.toml"), encoding="utf-8") as file:
        assert '"datafiles/*"' in file.read()
    assert os.path.exists(os.path.join(root, "micrograd", "datafiles", "DIGITS.txt"))


def test_train_test_split_is_a_reproducible_partition():
    xs, ys = list(range(101)), [f"y{k}" for k in range(101)]
    x_train, x_test, y_train, y_test = train_test_split(xs, ys, test_size=0.2, random_state=4)
    assert len(x_test) == math.ceil(0.2 * 101) == 21 and len(x_train) == 80
    assert sorted(x_train + x_test) == xs
    assert y_test == [f"y{k}" for k in x_test]  # rows stay paired
    again = train_test_split(xs, ys, test_size=0.2, random_state=4)
    assert again == [x_train, x_test, y_train, y_test]
    assert train_test_split(xs, test_size=0.2, random_state=5)[1] != x_test
    assert train_test_split(xs, test_size=10, shuffle=False) == [xs[:91], xs[91:]]
    with pytest.raises(ValueError, match="test_size"):
        train_test_split(xs, test_size=1.5)
    with pytest.raises(ValueError, match="101.*3"):
        train_test_split(xs, [1, 2, 3])


def small_digits(n: int = 120) -> tuple[list, list]:
    images, labels = load_digits(return_X_y=True)
    return [[v / 16.0 for v in row] for row in images[:n]], labels[:n]


@pytest.mark.parametrize("backend", ["numpy", "python"])
def test_the_tape_agrees_with_eager_on_the_digits_mlp(backend):
    xs, ys = small_digits(16)
    grads = {}
    losses = {}
    for name in ("tape", "eager"):
        model = MLP(64, [12, 10], seed=7)
        engine = digits_job.TapeEngine if name == "tape" else digits_job.EagerEngine
        compute = engine(model)
        if name == "tape":
            compute.backend = backend
        before = [p.data for p in model.parameters()]
        # Plain SGD at rate 1 moves each weight by minus its gradient.
        losses[name], _ = compute(xs, ys, SGD(model.parameters(), lr=1.0))
        grads[name] = [b - p.data for b, p in zip(before, model.parameters())]
    assert np.allclose(losses["tape"], losses["eager"], rtol=1e-12, atol=0)
    assert np.allclose(grads["tape"], grads["eager"], rtol=1e-12, atol=1e-14)
    assert max(map(abs, grads["eager"])) > 1e-3  # not trivially zero


@pytest.mark.slow
def test_training_with_the_tape_and_eager_gives_the_same_numbers():
    xs, ys = small_digits(100)
    x_train, x_test, y_train, y_test = train_test_split(xs, ys, test_size=0.25, random_state=1)
    runs = [
        digits_job.train(
            x_train, y_train, x_test, y_test, hidden=6, epochs=2, batch_size=25, engine=engine
        )
        for engine in ("tape", "eager")
    ]
    tape, eager = runs
    assert np.allclose(tape.train_loss, eager.train_loss, rtol=1e-10, atol=0)
    assert np.allclose(tape.test_loss, eager.test_loss, rtol=1e-10, atol=0)
    assert tape.predictions == eager.predictions
    assert tape.train_loss[1] < tape.train_loss[0]  # it learns


@pytest.mark.slow
def test_demo_digits_runs_end_to_end_through_main(tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["demo", "digits", "--samples", "200", "--epochs", "2", "--hidden", "8"]
    assert main([*argv, "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert "test accuracy" in printed.out and "batch accuracy" in printed.err
    model = MLP.load(out / "model.json")
    assert (model.nin, model.nouts) == (64, [8, 10])
    with open(out / "model.json", encoding="utf-8") as file:
        json.load(file)
    pytest.importorskip("matplotlib")
    for name in ("loss.png", "confusion.png", "misclassified.png"):
        assert (out / name).stat().st_size > 1000


def test_the_moons_demo_stays_the_default_and_digits_is_a_job_of_demo():
    parser = build_parser()
    assert parser.parse_args(["demo"]).run is demo_job.run
    assert parser.parse_args(["demo", "--steps", "3"]).steps == 3
    args = parser.parse_args(["demo", "digits", "--epochs", "3"])
    assert args.run is digits_job.run and args.epochs == 3 and args.hidden == 32


def test_confusion_matrix_matches_scikit_learn():
    metrics = pytest.importorskip("sklearn.metrics")
    y_true = [0, 1, 2, 2, 9, 9, 3, 3, 3]
    y_pred = [0, 2, 2, 2, 9, 3, 3, 1, 3]
    expected = metrics.confusion_matrix(y_true, y_pred, labels=list(range(10)))
    assert digits_job.confusion_matrix(y_true, y_pred) == expected.tolist()


@pytest.mark.slow
def test_the_default_demo_reaches_95_percent_test_accuracy(tmp_path, capsys):
    assert main(["demo", "digits", "--out", str(tmp_path)]) == 0
    line = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("done")][0]
    accuracy = float(line.rsplit("test accuracy ", 1)[1].rstrip("%")) / 100
    assert accuracy >= 0.95, line


# ---- A bad run of `demo digits` ends in one escaped line and a non-zero exit ------------------

QUICK = ["--samples", "40", "--epochs", "1", "--hidden", "4", "--batch-size", "8"]


def run_digits(tmp_path, *extra):
    return main(["demo", "digits", *QUICK, "--out", str(tmp_path / "out"), *extra])


def error_lines(err: str) -> list[str]:
    assert "Traceback" not in err
    return [line for line in err.splitlines() if not line.startswith("[")]  # not the bar


@pytest.mark.parametrize("value", ["inf", "nan", "-1", "-inf", "abc"])
def test_a_learning_rate_that_is_not_a_finite_number_is_refused(tmp_path, capsys, value):
    with pytest.raises(SystemExit) as exit_info:
        run_digits(tmp_path, f"--lr={value}")
    assert exit_info.value.code == 2
    last = capsys.readouterr().err.splitlines()[-1]
    assert all(fact in last for fact in ("--lr", f"'{value}'", "finite"))
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("engine", ["tape", "eager"])
def test_a_diverging_digits_run_ends_in_one_line(tmp_path, capsys, engine):
    assert run_digits(tmp_path, "--lr", "1e6", "--engine", engine) == 1
    lines = error_lines(capsys.readouterr().err)
    assert len(lines) == 1 and lines[0].startswith("demo digits: error: ")
    assert all(fact in lines[0] for fact in ("diverged", "--lr", "1e+06"))
    assert not (tmp_path / "out" / "model.json").exists()


def test_too_few_samples_to_split_end_in_one_line(tmp_path, capsys):
    assert main(["demo", "digits", "--samples", "1", "--out", str(tmp_path / "out")]) == 1
    lines = error_lines(capsys.readouterr().err)
    assert len(lines) == 1 and "--samples 1" in lines[0] and "no training items" in lines[0]


def test_a_picture_that_cannot_be_written_ends_in_one_line(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    (tmp_path / "out" / "confusion.png").mkdir(parents=True)  # a folder in the way
    assert run_digits(tmp_path) == 1
    lines = error_lines(capsys.readouterr().err)
    assert len(lines) == 1 and "confusion.png" in lines[0] and "folder" in lines[0]
    assert (tmp_path / "out" / "confusion.png").is_dir()


def test_a_hidden_layer_too_large_is_refused_before_anything_is_built(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run_digits(tmp_path, "--hidden", "100000000")
    assert exit_info.value.code == 2
    last = capsys.readouterr().err.splitlines()[-1]
    assert "--hidden" in last and "1,000,000" in last and "100000000" in last


def test_the_output_folder_is_printed_escaped(tmp_path, capsys):
    out = tmp_path / "out\x1b[2J\x07"
    assert main(["demo", "digits", *QUICK, "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert "\x1b" not in printed.out + printed.err and "\x07" not in printed.out + printed.err
    assert "out\\x1b[2J\\x07/model.json" in printed.out
