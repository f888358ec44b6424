"""Model files: exact round trip, atomic writes, and a clear error for every kind of bad file."""

import json
import os
import tempfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from micrograd import MLP, Module, Value, serialize
from micrograd.serialize import ModelFileError, load, load_into, read, save


def model():
    return MLP(2, [4, 3, 1], activation="tanh", output_activation="sigmoid", seed=7)


def outputs(m, points=((0.3, -1.2), (2.0, 0.5), (-0.7, 0.0))):
    return [m(list(p)).data for p in points]


def test_round_trip_is_exact(tmp_path):
    m = model()
    path = tmp_path / "m.json"
    m.save(path)
    back = MLP.load(path)
    assert isinstance(back, MLP)
    assert back.config() == m.config()
    assert back.state_dict() == m.state_dict()  # bit for bit: floats are written with repr
    assert outputs(back) == outputs(m)


def test_file_is_plain_json_with_version_and_architecture(tmp_path):
    path = tmp_path / "m.json"
    save(model(), path)
    data = json.loads(path.read_text())
    assert data["format"] == "micrograd-model" and data["version"] == 1
    assert data["architecture"] == {
        "type": "MLP",
        "config": {
            "nin": 2,
            "nouts": [4, 3, 1],
            "activation": "tanh",
            "output_activation": "sigmoid",
        },
    }
    assert list(data["parameters"]) == [name for name, _ in model().named_parameters()]


def test_reformatting_the_json_is_fine(tmp_path):
    path = tmp_path / "m.json"
    save(model(), path)
    path.write_text(json.dumps(json.loads(path.read_text()), indent=8))
    assert load(path).state_dict() == model().state_dict()


def test_load_leaves_global_random_state_alone(tmp_path):
    import random

    path = tmp_path / "m.json"
    save(model(), path)
    random.seed(5)
    expected = random.random()
    random.seed(5)
    load(path)
    assert random.random() == expected


def test_load_into_existing_module(tmp_path):
    path = tmp_path / "m.json"
    save(model(), path)
    other = MLP(2, [4, 3, 1], activation="tanh", output_activation="sigmoid", seed=99)
    load_into(other, path)
    assert other.state_dict() == model().state_dict()


class Pair(Module):
    def __init__(self):
        self.a = Value(1.5)
        self.b = [Value(-2.0)]

    def forward(self, x):
        return self.a * x + self.b[0]


def test_custom_module_saves_and_loads_into_an_instance(tmp_path):
    path = tmp_path / "pair.json"
    p = Pair()
    p.a.data = 4.25
    p.save(path)
    fresh = Pair()
    load_into(fresh, path)
    assert fresh.state_dict() == {"a": 4.25, "b.0": -2.0}
    with pytest.raises(ModelFileError, match="cannot be rebuilt"):
        Pair.load(path)


def edit(path, change):
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def set_param(data, value):
    data["parameters"]["layers.0.neurons.0.w.0"] = value


BAD_FILES = [
    ("truncated", lambda p: p.write_text(p.read_text()[:200]), "truncated"),
    ("empty", lambda p: p.write_bytes(b""), "corrupt model file"),
    ("binary", lambda p: p.write_bytes(b"\x80\x04\x95 pickle"), "not UTF-8"),
    ("not json", lambda p: p.write_text("import os; os.system('echo hi')"), "corrupt"),
    ("a list", lambda p: p.write_text("[1, 2]"), "not a micrograd model file"),
    (
        "newer version",
        lambda p: edit(p, lambda d: d.update(version=2)),
        "version 2 \\(written by a newer micrograd\\); this micrograd reads version 1",
    ),
    ("version string", lambda p: edit(p, lambda d: d.update(version="1")), "version must be"),
    ("hand-edited weight", lambda p: edit(p, lambda d: set_param(d, 0.5)), "checksum"),
    ("string weight", lambda p: edit(p, lambda d: set_param(d, "0.5")), "must be a number"),
    ("bool weight", lambda p: edit(p, lambda d: set_param(d, True)), "must be a number"),
    ("list weight", lambda p: edit(p, lambda d: set_param(d, [1.0])), "must be a number"),
    (
        "nan weight",
        lambda p: p.write_text(
            p.read_text().replace('"layers.0.neurons.0.w.0": ', '"x": NaN, "y": ')
        ),
        "NaN is not a valid number",
    ),
    (
        "huge weight",
        lambda p: edit(p, lambda d: set_param(d, 10**400)),
        "must be a finite number",
    ),
    (
        "duplicate key",
        lambda p: p.write_text(p.read_text().replace('{\n "format"', '{"version": 1,\n "format"')),
        "appears twice",
    ),
    (
        "missing weight",
        lambda p: edit(p, lambda d: d["parameters"].pop("layers.2.neurons.0.b")),
        "checksum",
    ),
    ("extra key", lambda p: edit(p, lambda d: d.update(code="print(1)")), "unexpected top-level"),
    (
        "bad architecture",
        lambda p: edit(p, lambda d: d["architecture"].update(type=["MLP"])),
        "architecture must be",
    ),
    (
        "integer of 5000 digits",
        lambda p: p.write_text(p.read_text().replace('"version": 1', '"version": ' + "9" * 5000)),
        "corrupt model file: Exceeds the limit",
    ),
    (
        "1e999 literal",
        lambda p: p.write_text(
            p.read_text().replace('"layers.0.neurons.0.w.0": ', '"x": 1e999, "y": ')
        ),
        "1e999 is out of the range of a float",
    ),
    (
        "1e999 in the architecture",
        lambda p: p.write_text(p.read_text().replace('"tanh"', "-1e999")),
        "-1e999 is out of the range of a float",
    ),
    (
        "-Infinity literal",
        lambda p: p.write_text(p.read_text().replace('"version": 1', '"version": -Infinity')),
        "-Infinity is not a valid number",
    ),
    ("byte order mark", lambda p: p.write_text("\ufeff" + p.read_text()), "BOM"),
    ("two objects", lambda p: p.write_text(p.read_text() * 2), "Extra data"),
]


@pytest.mark.parametrize(("name", "damage", "message"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_files_raise_a_clear_error(tmp_path, name, damage, message):
    path = tmp_path / "m.json"
    save(model(), path)
    damage(path)
    with pytest.raises(ModelFileError, match=message):
        MLP.load(path)
    target = model()
    before = target.state_dict()
    with pytest.raises(ModelFileError):
        load_into(target, path)
    assert target.state_dict() == before  # nothing half-applied


def nested(depth):
    value = []
    for _ in range(depth):
        value = [value]
    return value


def resign(data):
    """Recompute the checksum, as a careful forger would: the checks behind it must still hold."""
    data["checksum"] = serialize._checksum(data["architecture"], data["parameters"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["parameters"].update(
                {"layers.2.neurons.0.bias": d["parameters"].pop("layers.2.neurons.0.b")}
            ),
            r"missing keys \['layers.2.neurons.0.b'\]; "
            r"unexpected keys \['layers.2.neurons.0.bias'\]",
        ),
        (
            lambda d: d["parameters"].pop("layers.2.neurons.0.b"),
            "has 31 parameters but the file holds 30",
        ),
        (lambda d: d["architecture"]["config"].update(nouts=[4, 2, 1]), "has 25 parameters"),
        (lambda d: d["architecture"]["config"].update(nouts=[4, 0, 1]), "invalid MLP architecture"),
        (lambda d: d["architecture"]["config"].update(nouts=[4, 2, 1]), "has 25 parameters"),
        (lambda d: d["architecture"]["config"].update(evil="x"), "invalid MLP architecture"),
        (lambda d: d["architecture"].update(type="Sequential"), "holds a Sequential"),
        # Wrong types, giant arrays and deep nesting behind a valid checksum.
        (lambda d: d["architecture"]["config"].update(nin="2"), "invalid MLP architecture"),
        (lambda d: d["architecture"]["config"].update(nin=2.0), "invalid MLP architecture"),
        (lambda d: d["architecture"]["config"].update(nouts={"a": 1}), "invalid MLP"),
        (lambda d: d["architecture"].update(config=None), "invalid MLP architecture None"),
        (lambda d: d["architecture"]["config"].update(nin=nested(900)), "invalid MLP"),
        (lambda d: d["architecture"]["config"].update(nouts=[1] * 10**6), "has 2000001 param"),
        (lambda d: d["parameters"].update({f"k{i}": 0.0 for i in range(10**5)}), "holds 100031"),
        (lambda d: d.update(parameters={}), "but the file holds 0"),
    ],
)
def test_consistent_but_wrong_contents_are_rejected(tmp_path, change, message):
    path = tmp_path / "m.json"
    save(model(), path)
    edit(path, lambda d: (change(d), resign(d)))
    with pytest.raises(ModelFileError, match=message):
        MLP.load(path)


def test_load_into_rejects_other_architecture(tmp_path):
    path = tmp_path / "m.json"
    save(model(), path)
    other = MLP(2, [4, 1], seed=0)
    before = other.state_dict()
    with pytest.raises(ModelFileError, match="but the module is"):
        load_into(other, path)
    assert other.state_dict() == before


def test_non_finite_weights_are_not_saved(tmp_path):
    m = model()
    m.layers[0].neurons[0].b.data = float("nan")
    with pytest.raises(ValueError, match="non-finite"):
        save(m, tmp_path / "m.json")
    assert os.listdir(tmp_path) == []


def test_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "m.json"
    save(model(), path)
    good = path.read_bytes()

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(serialize.os, "fsync", disk_full)
    changed = model()
    changed.layers[0].neurons[0].b.data = 3.0
    with pytest.raises(OSError, match="No space left"):
        save(changed, path)
    assert path.read_bytes() == good
    assert os.listdir(tmp_path) == ["m.json"]
    monkeypatch.undo()
    assert read(path)["parameters"] == model().state_dict()


def test_crash_before_rename_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "m.json"
    save(model(), path)
    good = path.read_bytes()

    def crash(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(serialize.os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        save(MLP(2, [1], seed=1), path)
    assert path.read_bytes() == good
    assert os.listdir(tmp_path) == ["m.json"]


def test_save_rejects_non_modules(tmp_path):
    with pytest.raises(TypeError, match="takes a micrograd Module, received dict"):
        save({"w": 1.0}, tmp_path / "m.json")


def test_file_mode_follows_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        save(model(), tmp_path / "m.json")
    finally:
        os.umask(old)
    assert (tmp_path / "m.json").stat().st_mode & 0o777 == 0o644


def test_deeply_nested_json_is_a_clear_error(tmp_path):
    path = tmp_path / "m.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ModelFileError, match="nested too deeply"):
        load(path)


def test_architecture_bigger_than_the_weights_is_refused_before_building(tmp_path, monkeypatch):
    path = tmp_path / "m.json"
    save(model(), path)
    edit(path, lambda d: (d["architecture"]["config"].update(nouts=[10**9, 1]), resign(d)))
    built = []
    monkeypatch.setitem(serialize.BUILDERS, "MLP", lambda **kw: built.append(kw))
    with pytest.raises(ModelFileError, match="has 4000000001 parameters but the file holds 31"):
        load(path)
    assert built == []


# Hostile files generated by hypothesis: whatever is done to a good file, loading either raises
# ModelFileError or (when the change is harmless, or re-signed) returns a model.

RAW_VALUES = [
    "9" * 5000,
    "1e999",
    "-Infinity",
    "NaN",
    "[" * 3000 + "]" * 3000,
    '"' + "x" * 10**5 + '"',
]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)
GOOD = json.dumps(serialize.to_dict(model()), indent=1)


def load_text(text: str | bytes):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "m.json")
        with open(path, "wb") as f:
            f.write(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text)
        return load(path)


def paths_in(data, prefix=()):
    """Every place in a JSON document: a key path into nested objects and arrays."""
    places, stack = [], [(prefix, data)]
    while stack:
        path, value = stack.pop()
        places.append(path)
        if isinstance(value, dict):
            stack.extend((path + (k,), v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((path + (i,), v) for i, v in enumerate(value))
    return places


@given(cut=st.integers(0, len(GOOD) - 1))
def test_a_truncated_file_is_refused(cut):
    text = GOOD[:cut]
    if not text.strip().endswith("}"):
        with pytest.raises(ModelFileError):
            load_text(text)


@given(position=st.integers(0, len(GOOD) - 1), junk=st.binary(min_size=1, max_size=3))
def test_damaged_bytes_are_refused_or_harmless(position, junk):
    raw = GOOD.encode()
    try:
        loaded = load_text(raw[:position] + junk + raw[position + len(junk) :])
    except ModelFileError:
        return
    assert loaded.state_dict() == model().state_dict()  # a change the checksum does not cover


@given(data=st.data(), re_sign=st.booleans())
def test_any_value_anywhere_is_refused_or_loads(data, re_sign):
    document = json.loads(GOOD)
    place = data.draw(st.sampled_from(paths_in(document)[1:]), label="place")
    raw = data.draw(st.none() | st.sampled_from(RAW_VALUES), label="raw")
    target = document
    for key in place[:-1]:
        target = target[key]
    target[place[-1]] = "@@HOLE@@" if raw is not None else data.draw(json_values, label="value")
    if re_sign and isinstance(document.get("architecture"), dict):
        try:
            document["checksum"] = serialize._checksum(
                document["architecture"], document.get("parameters")
            )
        except (TypeError, ValueError):
            pass  # not encodable as the checksum needs: the loader must refuse it anyway
    text = json.dumps(document, allow_nan=True).replace('"@@HOLE@@"', raw or '"@@HOLE@@"')
    try:
        loaded = load_text(text)
    except ModelFileError:
        return
    assert isinstance(loaded, Module)
    if not re_sign:
        assert loaded.state_dict() == model().state_dict()


def test_boolean_nin_is_refused(tmp_path):
    path = tmp_path / "m.json"
    save(MLP(1, [2, 1], seed=0), path)
    edit(path, lambda d: (d["architecture"]["config"].update(nin=True), resign(d)))
    with pytest.raises(ModelFileError, match="invalid MLP architecture"):
        load(path)


def test_trailing_junk_is_not_called_truncated(tmp_path):
    path = tmp_path / "m.json"
    save(model(), path)
    path.write_text(path.read_text() + "junk")
    with pytest.raises(ModelFileError) as info:
        load(path)
    assert "Extra data" in str(info.value) and "truncated" not in str(info.value)
