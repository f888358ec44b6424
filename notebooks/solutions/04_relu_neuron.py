"""Solution to notebook 04's "Your turn": one weight's gradient through a ReLU neuron.

Try it yourself first; the notebook's `check_derivative` cell says what is wrong. The test suite
pastes this function into the notebook in place of the blank and runs it
(tests/notebooks/test_try_this_exercises.py). `x1`, `x2`, `w2` and `b` are the notebook's numbers.
"""


def d_out_d_w1(w1):
    """∂out/∂w1 at w1, for the ReLU neuron above."""
    total = w1 * x1 + w2 * x2 + b  # noqa: F821 (the notebook's numbers)
    return x1 if total > 0 else 0.0  # noqa: F821 (the ReLU's slope, 1 or 0, times x1)
