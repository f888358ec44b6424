"""micrograd.files: atomic writes that keep a file's mode and owner, used by every writer."""

import os

import pytest

from micrograd import files
from micrograd.files import write_atomically

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def test_text_and_bytes_are_written(tmp_path):
    write_atomically(tmp_path / "a.txt", "grad ∂")
    write_atomically(tmp_path / "b.bin", b"\x00\xff")
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "grad ∂"
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\xff"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.bin"]  # no temporary left


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o444, 0o755])
def test_an_overwritten_file_keeps_its_mode(tmp_path, mode):
    path = tmp_path / "f"
    path.write_text("old")
    os.chmod(path, mode)
    write_atomically(path, "new")
    assert os.stat(path).st_mode & 0o7777 == mode
    assert path.read_text() == "new"


@pytest.mark.skipif(not IS_ROOT, reason="giving a file to another user needs root")
def test_an_overwritten_file_keeps_its_owner_and_group(tmp_path):
    path = tmp_path / "f"
    path.write_text("old")
    os.chown(path, 12345, 23456)
    write_atomically(path, "new")
    found = os.stat(path)
    assert (found.st_uid, found.st_gid) == (12345, 23456)
    assert path.read_text() == "new"


def test_a_symlink_stays_a_symlink(tmp_path):
    real = tmp_path / "real"
    real.write_text("old")
    link = tmp_path / "link"
    link.symlink_to(real)
    write_atomically(link, "new")
    assert link.is_symlink()
    assert real.read_text() == "new"


def test_a_long_valid_name_is_written(tmp_path):
    name = "é" * 120 + ".json"  # 245 bytes: valid, but too long with a temporary suffix added
    write_atomically(tmp_path / name, "x")
    assert (tmp_path / name).read_text() == "x"


def test_a_failure_before_the_rename_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "f"
    path.write_text("old")

    def crash(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "replace", crash)
    with pytest.raises(OSError) as error:
        write_atomically(path, "new")
    assert error.value.filename == str(path)  # the user's path, not the temporary one
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f"]


def test_a_missing_folder_is_named(tmp_path):
    target = tmp_path / "missing" / "f"
    with pytest.raises(FileNotFoundError) as error:
        write_atomically(target, "x")
    assert error.value.filename == str(target)
    assert str(tmp_path / "missing") in str(error.value)


class _Figure:
    """Stands in for a matplotlib figure: savefig writes the format it was asked for."""

    def savefig(self, buffer, format, **options):
        buffer.write(f"{format} {sorted(options.items())}".encode())


def test_a_figure_is_written_in_its_suffixs_format(tmp_path):
    files.write_figure(_Figure(), tmp_path / "plot.svg", dpi=100)
    assert (tmp_path / "plot.svg").read_text() == "svg [('dpi', 100)]"


def test_every_writer_of_the_package_goes_through_files():
    # A writer that opens files itself would lose the atomicity and the kept mode and owner.
    root = os.path.dirname(files.__file__)
    offenders = []
    for folder, _, names in os.walk(root):
        for name in names:
            if not name.endswith(".py") or name == "files.py":
                continue
            text = open(os.path.join(folder, name), encoding="utf-8").read()
            for needle in ("write_text(", "write_bytes(", ".savefig(path", "os.replace("):
                if needle in text:
                    offenders.append(f"{name}: {needle}")
    assert not offenders
