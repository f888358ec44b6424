"""micrograd.files: atomic writes that keep a file's mode and owner, used by every writer."""

import os
import socket
import stat

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
    write_atomically(path, "new", overwrite_read_only=mode == 0o444)
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

    def crash(*args, **kwargs):
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


def _special_files(folder):
    """(kind, path) of the things that are not regular files and that this system lets us make."""
    made = [("folder", folder / "a-folder")]
    os.mkdir(made[0][1])
    os.mkfifo(folder / "a-fifo")
    made.append(("FIFO", folder / "a-fifo"))
    unix = socket.socket(socket.AF_UNIX)
    unix.bind(str(folder / "a-socket"))
    unix.close()
    made.append(("socket", folder / "a-socket"))
    try:  # a copy of /dev/null: needs root (CAP_MKNOD)
        os.mknod(folder / "a-null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        made.append(("character device", folder / "a-null"))
    except OSError:
        pass
    return made


def test_a_path_that_is_not_a_regular_file_is_refused_and_left_as_it_was(tmp_path):
    for kind, path in _special_files(tmp_path):
        before = os.lstat(path)
        for writer in (write_atomically, files.check_writable):
            expected = IsADirectoryError if kind == "folder" else files.NotARegularFileError
            with pytest.raises(expected) as error:
                writer(path, *(["x"] if writer is write_atomically else []))
            assert error.value.filename == str(path)
            assert kind in str(error.value) and "regular file" in str(error.value)
        after = os.lstat(path)
        assert stat.S_IFMT(after.st_mode) == stat.S_IFMT(before.st_mode), kind
        assert after.st_ino == before.st_ino
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_symlink_to_a_fifo_is_refused(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "link").symlink_to(tmp_path / "fifo")
    with pytest.raises(files.NotARegularFileError, match="FIFO"):
        write_atomically(tmp_path / "link", "x")
    assert stat.S_ISFIFO(os.stat(tmp_path / "fifo").st_mode)


@pytest.mark.parametrize("mode", [0o444, 0o400, 0o555])
def test_a_read_only_file_is_refused_unless_asked_for(tmp_path, mode):
    # Decided from the mode bits, so root (who may write anything) is refused too.
    path = tmp_path / "model.json"
    path.write_text("old")
    os.chmod(path, mode)
    with pytest.raises(PermissionError) as error:
        write_atomically(path, "new")
    assert error.value.filename == str(path)
    assert "read-only" in str(error.value) and "overwrite_read_only=True" in str(error.value)
    with pytest.raises(PermissionError):
        files.check_writable(path)
    assert path.read_text() == "old"
    write_atomically(path, "new", overwrite_read_only=True)
    assert path.read_text() == "new"
    assert os.stat(path).st_mode & 0o7777 == mode


def test_whose_write_bit_counts(monkeypatch):
    def stat_of(mode, uid, gid):
        return os.stat_result((stat.S_IFREG | mode, 0, 0, 1, uid, gid, 0, 0, 0, 0))

    monkeypatch.setattr(files.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(files.os, "getegid", lambda: 1000)
    monkeypatch.setattr(files.os, "getgroups", lambda: [27])
    assert files._may_write(stat_of(0o644, 1000, 1000))
    assert not files._may_write(stat_of(0o464, 1000, 1000))  # the owner's bit, not the group's
    assert files._may_write(stat_of(0o464, 0, 27))  # a group of ours
    assert not files._may_write(stat_of(0o644, 0, 0))  # someone else's
    assert files._may_write(stat_of(0o646, 0, 0))
    monkeypatch.setattr(files.os, "geteuid", lambda: 0)
    assert files._may_write(stat_of(0o600, 1000, 1000))  # root: any write bit
    assert not files._may_write(stat_of(0o444, 0, 0))


def test_a_path_near_the_systems_length_limit_is_written(tmp_path):
    # The target's full path fits in PATH_MAX (4,096 bytes with its NUL) but the temporary
    # file's full path would not: the write goes through the open folder instead.
    folder = str(tmp_path)
    while len(os.fsencode(folder)) < 4088 - 220:
        folder = os.path.join(folder, "d" * 200)
    folder = os.path.join(folder, "d" * (4088 - 1 - len(os.fsencode(folder))))
    os.makedirs(folder)
    path = os.path.join(folder, "m.json")
    assert len(os.fsencode(path)) == 4095
    write_atomically(path, "x")
    with open(path) as f:
        assert f.read() == "x"
    write_atomically(path, "y")  # and overwritten
    with open(path) as f:
        assert f.read() == "y"
