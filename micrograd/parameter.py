"""`Parameter`: a module's trainable leaf, whose number can live in a flat store shared with others.

A `Parameter` is a `Value` (a leaf that requires grad, usable anywhere a Value is) that also has
a place in a `Store`, a stdlib `array.array('d')` of float64. `pack(params)` gives some
parameters one new store, in order; `nn` packs every model it builds in `parameters()` order.

Its number is in one of two places, and only ever one: in the Value's own slot, where the eager
engine reads it at full speed, or in the store, where a tape's numpy replay reads all of a
model's numbers as one array (a view of the store, no copy) and an optimizer's `step(result)`
updates them in place, with no pass over the parameters. A replay moves its parameters' numbers
into their store (`to_store`: once, while they stay there), and `Neuron` moves its own back to
the slots when it is called eagerly (`to_slots`), so eager training costs what it did before
and a tape's training loop costs no pass per step. Which place holds the number is the
parameter's class: `Parameter` (the slot) or `StoredParameter` (the store, read through a
property); moving it is assigning `__class__`, which CPython allows because the two classes
have the same slots. `p.data`, the engine, saving, copying and pickling read the right place
either way: test with `isinstance(p, Parameter)`, not `type(p)`.

This module imports neither numpy nor the tape: numpy reads a store with
`np.frombuffer(store.numbers)`. Left out: growing a store (pack again instead).
"""

from __future__ import annotations

import copy
from array import array
from collections.abc import Iterable, Sequence
from typing import Any, SupportsIndex

from micrograd.engine import Number, Value


class Store:
    """The numbers of some Parameters, side by side, one float64 each.

    `current` turns False, for good, when `pack` moves any of its Parameters to another
    store: whoever remembered where a list of parameters sits (`ParameterRun`) looks again.
    `in_slots` counts its Parameters whose number is in their own slot, not here (0: the store
    holds every one of its Parameters' numbers).
    """

    __slots__ = ("numbers", "current", "in_slots")

    numbers: array[float]
    current: bool
    in_slots: int

    def __init__(self, numbers: array[float], in_slots: int = 0) -> None:
        self.numbers = numbers
        self.current = True
        self.in_slots = in_slots

    def __len__(self) -> int:
        return len(self.numbers)

    def __repr__(self) -> str:
        state = "" if self.current else ", repacked"
        return f"<Store of {len(self.numbers)} numbers{state}>"

    def __reduce__(self) -> tuple[Any, ...]:
        # Copied and unpickled Parameters hold their numbers in the store (in_slots 0).
        return (_rebuilt_store, (self.numbers, self.current))


def _rebuilt_store(numbers: array[float], current: bool) -> Store:
    store = Store(numbers)
    store.current = current
    return store


class Parameter(Value):
    """A trainable leaf `Value` (PyTorch's `nn.Parameter`) with a place in a `Store`.

    `Parameter(0.5)` has a store of its own; `pack([...])` puts several in one store. It
    requires grad unless made with `requires_grad=False` or frozen later, as any leaf. Its
    number is in its slot, as a Value's is, until a tape's replay moves it into the store (the
    class becomes `StoredParameter`); see the module's docstring.
    """

    # `_store` and `_index` say where its place is; `_numbers` is `_store.numbers`, kept here
    # so that reading the number is one attribute and one index, not two attributes.
    __slots__ = ("_store", "_numbers", "_index")

    _store: Store
    _numbers: array[float]
    _index: int

    def __init__(self, data: Number, label: str = "", *, requires_grad: bool = True) -> None:
        self._point(Store(array("d", (0.0,)), in_slots=1), 0)
        super().__init__(data, label=label, requires_grad=requires_grad)

    def _point(self, store: Store, index: int) -> None:
        self._store, self._numbers, self._index = store, store.numbers, index

    @property
    def store(self) -> Store:
        """The store holding this parameter's number (at `store.numbers[self.store_index]`)."""
        return self._store

    @property
    def store_index(self) -> int:
        """Where in `store.numbers` this parameter's number is."""
        return self._index

    # A copy is a Parameter with its number in a store of its own; a deep copy of a model
    # copies each store once (through `memo`), so the copy is packed as the original was.

    def __copy__(self) -> Parameter:
        copied = _new_parameter(Store(array("d", (self._data,))), 0)
        copied._grad, copied.label = self._grad, self.label
        copied.requires_grad = self.requires_grad
        return copied

    def __deepcopy__(self, memo: dict[int, Any]) -> Parameter:
        if id(self) in memo:
            found: Parameter = memo[id(self)]
            return found
        copied = _new_parameter(copy.deepcopy(self._store, memo), self._index)
        copied._data = self._data  # from the slot, or the store, wherever it is now
        copied.label, copied.requires_grad = self.label, self.requires_grad
        memo[id(self)] = copied
        copied._grad = copy.deepcopy(self._grad, memo)  # a Value after create_graph=True
        return copied

    def __reduce_ex__(self, protocol: SupportsIndex) -> tuple[Any, ...]:
        # The store is pickled once for all its parameters (pickle keeps shared objects shared).
        state = (None, {"_grad": self._grad})  # set after creation: grad may refer back
        return (
            _unpickled_parameter,
            (self._store, self._index, self.requires_grad, self.label, self._data),
            state,
        )


class StoredParameter(Parameter):
    """A Parameter whose number is in its store, not its slot: `_data` reads and writes there,
    so the engine and every reader of a Value read it unchanged (a property call, not a slot)."""

    __slots__ = ()  # the same slots as Parameter's: the class can be switched either way

    @property
    def _data(self) -> float:
        return self._numbers[self._index]

    @_data.setter
    def _data(self, value: float) -> None:  # pyright: ignore[reportIncompatibleVariableOverride]
        self._numbers[self._index] = value


# The slot itself, for moving a number between the slot and the store whatever the class.
_slot = Value.__dict__["_data"]


def to_store(params: Sequence[Value], store: Store) -> None:
    """Moves the numbers of those `params` (one run of `store`) still in their slots into the
    store; nothing to do, and no pass, when the store holds all of its parameters' numbers."""
    if not store.in_slots:
        return
    for p in params:
        if type(p) is Parameter:
            p._numbers[p._index] = _slot.__get__(p)
            _become(p, StoredParameter)
            p._store.in_slots -= 1


def to_slots(params: Iterable[Value]) -> None:
    """Moves the numbers of those `params` held in their store back into their slots, where
    the eager engine reads them fastest."""
    for p in params:
        if type(p) is StoredParameter:
            _slot.__set__(p, p._numbers[p._index])  # first the number, then where to read it
            _become(p, Parameter)
            p._store.in_slots += 1


def _become(p: Value, cls: type[Parameter]) -> None:
    """`p` read through `cls` from now on (allowed: Parameter and StoredParameter share slots)."""
    p.__class__ = cls


def _new_parameter(store: Store, index: int) -> Parameter:
    out: Parameter = object.__new__(StoredParameter)  # the number is in the store
    out._point(store, index)
    out._grad, out.parents, out.op, out.label, out.requires_grad = 0.0, (), None, "", True
    return out


def _unpickled_parameter(
    store: Store, index: int, requires_grad: bool, label: str, number: float
) -> Parameter:
    out = _new_parameter(store, index)
    out._data = number  # the store's entry may be stale: the number was in a slot
    out.requires_grad, out.label = requires_grad, label
    return out


def pack(params: Iterable[Parameter]) -> Store:
    """One new store for `params`, in order, holding their numbers; each has its place there.

    A number in its slot stays there (the store has a copy a replay will refresh), a number in
    a store moves to the new one. The stores they leave are marked not `current`. A parameter
    listed twice is refused.
    """
    params = list(params)
    seen: set[int] = set()
    for i, p in enumerate(params):
        if not isinstance(p, Parameter):
            raise TypeError(
                f"pack() takes Parameters, received {type(p).__name__} at {i}: {p!r:.60}"
            )
        if id(p) in seen:
            raise ValueError(f"pack() received {p!r:.60} twice (again at {i})")
        seen.add(id(p))
    in_slots = [type(p) is Parameter for p in params]
    store = Store(array("d", [p._data for p in params]), in_slots=sum(in_slots))
    for i, (p, slotted) in enumerate(zip(params, in_slots)):
        p._store.current = False
        p._store.in_slots -= slotted
        p._point(store, i)
    return store


def find_run(params: Sequence[Value]) -> tuple[Store, int] | None:
    """`(store, start)` when `params` are the Parameters at `start`, `start + 1`, ... of one
    store, else None."""
    if not params or not isinstance(params[0], Parameter):
        return None
    store, start = params[0]._store, params[0]._index
    for i, p in enumerate(params):
        if not isinstance(p, Parameter) or p._store is not store or p._index != start + i:
            return None
    return store, start


class ParameterRun:
    """`find_run` for one list of parameters, remembered until a store it saw is repacked.

    Checking is a pass over the parameters; the answer can only change when `pack` moves one of
    them, which marks its old store not `current`, so the stores seen are all that is checked
    on later calls.
    """

    __slots__ = ("params", "run", "_stores")

    params: Sequence[Value]
    run: tuple[Store, int] | None

    def __init__(self, params: Sequence[Value]) -> None:
        self.params = params
        self.run = None
        self._stores: tuple[Store, ...] = ()
        self._look()

    def get(self) -> tuple[Store, int] | None:
        """Where the parameters sit now, as `find_run` would say."""
        for store in self._stores:
            if not store.current:
                self._look()
                break
        return self.run

    def _look(self) -> None:
        self.run = find_run(self.params)
        if self.run is not None:
            self._stores = (self.run[0],)
            return
        stores: dict[int, Store] = {}
        for p in self.params:
            if not isinstance(p, Parameter):  # a plain Value never becomes a Parameter
                self._stores = ()
                return
            stores[id(p._store)] = p._store
        self._stores = tuple(stores.values())
