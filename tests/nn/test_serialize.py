"""Model files: exact round trip, atomic writes, and a clear error for every kind of bad file."""

import errno
import json
import math
import os
import tempfile
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micrograd import MLP, Module, Value, serialize
from micrograd.serialize import ModelFileError, load, load_into, read, save
from tests.references import examples, facts


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
        # The two giant files cost a second between them; the quick loop keeps the small cases
        # of the same checks ("holds 30" above, a 4,000,000,001-parameter claim below).
        pytest.param(
            lambda d: d["architecture"]["config"].update(nouts=[1] * 10**6),
            "has 2000001 param",
            marks=pytest.mark.slow,
        ),
        pytest.param(
            lambda d: d["parameters"].update({f"k{i}": 0.0 for i in range(10**5)}),
            "holds 100031",
            marks=pytest.mark.slow,
        ),
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

    def crash(src, dst, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(serialize.os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        save(MLP(2, [1], seed=1), path)
    assert path.read_bytes() == good
    assert os.listdir(tmp_path) == ["m.json"]


def test_save_rejects_non_modules(tmp_path):
    with pytest.raises(TypeError, match=facts("save", "Module", "dict")):
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


# Issue 13: every model the package saves loads back (or save refuses up front), permissions,
# long file names, errors that name the user's path, and a size limit read before the file.
# Error messages are checked for the facts they must carry (names, numbers), not their wording.


def has_facts(error: BaseException, *facts: str) -> bool:
    return all(fact in str(error) for fact in facts)


def test_int_weights_save_and_load_back(tmp_path):
    m = MLP(2, [2, 1], seed=0)
    m.layers[0].neurons[0].b.data = 0  # an int, as a user resetting a bias writes it
    m.layers[1].neurons[0].w[1].data = -3
    path = tmp_path / "m.json"
    m.save(path)
    back = MLP.load(path)
    assert back.state_dict() == m.state_dict()
    assert all(type(v) is float for v in back.state_dict().values())
    assert outputs(back) == outputs(m)


def test_numpy_weights_save_as_floats(tmp_path):
    np = pytest.importorskip("numpy")
    m = MLP(2, [1], seed=0)
    m.layers[0].neurons[0].b.data = np.float32(0.1)
    m.layers[0].neurons[0].w[0].data = np.int64(7)
    m.save(tmp_path / "m.json")
    back = MLP.load(tmp_path / "m.json").state_dict()
    assert back["layers.0.neurons.0.b"] == float(np.float32(0.1))
    assert back["layers.0.neurons.0.w.0"] == 7.0


@pytest.mark.parametrize(
    ("weight", "facts"),
    [
        ("0.5", ["str", "'0.5'"]),
        (True, []),  # the engine's number policy: a bool is the number 1
        (10**400, ["inf"]),  # an int beyond the float range is inf, with a warning
        pytest.param(10**5000, ["inf"], id="int of 5001 digits"),
        (float("nan"), ["nan"]),
    ],
)
def test_a_weight_that_cannot_load_back_is_refused_before_the_file_is_touched(
    tmp_path, weight, facts
):
    path = tmp_path / "m.json"
    path.write_text("the old file")
    m = MLP(2, [1], seed=0)
    b = m.layers[0].neurons[0].b
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            b.data = weight
        except TypeError as refused:  # `.data` takes real numbers only
            assert has_facts(refused, *facts)
            assert path.read_text() == "the old file"
            return
    assert type(b.data) is float  # normalised at assignment, as the engine promises
    if math.isfinite(b.data):  # a number JSON holds: it saves and loads back as it reads
        m.save(path)
        assert MLP.load(path).state_dict()["layers.0.neurons.0.b"] == b.data
        return
    with pytest.raises(ValueError) as info:
        m.save(path)
    assert has_facts(info.value, "layers.0.neurons.0.b", *facts)
    assert path.read_text() == "the old file"
    assert os.listdir(tmp_path) == ["m.json"]


class Configured(Module):
    """A custom module whose config() is whatever it was built with."""

    def __init__(self, config):
        self.settings = config
        self.w = Value(0.25)

    def config(self):
        return self.settings


def test_tuple_and_int_key_config_loads_into_the_class_that_wrote_it(tmp_path):
    config = {"shape": (2, 3), "table": {1: "a", 2: (None, 1.5)}, "nested": [(1, (2,))]}
    path = tmp_path / "c.json"
    saved = Configured(config)
    saved.w.data = -4.5
    saved.save(path)
    fresh = Configured(config)
    load_into(fresh, path)
    assert fresh.state_dict() == {"w": -4.5}
    # Stored as JSON stores it; the reference is the json module itself.
    assert read(path)["architecture"]["config"] == json.loads(json.dumps(config))
    # A different config is still a different architecture.
    with pytest.raises(ModelFileError, match="but the module is"):
        load_into(Configured({**config, "shape": (3, 2)}), path)


@pytest.mark.parametrize(
    ("config", "error", "facts"),
    [
        ({"keep": {1, 2}}, TypeError, ["Configured.config()['keep']", "set"]),
        ({"rate": float("nan")}, ValueError, ["['rate']", "nan"]),
        ({"deep": [[float("inf")]]}, ValueError, ["['deep'][0][0]", "inf"]),
        ({"f": len}, TypeError, ["['f']", "builtin_function_or_method"]),
        ({"t": {1: "a", "1": "b"}}, ValueError, ["['t']", "'1'"]),
        ({"t": {1.5: "a"}}, TypeError, ["['t']", "1.5", "float"]),
        ({"t": {(1, 2): "a"}}, TypeError, ["['t']", "(1, 2)", "tuple"]),
        ({"t": {True: "a"}}, TypeError, ["['t']", "True", "bool"]),
        ({"n": 10**5000}, ValueError, ["['n']", "16610 bits"]),
        ([1, 2], TypeError, ["Configured.config()", "dict", "list"]),
    ],
)
def test_a_config_that_cannot_load_back_is_refused_before_the_file_is_touched(
    tmp_path, config, error, facts
):
    path = tmp_path / "c.json"
    path.write_text("the old file")
    with pytest.raises(error) as info:
        Configured(config).save(path)
    assert has_facts(info.value, *facts)
    assert path.read_text() == "the old file"
    assert os.listdir(tmp_path) == ["c.json"]


def test_a_config_nested_too_deeply_is_refused(tmp_path):
    config: dict = {"x": None}
    for _ in range(serialize.MAX_CONFIG_DEPTH + 1):
        config = {"x": [config]}
    with pytest.raises(ValueError) as info:
        Configured(config).save(tmp_path / "c.json")
    assert has_facts(info.value, str(serialize.MAX_CONFIG_DEPTH), "['x'][0]['x']")
    assert not (tmp_path / "c.json").exists()


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o444])
def test_overwriting_keeps_the_files_permissions(tmp_path, mode):
    path = tmp_path / "m.json"
    model().save(path)
    os.chmod(path, mode)
    model().save(path, overwrite_read_only=mode == 0o444)
    assert os.stat(path).st_mode & 0o777 == mode
    assert MLP.load(path).state_dict() == model().state_dict()


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_a_new_file_gets_the_umask_mode(tmp_path, umask):
    old = os.umask(umask)
    try:
        model().save(tmp_path / "m.json")
    finally:
        os.umask(old)
    assert os.stat(tmp_path / "m.json").st_mode & 0o777 == 0o666 & ~umask


def test_saving_through_a_symlink_replaces_the_file_it_points_to(tmp_path):
    real = tmp_path / "real.json"
    link = tmp_path / "link.json"
    Pair().save(real)
    os.chmod(real, 0o600)
    link.symlink_to(real)
    saved = model()
    saved.save(link)
    assert link.is_symlink()
    assert MLP.load(real).state_dict() == saved.state_dict()
    assert os.stat(real).st_mode & 0o777 == 0o600


@pytest.mark.parametrize("length", [240, 255])
def test_a_long_but_valid_file_name_saves(tmp_path, length):
    path = tmp_path / ("m" * (length - 5) + ".json")
    model().save(path)
    assert MLP.load(path).state_dict() == model().state_dict()
    assert os.listdir(tmp_path) == [path.name]  # no temporary file left behind


def test_a_long_non_ascii_file_name_saves(tmp_path):
    path = tmp_path / ("é" * 125 + ".json")  # 255 bytes of UTF-8
    model().save(path)
    assert MLP.load(path).state_dict() == model().state_dict()


def check_names_only_the_users_path(error, path):
    message = str(error)
    assert repr(str(path)) in message
    assert ".tmp" not in message and error.filename == str(path)
    assert error.filename2 is None


def test_saving_into_a_missing_folder_names_the_users_path(tmp_path):
    path = tmp_path / "missing" / "dir" / "m.json"
    with pytest.raises(FileNotFoundError) as info:
        model().save(path)
    check_names_only_the_users_path(info.value, path)
    assert has_facts(info.value, repr(str(path.parent)))  # the folder that is missing


def test_a_file_name_too_long_for_the_folder_names_the_users_path(tmp_path):
    path = tmp_path / ("m" * 300 + ".json")
    with pytest.raises(OSError) as info:
        model().save(path)
    assert info.value.errno == errno.ENAMETOOLONG
    check_names_only_the_users_path(info.value, path)
    assert os.listdir(tmp_path) == []


def test_saving_over_a_folder_names_the_users_path(tmp_path):
    path = tmp_path / "m.json"
    path.mkdir()
    with pytest.raises(IsADirectoryError) as info:
        model().save(path)
    check_names_only_the_users_path(info.value, path)
    assert os.listdir(tmp_path) == ["m.json"]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores permissions")
def test_saving_into_a_read_only_folder_names_the_users_path(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    os.chmod(folder, 0o500)
    try:
        with pytest.raises(PermissionError) as info:
            model().save(folder / "m.json")
    finally:
        os.chmod(folder, 0o700)
    check_names_only_the_users_path(info.value, folder / "m.json")


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path):
    import tracemalloc

    path = tmp_path / "big.json"
    with open(path, "wb") as f:  # sparse: 64 MiB + 1 of zeros, no disk space used
        f.truncate(serialize.MAX_FILE_BYTES + 1)
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError) as info:
            MLP.load(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000  # nothing near the file's size was allocated
    assert has_facts(info.value, str(path), "67,108,865", "67,108,864", "max_bytes=")


def test_the_size_limit_is_a_keyword(tmp_path):
    path = tmp_path / "m.json"
    model().save(path)
    size = path.stat().st_size
    with pytest.raises(ModelFileError) as info:
        load(path, max_bytes=100)
    assert has_facts(info.value, str(path), f"{size:,}", "100")
    with pytest.raises(ModelFileError) as info:
        load_into(model(), path, max_bytes=size - 1)
    assert has_facts(info.value, f"{size:,}", f"{size - 1:,}")
    assert load(path, max_bytes=size).state_dict() == model().state_dict()
    with pytest.raises(ValueError) as info:
        read(path, max_bytes=-1)
    assert has_facts(info.value, "max_bytes", "-1")


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_an_endless_file_is_read_only_up_to_the_limit():
    with pytest.raises(ModelFileError) as info:
        read("/dev/zero", max_bytes=1000)
    assert has_facts(info.value, "/dev/zero", "1,001", "1,000")


# Random module layouts (nested modules, lists and str-keyed dicts of modules) and configs.

NAMES = st.text(alphabet="abcxyz_", min_size=1, max_size=4)
WEIGHTS = st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(10**6), 10**6)


def layouts():
    """A layout: "p" (a parameter), or ("module" | "list" | "dict", children)."""
    return st.recursive(
        st.just("p"),
        lambda inner: st.one_of(
            st.tuples(st.just("module"), st.dictionaries(NAMES, inner, min_size=1, max_size=3)),
            st.tuples(st.just("list"), st.lists(inner, min_size=1, max_size=3)),
            st.tuples(st.just("dict"), st.dictionaries(NAMES, inner, min_size=1, max_size=3)),
        ),
        max_leaves=12,
    )


def no_clashing_keys(d):
    return len({str(k) for k in d}) == len(d)


configs = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(st.text(max_size=4) | st.integers(), inner, max_size=3).filter(
            no_clashing_keys
        )
    ),
    max_leaves=10,
)


class Layout(Module):
    def __init__(self, layout, config, weights):
        self.settings = config
        self.body = build(layout, iter(weights))

    def config(self):
        return self.settings


def build(layout, weights):
    if layout == "p":
        return Value(next(weights, 0.0))
    kind, children = layout
    if kind == "list":
        return [build(child, weights) for child in children]
    built = {name: build(child, weights) for name, child in children.items()}
    if kind == "dict":
        return built
    module = Module()
    for name, child in built.items():
        setattr(module, name, child)
    return module


@settings(max_examples=examples(60), deadline=None)
@given(
    layout=layouts(),
    config=st.dictionaries(st.text(max_size=6) | st.integers(), configs, max_size=4).filter(
        no_clashing_keys
    ),
    weights=st.lists(WEIGHTS, max_size=12),
)
def test_any_layout_and_config_saves_and_loads_back(layout, config, weights):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "m.json")
        saved = Layout(layout, config, weights)
        saved.save(path)
        fresh = Layout(layout, config, [])  # every weight 0.0 until loaded
        load_into(fresh, path)
        expected = {name: float(v) for name, v in saved.state_dict().items()}
        got = fresh.state_dict()
        assert list(got) == list(expected)
        assert [v.hex() for v in got.values()] == [v.hex() for v in expected.values()]
        assert read(path)["architecture"]["config"] == json.loads(json.dumps(config))


def test_module_load_takes_the_size_limit(tmp_path):
    path = tmp_path / "m.json"
    MLP(2, [3, 1], seed=0).save(path)
    size = path.stat().st_size
    with pytest.raises(ValueError) as error:
        MLP.load(path, max_bytes=size - 1)
    assert has_facts(error.value, str(path), f"{size:,}", f"{size - 1:,}")
    assert MLP.load(path, max_bytes=size).state_dict() == MLP(2, [3, 1], seed=0).state_dict()


def test_a_read_only_model_file_is_refused_unless_asked_for(tmp_path):
    # Decided from the mode bits, as cp and torch.save would refuse it, so root is refused too.
    path = tmp_path / "m.json"
    Pair().save(path)
    os.chmod(path, 0o444)
    before = path.read_bytes()
    with pytest.raises(PermissionError) as info:
        model().save(path)
    assert info.value.filename == str(path) and "read-only" in str(info.value)
    assert path.read_bytes() == before
    model().save(path, overwrite_read_only=True)
    assert MLP.load(path).state_dict() == model().state_dict()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_saving_onto_a_fifo_a_device_or_a_folder_is_refused_and_leaves_it(tmp_path):
    import stat

    targets = {"FIFO": tmp_path / "fifo", "folder": tmp_path / "folder"}
    os.mkfifo(targets["FIFO"])
    os.mkdir(targets["folder"])
    try:  # a copy of /dev/null (needs root): saving onto /dev/null must not replace it
        os.mknod(tmp_path / "null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        targets["character device"] = tmp_path / "null"
    except OSError:
        pass
    for kind, path in targets.items():
        mode = os.lstat(path).st_mode
        with pytest.raises(OSError) as info:
            model().save(path)
        assert info.value.filename == str(path) and kind in str(info.value)
        assert os.lstat(path).st_mode == mode


def test_a_huge_size_limit_does_not_allocate_it(tmp_path):
    # read(max_bytes + 1) asked Python for a buffer of that size: MemoryError on a 1 KB file.
    path = tmp_path / "m.json"
    model().save(path)
    assert MLP.load(path, max_bytes=2**40).state_dict() == model().state_dict()
    assert serialize.read(path, max_bytes=2**62)["parameters"] == model().state_dict()


def test_a_config_attribute_that_is_not_a_method_is_named():
    class Configured(Module):
        def __init__(self):
            self.w = Value(1.0)
            self.config = {"width": 3}  # an attribute, not PyTorch's nor our method

    with pytest.raises(TypeError, match="Configured.config is a dict attribute"):
        Configured().save("never-written.json")


def test_a_module_with_slots_saves_its_weights(tmp_path):
    class Slotted(Module):
        __slots__ = ("w",)

        def __init__(self):
            self.w = Value(2.5)

    Slotted().save(tmp_path / "s.json")
    loaded = Slotted()
    loaded.w.data = 0.0
    serialize.load_into(loaded, tmp_path / "s.json")
    assert loaded.w.data == 2.5
