"""Model files: a module's architecture and weights as plain JSON, written atomically.

A model file is one JSON object:

    {"format": "micrograd-model", "version": 1,
     "architecture": {"type": "MLP", "config": {"nin": 2, "nouts": [16, 16, 1], ...}},
     "parameters": {"layers.0.neurons.0.w.0": 0.23, ...},
     "checksum": "sha256:..."}

Floats are written with Python's shortest round-trip repr, so loading gives the exact weights
back. The checksum covers the architecture and the parameter values (not the layout), so
re-indenting the file is fine but a changed number is reported. Saving writes a temporary file
in the same folder, flushes it to disk and renames it over the target, so a crash or a full disk
never leaves a half-written file in place of a good one. Loading parses JSON only (no pickle,
nothing is executed), checks every field, and builds the model completely before returning it.
Optimizer state and training history are not stored.
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
import os
import secrets
from typing import Any

from micrograd.nn import MLP, Module

FORMAT = "micrograd-model"
VERSION = 1

# The module types a file can rebuild from its architecture; others load into an instance.
BUILDERS: dict[str, type[Module]] = {"MLP": MLP}


class ModelFileError(ValueError):
    """A model file that cannot be loaded: corrupt, truncated, wrong version, or edited."""


def _architecture(module: Module) -> dict[str, Any]:
    config = module.config() if hasattr(module, "config") else None
    return {"type": type(module).__name__, "config": config}


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
    parameters = module.state_dict()
    for name, value in parameters.items():
        if not math.isfinite(value):
            raise ValueError(
                f"parameter {name} is {value!r}; refusing to save a model with non-finite "
                "weights (JSON has no nan or infinity)"
            )
    architecture = _architecture(module)
    return {
        "format": FORMAT,
        "version": VERSION,
        "architecture": architecture,
        "parameters": parameters,
        "checksum": _checksum(architecture, parameters),
    }


def save(module: Module, path: str | os.PathLike[str]) -> None:
    """Write `module` to `path` as a model file; the old file stays intact if anything fails."""
    text = json.dumps(to_dict(module), indent=1, allow_nan=False) + "\n"
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    # O_EXCL: never write through someone else's file; mode 0o666 less the umask, like open().
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())  # the bytes are on disk before the rename makes them visible
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_folder(folder)


def _fsync_folder(folder: str) -> None:
    # Makes the rename itself durable on POSIX; not possible (nor needed) everywhere.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


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


def read(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Parse and check a model file; returns its contents without building anything."""
    where = os.fspath(path)
    with open(where, "rb") as f:
        raw = f.read()
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


def load(path: str | os.PathLike[str], expected: type[Module] | None = None) -> Module:
    """Build the module a model file describes and fill in its weights.

    `expected` (a Module class) makes a file holding another kind of module an error.
    """
    contents = read(path)
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


def _check_mlp_size(config: object, count: int, path: str | os.PathLike[str]) -> None:
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
    if expected != count:
        raise ModelFileError(
            f"{os.fspath(path)}: the architecture has {expected} parameters but the file holds "
            f"{count}"
        )


def load_into(module: Module, path: str | os.PathLike[str]) -> Module:
    """Load a model file's weights into an existing module of the same architecture."""
    contents = read(path)
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
