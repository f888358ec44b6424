"""Model files: a module's architecture and weights as plain JSON, written atomically.

A model file is one JSON object:

    {"format": "micrograd-model", "version": 1,
     "architecture": {"type": "MLP", "config": {"nin": 2, "nouts": [16, 16, 1], ...}},
     "parameters": {"layers.0.neurons.0.w.0": 0.23, ...},
     "checksum": "sha256:..."}

Floats are written with Python's shortest round-trip repr, so loading gives the exact weights
back. The checksum covers the architecture and the parameter values (not the layout), so
re-indenting the file is fine but a changed number is reported.

Saving stores exactly what loading gives back, or refuses up front: weights are stored as floats
(an int weight such as a bias set to 0 reads back as 0.0), and a module's `config()` is stored in
its JSON form (tuples as lists, int dict keys as strings), which is also what `load_into` compares
with. A weight that is not a finite real number, or a config holding anything JSON cannot store
exactly, is a ValueError or TypeError before any file is touched.

Saving writes a temporary file in the same folder (its name short enough for any file name the
folder accepts), flushes it to disk and renames it over the target, so a crash or a full disk
never leaves a half-written file in place of a good one. An overwritten file keeps its permission
bits; a new one gets the usual mode (0o666 less the umask). A path that exists and is not a
regular file (a folder, a FIFO, a device such as /dev/null) is refused, and so is a read-only
file unless `overwrite_read_only=True` is passed. A failure names the user's path,
never the temporary file. Loading parses JSON only (no pickle, nothing is executed), refuses a
file larger than `max_bytes` (default `MAX_FILE_BYTES`) before reading it, checks every field, and
builds the model completely before returning it. Optimizer state and training history are not
stored.
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
import os
from collections.abc import Callable
from typing import Any

from micrograd.files import write_atomically
from micrograd.nn import MLP, Module
from micrograd.numeric import count

FORMAT = "micrograd-model"
VERSION = 1

# The module types a file can rebuild from its architecture; others load into an instance.
BUILDERS: dict[str, Callable[..., Module]] = {"MLP": MLP}

MAX_FILE_BYTES = 64 * 2**20
"""Largest model file read by default, in bytes (64 MiB, over a million weights); pass
`max_bytes=` to `read`, `load` or `load_into` for a bigger one."""

MAX_CONFIG_DEPTH = 100
"""Deepest nesting of lists and dicts stored from a module's `config()`."""

# Python refuses to parse ints of more decimal digits than this (sys.int_info).
_MAX_INT_BITS = 14_000


class ModelFileError(ValueError):
    """A model file that cannot be loaded: corrupt, truncated, wrong version, or edited."""


def _architecture(module: Module) -> dict[str, Any]:
    """The module's type name and config, as JSON stores them (tuples become lists, ...)."""
    method = getattr(module, "config", None)
    if method is not None and not callable(method):
        # `self.config = {...}` in a subclass: save() would fail calling it.
        raise TypeError(
            f"{type(module).__name__}.config is a {type(method).__name__} attribute; save() "
            "calls a module's config() method for its settings: expected a method returning "
            "a dict (rename the attribute, or make config a method)"
        )
    config = method() if method is not None else None
    where = f"{type(module).__name__}.config()"
    if config is not None and not isinstance(config, dict):
        raise TypeError(f"{where} must return a dict (or None), returned {type(config).__name__}")
    return {"type": type(module).__name__, "config": _json_value(config, where, 0)}


def _json_value(value: object, where: str, depth: int) -> Any:
    """`value` as JSON reads it back; TypeError/ValueError for what JSON cannot store exactly."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        integer = int(value)
        if integer.bit_length() > _MAX_INT_BITS:
            raise ValueError(
                f"{where} is an int of {integer.bit_length()} bits; too large to store"
            )
        return integer
    if isinstance(value, numbers.Real):
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"{where} is {number!r}; a config can store finite numbers only")
        return number
    if depth >= MAX_CONFIG_DEPTH and isinstance(value, (list, tuple, dict)):
        raise ValueError(f"{where} is nested more than {MAX_CONFIG_DEPTH} levels deep")
    if isinstance(value, (list, tuple)):
        return [_json_value(item, f"{where}[{i}]", depth + 1) for i, item in enumerate(value)]
    if isinstance(value, dict):
        stored: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(key, bool) or not isinstance(key, (str, numbers.Integral)):
                raise TypeError(
                    f"{where} has the key {key!r:.60} ({type(key).__name__}); a config's dict "
                    "keys must be str or int"
                )
            text = key if isinstance(key, str) else str(int(key))
            if text in stored:
                raise ValueError(
                    f"{where} has two keys stored as {text!r} (an int key is stored as its str)"
                )
            stored[text] = _json_value(item, f"{where}[{key!r:.60}]", depth + 1)
        return stored
    raise TypeError(
        f"{where} is a {type(value).__name__}: {value!r:.60}; a config can hold None, bool, "
        "int, float, str, and lists, tuples and dicts of them"
    )


def _checksum(architecture: object, parameters: dict[str, float]) -> str:
    canonical = json.dumps(
        {"architecture": architecture, "parameters": parameters},
        sort_keys=True,
        separators=(",", ":"),
        allow_nan=False,
    )
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def to_dict(module: Module) -> dict[str, Any]:
    """The JSON-ready contents of a model file for `module`."""
    if not isinstance(module, Module):
        raise TypeError(f"save takes a micrograd Module, received {type(module).__name__}")
    parameters: dict[str, float] = {}
    for name, value in module.state_dict().items():
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            raise TypeError(
                f"parameter {name} holds {type(value).__name__}: {value!r:.60}; expected a "
                "real number"
            )
        try:
            number = float(value)  # an int weight is stored (and read back) as a float
        except OverflowError:
            raise ValueError(f"parameter {name} is an int too large for a float") from None
        if not math.isfinite(number):
            raise ValueError(
                f"parameter {name} is {value!r:.60}; refusing to save a model with non-finite "
                "weights (JSON has no nan or infinity)"
            )
        parameters[name] = number
    architecture = _architecture(module)
    return {
        "format": FORMAT,
        "version": VERSION,
        "architecture": architecture,
        "parameters": parameters,
        "checksum": _checksum(architecture, parameters),
    }


def save(
    module: Module, path: str | os.PathLike[str], *, overwrite_read_only: bool = False
) -> None:
    """Write `module` to `path` as a model file; the old file stays intact if anything fails.

    `path` must be a regular file or missing (never a folder, FIFO or device), and a read-only
    file is replaced only with `overwrite_read_only=True` (see `micrograd.files`).
    """
    text = json.dumps(to_dict(module), indent=1, allow_nan=False) + "\n"
    write_atomically(path, text, overwrite_read_only=overwrite_read_only)


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ModelFileError(f"key {key!r} appears twice in one JSON object")
        result[key] = value
    return result


def _reject_constant(name: str) -> None:
    raise ModelFileError(f"{name} is not a valid number in a model file")


def _parse_float(text: str) -> float:
    # json reads 1e999 as inf, which would otherwise fail later (in the checksum) as a bare error.
    number = float(text)
    if math.isinf(number):
        raise ModelFileError(f"{text:.40} is out of the range of a float")
    return number


def read(path: str | os.PathLike[str], *, max_bytes: int = MAX_FILE_BYTES) -> dict[str, Any]:
    """Parse and check a model file; returns its contents without building anything.

    A file larger than `max_bytes` is refused before it is read.
    """
    where = os.fspath(path)
    max_bytes = count(max_bytes, "max_bytes")
    with open(where, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        raw = _read_at_most(f, max_bytes + 1) if size <= max_bytes else b""
        size = max(size, len(raw))
    if size > max_bytes:
        raise ModelFileError(
            f"{where}: the file is {size:,} bytes, larger than the limit of {max_bytes:,} bytes "
            "for a model file; pass max_bytes= to read a bigger one"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ModelFileError(f"{where}: not a model file (not UTF-8 text: {e})") from None
    try:
        data = json.loads(
            text,
            object_pairs_hook=_reject_duplicates,
            parse_constant=_reject_constant,
            parse_float=_parse_float,
        )
    except RecursionError:
        raise ModelFileError(f"{where}: corrupt model file (JSON nested too deeply)") from None
    except json.JSONDecodeError as e:
        # A whole file ends with the closing brace; a cut-off one (full disk, interrupted copy)
        # does not.
        truncated = not text.rstrip().endswith("}") and e.msg != "Extra data"
        hint = " (truncated: it does not end with '}')" if truncated else ""
        raise ModelFileError(f"{where}: corrupt model file{hint}: {e}") from None
    except ModelFileError as e:
        raise ModelFileError(f"{where}: {e}") from None
    except ValueError as e:  # an integer of more digits than int() accepts (4300 by default)
        raise ModelFileError(f"{where}: corrupt model file: {e}") from None
    try:
        return _check(data)
    except ModelFileError as e:
        raise ModelFileError(f"{where}: {e}") from None


def _read_at_most(file: Any, limit: int) -> bytes:
    """Up to `limit` bytes of `file`, in chunks: memory follows the file, not the limit.

    One byte past the size limit is enough to refuse a file that grows, or a device, without
    reading it whole; reading by chunks keeps a large `max_bytes` from allocating that much.
    """
    chunks = []
    left = limit
    while left > 0:
        chunk = file.read(min(left, 2**20))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _check(data: object) -> dict[str, Any]:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ModelFileError(f'not a micrograd model file (expected "format": "{FORMAT}")')
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ModelFileError(f"version must be an int, found {version!r}")
    if version != VERSION:
        newer = " (written by a newer micrograd)" if version > VERSION else ""
        raise ModelFileError(
            f"model file version {version}{newer}; this micrograd reads version {VERSION}"
        )
    expected_keys = {"format", "version", "architecture", "parameters", "checksum"}
    if set(data) != expected_keys:
        extra = sorted(set(data) - expected_keys)
        missing = sorted(expected_keys - set(data))
        raise ModelFileError(f"unexpected top-level keys {extra}, missing {missing}")
    architecture = data["architecture"]
    if (
        not isinstance(architecture, dict)
        or set(architecture) != {"type", "config"}
        or not isinstance(architecture["type"], str)
        or not isinstance(architecture["config"], (dict, type(None)))
    ):
        raise ModelFileError(
            f'architecture must be {{"type": name, "config": object or null}}, found '
            f"{architecture!r:.100}"
        )
    parameters = data["parameters"]
    if not isinstance(parameters, dict):
        raise ModelFileError(
            f"parameters must be an object of name: number, found {parameters!r:.60}"
        )
    numbers_by_name = {}
    for name, value in parameters.items():
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            raise ModelFileError(f"parameter {name} must be a number, found {value!r:.60}")
        try:
            number = float(value)
        except OverflowError:  # an int too large for a float
            number = math.inf
        if not math.isfinite(number):
            raise ModelFileError(f"parameter {name} must be a finite number, found {value!r:.60}")
        numbers_by_name[name] = number
    parameters = numbers_by_name
    if data["checksum"] != _checksum(architecture, parameters):
        raise ModelFileError(
            "checksum does not match the contents: the file was changed after it was saved "
            "(hand-edited or corrupted)"
        )
    return {"architecture": architecture, "parameters": parameters}


def load(
    path: str | os.PathLike[str],
    expected: type[Module] | None = None,
    *,
    max_bytes: int = MAX_FILE_BYTES,
) -> Module:
    """Build the module a model file describes and fill in its weights.

    `expected` (a Module class) makes a file holding another kind of module an error; a file
    larger than `max_bytes` is refused before it is read.
    """
    contents = read(path, max_bytes=max_bytes)
    kind = contents["architecture"]["type"]
    config = contents["architecture"]["config"]
    if expected is not None and expected is not Module and kind != expected.__name__:
        raise ModelFileError(f"{os.fspath(path)} holds a {kind}, expected a {expected.__name__}")
    builder = BUILDERS.get(kind)
    if kind == "MLP":
        _check_mlp_size(config, len(contents["parameters"]), path)
    if builder is None or config is None:
        raise ModelFileError(
            f"{os.fspath(path)} holds a {kind}, which cannot be rebuilt from a file; create the "
            "module yourself and use load_into(module, path)"
        )
    try:
        # A fixed seed: the initial weights are overwritten, and the global random state is left
        # alone.
        module = builder(**config, seed=0)
    except (TypeError, ValueError) as e:
        raise ModelFileError(
            f"{os.fspath(path)}: invalid {kind} architecture {config}: {e}"
        ) from None
    _fill(module, contents["parameters"], path)
    return module


def _check_mlp_size(config: object, held: int, path: str | os.PathLike[str]) -> None:
    """Compare the MLP's parameter count with the file's before building anything.

    A file cannot then make us allocate a network larger than the weights it holds.
    """
    sizes = config.get("nouts") if isinstance(config, dict) else None
    nin = config.get("nin") if isinstance(config, dict) else None
    if not (
        isinstance(nin, int)
        and not isinstance(nin, bool)
        and nin > 0
        and isinstance(sizes, list)
        and sizes
        and all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in sizes)
    ):
        raise ModelFileError(f"{os.fspath(path)}: invalid MLP architecture {config!r:.100}")
    inputs = [nin, *sizes[:-1]]
    expected = sum((n_in + 1) * n_out for n_in, n_out in zip(inputs, sizes))
    if expected != held:
        raise ModelFileError(
            f"{os.fspath(path)}: the architecture has {expected} parameters but the file holds "
            f"{held}"
        )


def load_into(
    module: Module, path: str | os.PathLike[str], *, max_bytes: int = MAX_FILE_BYTES
) -> Module:
    """Load a model file's weights into an existing module of the same architecture.

    The module's config is compared in the form a file stores it (tuples as lists, ...).
    """
    contents = read(path, max_bytes=max_bytes)
    mine = _architecture(module)
    if contents["architecture"] != mine:
        raise ModelFileError(
            f"{os.fspath(path)} holds {contents['architecture']}, but the module is {mine}"
        )
    _fill(module, contents["parameters"], path)
    return module


def _fill(module: Module, parameters: dict[str, float], path: str | os.PathLike[str]) -> None:
    try:
        module.load_state_dict(parameters, strict=True)  # checks every key before writing any
    except (RuntimeError, TypeError, ValueError) as e:
        raise ModelFileError(f"{os.fspath(path)}: {e}") from None
