"""Every notebook's "Try this" can be followed: make the edit, run all cells, no error.

Each exercise is written down here as a learner would carry it out: text replaced in the cell
that holds it (the cell is found by a snippet of its source), and code typed into a new cell
at the end. The edited notebook runs in a fresh kernel as
`tests/notebooks/test_run_top_to_bottom.py` runs them; any error, including a failed `assert` in an
earlier cell, fails the test. `expect` is text the run must print, which shows that the edit took
effect. The blanks of notebooks 2-4 are filled with the functions of their file in
`notebooks/solutions/` (`solved=True`), or with typical slips, which the notebook's checker must
name.
"""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass, field
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

from tests.notebooks.test_run_top_to_bottom import NOTEBOOK_DIR, _execute  # noqa: E402

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Exercise:
    notebook: str
    name: str
    # (a snippet that finds the cell, the text to replace in it, the replacement)
    edits: tuple[tuple[str, str, str], ...] = ()
    appended: tuple[str, ...] = ()
    expect: tuple[str, ...] = field(default_factory=tuple)
    solved: bool = False  # the blanks replaced by the functions of the notebook's SOLUTIONS file


NB01 = "01_derivatives_and_one_weight.ipynb"
NB02 = "02_a_value_that_remembers.ipynb"
NB03 = "03_backprop_by_hand_2_2_2.ipynb"
NB04 = "04_neurons_layers_mlps.ipynb"
NB05 = "05_training_a_classifier.ipynb"
NB06 = "06_gradients_of_gradients.ipynb"
NB07 = "07_making_it_fast.ipynb"
NB08 = "08_handwritten_digits.ipynb"
SOLUTIONS = {
    NB02: NOTEBOOK_DIR / "solutions" / "02_my_value.py",
    NB03: NOTEBOOK_DIR / "solutions" / "03_sigmoid.py",
    NB04: NOTEBOOK_DIR / "solutions" / "04_relu_neuron.py",
}
SIGMOID_BLANK = "return ...  # YOUR TURN: write it with sigmoid(z)"
RELU_BLANK = "return ...  # YOUR TURN: the ReLU's slope (1 or 0) times what w1 multiplies"

TABLE = "data = [(0.0, 0.0), (1.0, 2.0), (2.0, 4.0)]"
TRAIN_STEP_ZERO = "    for weight in w:\n        weight.grad = 0.0\n    E.backward()  "
TRAIN_STEP_UPDATE = (
    "    for weight in w:" + " " * 31 + "# update (the walk-through leaves the biases)"
)

EXERCISES = [
    Exercise(
        NB01,
        "a fourth row",
        edits=((TABLE, "(2.0, 4.0)]", "(2.0, 4.0), (3.0, 6.0)]"),),
        expect=("W = 3: dE/dW by hand = +28.0", "you changed the table"),
    ),
    Exercise(
        NB01,
        "learning rate 0.2",
        edits=(("too_big = 0.25", "too_big = 0.25", "too_big = 0.2"),),
        expect=("step 5: W =   +1.0000  error =       5.00",),
    ),
    Exercise(
        NB01,
        "the table 2x + 1",
        edits=((TABLE, TABLE, "data = [(0.0, 1.0), (1.0, 3.0), (2.0, 5.0)]"),),
        expect=("W = 2.6",),
    ),
    Exercise(
        NB01,
        "two other starts",
        edits=(("def wiggly", "for start in (0.5, -0.5):", "for start in (0.2, 0.1):"),),
        expect=("start W = +0.2", "start W = +0.1"),
    ),
    Exercise(
        NB02,
        "the blanks, solved",
        solved=True,
        expect=("✓ mul: right", "✓ tanh: right", "✓ order: right", "MyValue agrees with micrograd"),
    ),
    Exercise(
        NB02,
        "typical slips",
        edits=(
            ("def mul_local_grads", "return None, None", "return a, b"),
            ("def tanh_local_grad", "return None", "return t * (1 - t)"),
        ),
        expect=("✗ mul: swapped", "sigmoid's derivative"),
    ),
    Exercise(
        NB02,
        "x2 = 1",
        edits=(
            (
                'neuron_numbers = {"x1"',
                'neuron_numbers = {"x1": 2.0, "x2": 0.0',
                'neuron_numbers = {"x1": 2.0, "x2": 1.0',
            ),
        ),
        expect=("d o / d w2             = +0.0887", "you changed the neuron"),
    ),
    Exercise(
        NB02,
        "sigmoid for MyValue",
        solved=True,
        appended=(
            "def sigmoid(self):\n"
            "    s = 1 / (1 + math.exp(-self.data))\n"
            "    out = MyValue(s, (self,), 'sigmoid')\n\n"
            "    def _backward():\n"
            "        self.grad += s * (1 - s) * out.grad\n\n"
            "    out._backward = _backward\n"
            "    return out\n\n\n"
            "MyValue.sigmoid = sigmoid\n"
            "f = lambda x, w: (x * w).sigmoid()\n"
            "print(gradients(MyValue, [0.5, -2.0], f) == gradients(Value, [0.5, -2.0], f))",
        ),
        expect=("True",),
    ),
    Exercise(
        NB02,
        "s * s * s",
        appended=(
            "s = Value(2.0, 's')\nL = s * s * s\nL.backward()\n"
            "print(s.grad, len(backward_steps(L)), 'frames')",
        ),
        expect=("12.0 2 frames",),
    ),
    Exercise(
        NB03,
        "σ' written, solved",
        solved=True,
        expect=("✓ σ'(z): right at all 5 checks", "your σ'(net_o1) = 0.186815602"),
    ),
    Exercise(
        NB03,
        "σ' written as σ",
        edits=(("def sigmoid_slope", SIGMOID_BLANK, "return sigmoid(z)"),),
        expect=("✗ σ'(z): wrong at 5 of 5 checks", "σ(x)(1 - σ(x))"),
    ),
    Exercise(
        NB03,
        "learning rate 2.0",
        edits=(("learning_rate = 0.5", "learning_rate = 0.5", "learning_rate = 2.0"),),
        expect=("E < 0.0001 after 1,372 updates", "<- differs"),
    ),
    Exercise(
        NB03,
        "the paths from i1",
        appended=("print(len(explain(E, x[0]).paths), 'paths')",),
        expect=("4 paths",),
    ),
    Exercise(
        NB03,
        "the frame where out_h1 passes its gradient on",
        appended=('print(through["out_h1"].overlay.title)',),
        expect=("to net_h1",),
    ),
    Exercise(
        NB03,
        "the biases learn too",
        edits=(
            (
                "def train_step(w)",
                TRAIN_STEP_ZERO,
                TRAIN_STEP_ZERO.replace("in w:", "in w + [bias1, bias2]:"),
            ),
            ("def train_step(w)", TRAIN_STEP_UPDATE, "    for weight in w + [bias1, bias2]:"),
        ),
        expect=("after all 10,000 updates: error 4.3553e-06",),
    ),
    Exercise(
        NB04,
        "the ReLU neuron's slope, solved",
        solved=True,
        expect=("✓ ∂out/∂w1: right at all 5 checks",),
    ),
    Exercise(
        NB04,
        "the ReLU neuron's slope without the gate",
        edits=(("def d_out_d_w1", RELU_BLANK, "return x1"),),
        expect=("✗ ∂out/∂w1: wrong at 3 of 5 checks", "at w1 = 1: yours 0.5", "a missing gate"),
    ),
    Exercise(
        NB04,
        "the ReLU neuron's slope without x1",
        edits=(("def d_out_d_w1", RELU_BLANK, "return 1.0 if w1 * x1 + w2 * x2 + b > 0 else 0.0"),),
        expect=("✗ ∂out/∂w1: wrong at 2 of 5 checks", "a missing factor of the chain rule"),
    ),
    Exercise(
        NB04,
        "count the parameters of MLP(3, [4, 4, 1])",
        appended=("print(len(MLP(3, [4, 4, 1]).parameters()), 'parameters')",),
        expect=("41 parameters",),
    ),
    Exercise(
        NB04,
        "backward twice",
        appended=(
            "loss = loss_fn()\nmodel.zero_grad()\nloss.backward()\n"
            "first = [p.grad for p in model.parameters()]\nloss.backward()\n"
            "k = max(range(len(first)), key=lambda k: abs(first[k]))\n"
            "print(model.parameters()[k].grad / first[k])",
        ),
        expect=("2.0",),
    ),
    Exercise(
        NB04,
        "three drawings",
        appended=(
            "out = net([0.05, 0.10])[0]\n"
            "draw_dot(out, model=net)\n"
            "draw_dot(out, model=net, collapse='neuron')\n"
            "draw_dot(out, model=net, collapse='layer')",
        ),
    ),
    Exercise(
        NB05,
        "Adam for the moons",
        edits=(
            (
                "optimizer = SGD(model.parameters()",
                "optimizer = SGD(model.parameters(), lr=1.0)",
                "optimizer = Adam(model.parameters(), lr=0.01)",
            ),
            ("schedule = LinearLR(", "schedule = LinearLR(", "# schedule = LinearLR("),
            ("schedule.step()", "schedule.step()", "pass"),
        ),
        expect=("you changed the moons run",),
    ),
    Exercise(
        NB05,
        "a smaller network",
        edits=(("model = MLP(2, [16, 16, 1]", "[16, 16, 1]", "[4, 4, 1]"),),
        expect=("37 parameters",),
    ),
    Exercise(
        NB05,
        "noisier moons",
        edits=(("X, labels = make_moons(", "noise=0.1", "noise=0.3"),),
        expect=("you changed the moons run",),
    ),
    Exercise(
        NB06,
        "third derivative of x**4",
        appended=("print(grad(grad(grad(lambda x: x**4)))(2.0))",),
        expect=("48.0",),
    ),
    Exercise(
        NB06,
        "Newton on x**4",
        appended=(
            "d1, d2 = grad(lambda x: x**4), grad(grad(lambda x: x**4))\n"
            "x = 1.0\nfor _ in range(20):\n    x = x - d1(x) / d2(x)\nprint(f'x = {x:.6f}')",
        ),
        expect=("x = 0.000301",),
    ),
    Exercise(
        NB06,
        "count the nodes",
        appended=(
            "x = Value(0.5)\ny = (x * x).tanh()\nprint(len(topological_order(y)))\n"
            "y.backward(create_graph=True)\nprint(len(topological_order(x.grad)))",
        ),
    ),
    Exercise(
        NB08,
        "8 hidden neurons",
        edits=(("settings = dict(", "hidden=32", "hidden=8"),),
        expect=("you changed the settings",),
    ),
    Exercise(
        NB08,
        "learning rate 0.001",
        edits=(("settings = dict(", "lr=0.01", "lr=0.001"),),
        expect=("you changed the settings",),
    ),
    Exercise(
        NB08,
        "the first neuron's weights",
        appended=(
            "weights = [[run.model.layers[0].neurons[0].w[r * 8 + c].data for c in range(8)]"
            " for r in range(8)]\nplt.imshow(weights, cmap='RdBu')\nplt.show()",
        ),
    ),
    Exercise(
        NB08,
        "a misclassified digit's probabilities",
        appended=(
            "logits = [z.data for z in run.model(x_test[wrong[0]])]\n"
            "shifted = [math.exp(z - max(logits)) for z in logits]\n"
            "print('sums to', round(sum(p / sum(shifted) for p in shifted), 6))",
        ),
        expect=("sums to 1.0",),
    ),
    Exercise(
        NB07,
        "a wider model",
        edits=(
            (
                "def sample_loss(x1, x2, y)",
                "model = MLP(2, [16, 16, 1], seed=1337)",
                "model = MLP(2, [32, 32, 1], seed=1337)",
            ),
        ),
        expect=("1185 params", "you changed the model or the data"),
    ),
    Exercise(
        NB07,
        "a branch on .data",
        appended=(
            "def doubled_or_tripled(x):\n"
            "    return x * 2 if x.data > 0 else x * 3  # a float: invisible to the tape\n\n\n"
            "branch_tape = trace(doubled_or_tripled, [1.0])\n"
            'print("replayed at -1:", branch_tape.run([-1.0]).outputs[0])\n'
            'print("eager at -1:", doubled_or_tripled(Value(-1.0)).data)\n',
        ),
        expect=("replayed at -1: -2.0", "eager at -1: -3.0"),
    ),
]


def _solution_sources(notebook: str) -> dict[str, str]:
    """Each function of the notebook's solutions file, by name, as its source text."""
    text = SOLUTIONS[notebook].read_text(encoding="utf-8")
    functions = [node for node in ast.parse(text).body if isinstance(node, ast.FunctionDef)]
    return {node.name: ast.get_source_segment(text, node) for node in functions}


def _apply(nb, exercise: Exercise):
    if exercise.solved:
        for name, source in _solution_sources(exercise.notebook).items():
            cells = [cell for cell in nb.cells if cell.source.startswith(f"def {name}(")]
            assert len(cells) == 1, f"{exercise.notebook} has no one blank cell for {name}"
            cells[0].source = source
    for snippet, before, after in exercise.edits:
        cells = [cell for cell in nb.cells if cell.cell_type == "code" and snippet in cell.source]
        assert cells, f"no code cell of {exercise.notebook} holds {snippet!r}"
        assert before in cells[0].source, f"{before!r} is not in the cell that holds {snippet!r}"
        cells[0].source = cells[0].source.replace(before, after)
    for source in exercise.appended:
        nb.cells.append(nbformat.v4.new_code_cell(source))
    return nb


def _printed(nb) -> str:
    texts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                texts.append(output.text)
            elif "data" in output:
                texts.append(output.data.get("text/plain", ""))
    return "".join(texts)


@pytest.mark.parametrize(
    "exercise", EXERCISES, ids=[f"{e.notebook[:2]}: {e.name}" for e in EXERCISES]
)
def test_try_this_exercise_runs_when_followed(exercise: Exercise, tmp_path: Path):
    nb = nbformat.read(NOTEBOOK_DIR / exercise.notebook, as_version=4)
    executed = _execute(_apply(copy.deepcopy(nb), exercise), tmp_path)
    printed = _printed(executed)
    for text in exercise.expect:
        assert text in printed, f"{exercise.name}: {text!r} not printed"


def test_every_notebook_has_its_exercises_here():
    covered = {exercise.notebook for exercise in EXERCISES}
    assert covered == {path.name for path in NOTEBOOK_DIR.glob("*.ipynb")}
