"""Gradients as functions, and gradients of gradients.

`grad`, `value_and_grad`, `jacobian` and `hessian` turn a function of numbers into a function
that computes its derivatives, as in JAX and HIPS autograd. They compose: `grad(grad(f))` is the
second derivative, and `grad(grad(grad(f)))` the third.

Everything here rests on one reverse walk over the graph, `autodiff.gradient_table`, the one
`backward(create_graph=True)` uses. It either multiplies floats with each op's `local_grads`,
as `backward()` does, or builds each gradient as new `Value`s from the op's rules on Values, so
that the gradient has a graph and can be differentiated again. The functional API never reads
or writes `.grad`.

Left out: forward mode, `vmap` and nested containers. Arguments are numbers or Values, and a
function returns one scalar or a flat tuple or list of scalars.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import nullcontext
from typing import Any, Literal, overload

from micrograd import autodiff, grad_mode
from micrograd.engine import Value, topological_order
from micrograd.grad_mode import enable_grad
from micrograd.numeric import is_integer, is_real, to_float

__all__ = ["backward_with_graph", "grad", "hessian", "jacobian", "value_and_grad"]

Argnums = int | Sequence[int]
# A derivative: a float, or a Value with a graph inside another differentiation.
Derivative = float | Value


def _constant(x: float) -> Value:
    return Value(x, requires_grad=False)


def _backprop(
    out: Value, wrt: Sequence[Value], create_graph: bool, order: list[Value] | None = None
) -> list[Any]:
    """d out / d v for each v in `wrt`: floats, or Values with a graph when `create_graph`.

    The walk is `autodiff.gradient_table`, the one `backward(create_graph=True)` uses. Under
    detect_anomaly() (or for a graph made inside it) each gradient is checked as backward()
    checks it, and the ops building a gradient graph as any op. Call under `enable_grad()` when
    `create_graph` is True.
    """
    if order is None:
        order = topological_order(out)
    check = grad_mode.backward_check(order)
    with grad_mode.checked_block() if check else nullcontext():
        gradients = autodiff.gradient_table(order, wrt, create_graph=create_graph, check=check)
    if create_graph:
        return [_constant(g) if type(g) is float else g for g in gradients]
    return gradients


def backward_with_graph(root: Value) -> None:
    """`root.backward(create_graph=True)`: leaves' grads become Values with a graph."""
    if not isinstance(root, Value):
        raise TypeError(f"backward_with_graph takes a Value, received {type(root).__name__}")
    root.backward(create_graph=True)


def _check_argnums(argnums: object, where: str) -> tuple[tuple[int, ...], bool]:
    """The positions asked for and whether a single int was given (results are then unboxed)."""
    if is_integer(argnums):
        return (int(argnums),), True
    if isinstance(argnums, (tuple, list)) and all(is_integer(a) for a in argnums):
        if not argnums:
            raise ValueError(f"{where}: argnums is empty; give an int or a tuple of ints")
        return tuple(int(a) for a in argnums), False
    raise TypeError(f"{where}: argnums must be an int or a tuple of ints, received {argnums!r}")


def _resolve_argnums(argnums: tuple[int, ...], nargs: int, where: str) -> tuple[int, ...]:
    for a in argnums:
        if not -nargs <= a < nargs:
            raise ValueError(
                f"{where}: argnums {a} is out of range for a call with {nargs} positional "
                f"argument{'s' if nargs != 1 else ''} (valid: {-nargs} to {nargs - 1})"
            )
    positions = tuple(a % nargs for a in argnums)
    if len(set(positions)) != len(positions):
        raise ValueError(f"{where}: argnums {argnums!r} names the same argument twice")
    return positions


def _as_input(arg: object, position: int, where: str) -> Value:
    """The Value to differentiate with respect to, standing in for argument `position`."""
    if isinstance(arg, Value):
        if arg.requires_grad:
            # A new node above `arg`, not `arg` itself: f may also use `arg` through a closure
            # (f = lambda y: x * y called at y = x), and only this argument's slot is to be
            # differentiated. The edge to `arg` lets an enclosing differentiation see through.
            # Adding -0.0 gives arg's number exactly (adding 0.0 would turn -0.0 into 0.0).
            node = arg + -0.0
            node.label = arg.label
            return node
        return Value(arg.data, arg.label)
    if is_real(arg):
        return Value(to_float(arg))  # an int beyond the float range becomes inf, with a warning
    raise TypeError(
        f"{where} differentiates argument {position}, which must be a number or a Value, "
        f"received {type(arg).__name__}: {arg!r:.60}"
    )


def _scalar_output(out: object, where: str, hint: str) -> Value | float:
    if isinstance(out, Value):
        return out
    if is_real(out):
        return to_float(out)  # a constant: every gradient is zero
    if isinstance(out, (tuple, list)):
        raise TypeError(
            f"{where} needs f to return one scalar (a Value or a number), received a "
            f"{type(out).__name__} of {len(out)}{hint}"
        )
    raise TypeError(
        f"{where} needs f to return a Value or a number, received {type(out).__name__}: {out!r:.60}"
    )


def _depends_on_outside(order: list[Value], inputs: Sequence[Value]) -> bool:
    """Whether the graph reaches a value needing grad that this differentiation did not make."""
    own = {id(v) for v in inputs}
    return any(not node.parents and node.requires_grad and id(node) not in own for node in order)


def _differentiate(
    f: Callable[..., Any],
    args: tuple[Any, ...],
    argnums: tuple[int, ...],
    where: str,
    read_outputs: Callable[[Any], tuple[list[Value | float], Any]],
) -> tuple[list[Any], list[list[Any]], Any, bool]:
    """Call f with inputs standing in for `args[argnums]` and differentiate each output.

    Returns the outputs, one row of gradients per output (one entry per argnum), what
    `read_outputs` kept aside (the aux value), and whether results are Values.
    """
    positions = _resolve_argnums(argnums, len(args), where)
    # Like torch.func.grad, a transform records a graph even inside an enclosing no_grad(): its
    # result should not depend on where it runs. A no_grad() inside f still stops gradients.
    with enable_grad():
        inputs = [_as_input(args[p], p, where) for p in positions]
        call_args = list(args)
        for position, value in zip(positions, inputs):
            call_args[position] = value
        outputs, kept = read_outputs(f(*call_args))
        # Gradients are Values when something outside this call may differentiate them again:
        # an argument that needs grad, or one that f reads from an enclosing scope.
        nested = any(isinstance(a, Value) and a.requires_grad for a in args)
        orders = [topological_order(out) if isinstance(out, Value) else None for out in outputs]
        for order in orders:
            if order is not None and not nested:
                nested = _depends_on_outside(order, inputs)
        rows = []
        for out, order in zip(outputs, orders):
            if isinstance(out, Value) and order is not None and out.requires_grad:
                rows.append(_backprop(out, inputs, create_graph=nested, order=order))
            else:
                rows.append([_constant(0.0) if nested else 0.0 for _ in inputs])
    for value in inputs:
        if not value.parents:
            # The leaves made for this call are done with: as constants they no longer look,
            # to an enclosing differentiation, like a variable from outside (see above).
            value.requires_grad = False
    if nested:
        outputs = [out if isinstance(out, Value) else _constant(out) for out in outputs]
    else:
        outputs = [out.data if isinstance(out, Value) else out for out in outputs]
    return outputs, rows, kept, nested


def _check_callable(f: object, where: str) -> None:
    if not callable(f):
        raise TypeError(f"{where} takes a function, received {type(f).__name__}: {f!r:.60}")


@overload
def value_and_grad(
    f: Callable[..., Any], argnums: int = 0, has_aux: Literal[False] = False
) -> Callable[..., tuple[Derivative, Derivative]]: ...
@overload
def value_and_grad(
    f: Callable[..., Any], argnums: Sequence[int], has_aux: Literal[False] = False
) -> Callable[..., tuple[Derivative, tuple[Derivative, ...]]]: ...
@overload
def value_and_grad(
    f: Callable[..., Any], argnums: int = 0, *, has_aux: Literal[True]
) -> Callable[..., tuple[tuple[Derivative, Any], Derivative]]: ...
@overload
def value_and_grad(
    f: Callable[..., Any], argnums: Sequence[int], has_aux: Literal[True]
) -> Callable[..., tuple[tuple[Derivative, Any], tuple[Derivative, ...]]]: ...
@overload
def value_and_grad(
    f: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False
) -> Callable[..., tuple[Any, Any]]: ...
def value_and_grad(
    f: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False
) -> Callable[..., tuple[Any, Any]]:
    """A function that returns `(f(*args), gradient of f at args)`.

    f must return one scalar (a Value or a number); with `has_aux=True` it returns a pair
    `(scalar, aux)` instead, and the result is `((value, aux), gradient)`. The gradient is one
    entry for an int `argnums`, a tuple for a tuple of argnums. Results are floats, or Values
    with a graph when an argument is a Value that requires grad or f reads such a Value from an
    enclosing scope (that is, inside another differentiation). An output that does not depend
    on an argument has gradient 0.
    """
    where = "value_and_grad"
    _check_callable(f, where)
    positions, single = _check_argnums(argnums, where)

    def read_outputs(raw: Any) -> tuple[list[Value | float], Any]:
        aux = None
        if has_aux:
            if not isinstance(raw, (tuple, list)) or len(raw) != 2:
                shown = f"a {type(raw).__name__}" + (
                    f" of {len(raw)}" if isinstance(raw, (tuple, list)) else ""
                )
                raise TypeError(
                    f"{where} with has_aux=True needs f to return a pair "
                    f"(scalar, aux), received {shown}"
                )
            raw, aux = raw
        return [_scalar_output(raw, where, "; use jacobian for several outputs")], aux

    def value_and_grad_f(*args: Any) -> tuple[Any, Any]:
        outputs, rows, aux, _ = _differentiate(f, args, positions, where, read_outputs)
        gradient = rows[0][0] if single else tuple(rows[0])
        value = (outputs[0], aux) if has_aux else outputs[0]
        return value, gradient

    return value_and_grad_f


@overload
def grad(f: Callable[..., Any], argnums: int = 0) -> Callable[..., Derivative]: ...
@overload
def grad(
    f: Callable[..., Any], argnums: Sequence[int]
) -> Callable[..., tuple[Derivative, ...]]: ...
def grad(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Any]:
    """A function that returns the gradient of scalar-valued f at its arguments.

    `grad(f)(x)` is df/dx at x; `grad(f, argnums=(0, 1))(x, y)` is the tuple (df/dx, df/dy).
    Composes: `grad(grad(f))(x)` is the second derivative. See `value_and_grad` for the rules.
    """
    return _grad(f, argnums, "grad")


def _grad(f: Callable[..., Any], argnums: Argnums, where: str) -> Callable[..., Any]:
    _check_callable(f, where)
    positions, single = _check_argnums(argnums, where)

    def read_outputs(raw: Any) -> tuple[list[Value | float], Any]:
        return [_scalar_output(raw, where, "; use jacobian for several outputs")], None

    def grad_f(*args: Any) -> Any:
        _, rows, _, _ = _differentiate(f, args, positions, where, read_outputs)
        return rows[0][0] if single else tuple(rows[0])

    return grad_f


# f returning a sequence of scalars gives a tuple, one entry per output; a scalar, one entry.
@overload
def jacobian(
    f: Callable[..., Sequence[Value | float]], argnums: int = 0
) -> Callable[..., tuple[Derivative, ...]]: ...
@overload
def jacobian(
    f: Callable[..., Sequence[Value | float]], argnums: Sequence[int]
) -> Callable[..., tuple[tuple[Derivative, ...], ...]]: ...
@overload
def jacobian(f: Callable[..., Value | float], argnums: int = 0) -> Callable[..., Derivative]: ...
@overload
def jacobian(
    f: Callable[..., Value | float], argnums: Sequence[int]
) -> Callable[..., tuple[Derivative, ...]]: ...
@overload
def jacobian(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Any]: ...
def jacobian(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Any]:
    """A function that returns the derivatives of every output of f at its arguments.

    For f returning a tuple or list of scalars, entry `[i]` is the derivative of output i (with
    an int `argnums`), or `[i][j]` that of output i with respect to argnum j (with a tuple).
    For f returning one scalar the result is the same as `grad`. Results follow
    `value_and_grad`'s rules for floats and Values.
    """
    where = "jacobian"
    _check_callable(f, where)
    positions, single = _check_argnums(argnums, where)

    def read_outputs(raw: Any) -> tuple[list[Value | float], Any]:
        if not isinstance(raw, (tuple, list)):
            return [_scalar_output(raw, where, "")], False
        outputs = []
        for i, out in enumerate(raw):
            if not (isinstance(out, Value) or is_real(out)):
                raise TypeError(
                    f"{where} needs f to return scalars (Values or numbers), but output {i} is "
                    f"a {type(out).__name__}: {out!r:.60}"
                )
            outputs.append(out if isinstance(out, Value) else to_float(out))
        return outputs, True

    def jacobian_f(*args: Any) -> Any:
        _, rows, is_sequence, _ = _differentiate(f, args, positions, where, read_outputs)
        entries = [row[0] if single else tuple(row) for row in rows]
        return tuple(entries) if is_sequence else entries[0]

    return jacobian_f


@overload
def hessian(f: Callable[..., Any], argnums: int = 0) -> Callable[..., Derivative]: ...
@overload
def hessian(
    f: Callable[..., Any], argnums: Sequence[int]
) -> Callable[..., tuple[tuple[Derivative, ...], ...]]: ...
def hessian(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Any]:
    """A function that returns the second derivatives of scalar-valued f at its arguments.

    With an int `argnums`, d²f/dx²; with a tuple, the matrix as a tuple of rows, entry `[i][j]`
    being d²f / (d argnums[i] d argnums[j]). It is `jacobian(grad(f, argnums), argnums)`.
    """
    return jacobian(_grad(f, argnums, "hessian"), argnums)
