"""Solution to notebook 03's "Your turn": the sigmoid's derivative, as a function.

Try it yourself first; the notebook's `check_derivative` cell says what is wrong. The test suite
pastes this function into the notebook in place of the blank and runs it
(tests/notebooks/test_try_this_exercises.py). `sigmoid` is the notebook's own.
"""


def sigmoid_slope(z):
    """σ'(z), the sigmoid's derivative at z."""
    s = sigmoid(z)  # noqa: F821 (the notebook's sigmoid)
    return s * (1 - s)  # σ' = σ(1 - σ), written with the output
