"""Solutions to notebook 02's "Build your own Value": the three blanks, filled in.

Try the blanks yourself first; the notebook's checker says what is wrong. The test suite pastes
these three functions into the notebook in place of the blanks and runs it
(tests/notebooks/test_try_this_exercises.py), and checks them against micrograd directly
(tests/notebooks/test_solution_files.py).
"""


def mul_local_grads(a, b):
    """∂(a·b)/∂a and ∂(a·b)/∂b at the numbers a and b."""
    return b, a  # each factor's derivative is the other factor


def tanh_local_grad(x, t):
    """d tanh(x)/dx, given the input x and the output t = tanh(x)."""
    return 1 - t**2  # tanh' = 1 - tanh², written with the output, as σ' = σ(1 - σ)


def build_order(root):
    """Every value that root depends on, and root last, each after the values it came from."""
    order, seen = [], set()

    def visit(node):
        if node not in seen:
            seen.add(node)
            for parent in node.parents:
                visit(parent)
            order.append(node)  # only after all of its parents

    visit(root)
    return order
