"""Writing a file so that nothing is lost: the one way the package writes files.

`write_atomically(path, data)` writes through a temporary file in the same folder and renames it
over `path`, so a reader sees the old file or the new one, never half of either, and a failure
(a full disk, an interrupt, an error while rendering) leaves the old file as it was. An existing
file keeps its permission bits and, where the user may set them, its owner and group; a symlink
stays a symlink (the file it points to is replaced). Errors name the user's path, never the
temporary file's. Imports nothing of the package.

What a write refuses, before anything is written:

- a path that exists and is not a regular file (a folder, a FIFO, a device such as `/dev/null`,
  a socket): replacing it with a file would change what it is (`IsADirectoryError` for a
  folder, `NotARegularFileError` for the others);
- a read-only file, unless the caller passes `overwrite_read_only=True` (`PermissionError` naming
  the file). Read-only is decided from the mode bits, not by trying: a file with no write bit
  set, or one the caller's user and groups may not write, is read-only, for root too (root may
  write anything, so asking the system would never refuse it).

The temporary file is opened, renamed and fsynced relative to its folder, so a path close to
the system's length limit (4,096 bytes on Linux) can be written even though the temporary name
is longer than the target's.
"""

from __future__ import annotations

import errno
import io
import os
import secrets
import stat
from typing import Any

# The temporary file's name is `.NAME.RANDOM.tmp`, NAME cut to this many bytes: a long but valid
# file name still leaves room for the rest (the limit is 255 bytes on most file systems, 143 on
# eCryptfs).
_TEMP_NAME_BYTES = 100


class NotARegularFileError(OSError):
    """The path exists and is a FIFO, a device or a socket (a folder is `IsADirectoryError`)."""


def write_atomically(
    path: str | os.PathLike[str], data: bytes | str, *, overwrite_read_only: bool = False
) -> None:
    """Write `data` (text is written as UTF-8) to `path` atomically, keeping mode and owner.

    A path that is not a regular file is refused, and so is a read-only file unless
    `overwrite_read_only` is true (see the module's docstring).
    """
    where = os.fspath(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        _replace(where, payload, overwrite_read_only)
    except OSError as error:
        raise _naming(error, where) from None


def check_writable(path: str | os.PathLike[str], *, overwrite_read_only: bool = False) -> None:
    """Raise what `write_atomically(path, ...)` would refuse, without writing anything.

    For writers that do expensive work first (rendering) or write several files.
    """
    where = os.fspath(path)
    try:
        old = os.stat(os.path.realpath(where))
    except FileNotFoundError:
        return
    except OSError as error:
        raise _naming(error, where) from None
    _refuse(where, old, overwrite_read_only)


def write_figure(
    figure: Any, path: str | os.PathLike[str], *, overwrite_read_only: bool = False, **savefig: Any
) -> None:
    """Write a matplotlib figure to `path` atomically; the format comes from the suffix.

    `savefig` holds `Figure.savefig`'s keyword arguments (dpi, bbox_inches, ...).
    """
    check_writable(path, overwrite_read_only=overwrite_read_only)  # before rendering
    suffix = os.path.splitext(os.fspath(path))[1].lstrip(".").lower()
    buffer = io.BytesIO()
    figure.savefig(buffer, format=suffix or "png", **savefig)
    write_atomically(path, buffer.getvalue(), overwrite_read_only=overwrite_read_only)


_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _refuse(where: str, old: os.stat_result, overwrite_read_only: bool) -> None:
    """Raise if `old` (the stat of what `where` names) must not be replaced."""
    if not stat.S_ISREG(old.st_mode):
        kind = next((name for test, name in _KINDS if test(old.st_mode)), "not a regular file")
        reason = (
            f"is {kind}; expected a regular file or a path that does not exist (replacing it "
            "with a file would change what it is)"
        )
        if stat.S_ISDIR(old.st_mode):
            raise IsADirectoryError(errno.EISDIR, reason, where)
        raise NotARegularFileError(errno.EEXIST, reason, where)
    if not overwrite_read_only and not _may_write(old):
        raise PermissionError(
            errno.EACCES,
            f"the file is read-only (mode {stat.filemode(old.st_mode)}); expected a writable "
            "file (pass overwrite_read_only=True to replace it anyway)",
            where,
        )


def _may_write(old: os.stat_result) -> bool:
    """Whether the mode bits let this process's user write the file (root included)."""
    mode = old.st_mode
    if not mode & 0o222:
        return False
    if not hasattr(os, "geteuid"):  # no POSIX owners (Windows): the write bits decide
        return True
    uid = os.geteuid()
    if uid == 0:
        return True  # some write bit is set, and root is every class
    if uid == old.st_uid:
        return bool(mode & stat.S_IWUSR)
    if old.st_gid == os.getegid() or old.st_gid in os.getgroups():
        return bool(mode & stat.S_IWGRP)
    return bool(mode & stat.S_IWOTH)


def _replace(where: str, payload: bytes, overwrite_read_only: bool) -> None:
    target = os.path.realpath(where)
    folder = os.path.dirname(target)
    try:
        old: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        old = None
    if old is not None:
        _refuse(where, old, overwrite_read_only)
    name = os.path.basename(target)
    while len(os.fsencode(name)) > _TEMP_NAME_BYTES:  # cut whole characters, not bytes
        name = name[:-1]
    temporary = f".{name}.{secrets.token_hex(6)}.tmp"
    # Names relative to the open folder: the temporary name is longer than the target's, and a
    # full path near the system's limit would be too long with it.
    relative = os.open in os.supports_dir_fd and os.rename in os.supports_dir_fd  # replace too
    folder_fd = os.open(folder, os.O_RDONLY) if relative else None
    if folder_fd is None:
        temporary = os.path.join(folder, temporary)
        final = target
    else:
        final = os.path.basename(target)
    try:
        _write_and_rename(temporary, final, folder_fd, payload, old)
        _fsync_folder(folder, folder_fd)
    finally:
        if folder_fd is not None:
            os.close(folder_fd)


def _write_and_rename(
    temporary: str, final: str, folder_fd: int | None, payload: bytes, old: os.stat_result | None
) -> None:
    # O_EXCL: never write through someone else's file; mode 0o666 less the umask, like open().
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666, dir_fd=folder_fd)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(payload)
            file.flush()
            os.fsync(file.fileno())  # the bytes are on disk before the rename shows them
            if old is not None:
                _keep_owner(file.fileno(), old)
                # after chown, which may clear setuid
                os.chmod(file.fileno(), stat.S_IMODE(old.st_mode))
        os.replace(temporary, final, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
    except BaseException:
        try:
            os.unlink(temporary, dir_fd=folder_fd)
        except FileNotFoundError:
            pass
        raise


def _keep_owner(fd: int, old: os.stat_result) -> None:
    # The new file belongs to whoever writes it. Giving it the old owner and group back needs
    # the right to do so (root, or a group the writer is in); without it the writer's own stay.
    mine = os.fstat(fd)
    if (mine.st_uid, mine.st_gid) == (old.st_uid, old.st_gid) or not hasattr(os, "fchown"):
        return
    try:
        os.fchown(fd, old.st_uid, old.st_gid)
    except PermissionError:
        try:
            os.fchown(fd, -1, old.st_gid)
        except PermissionError:
            pass


def _naming(error: OSError, where: str) -> OSError:
    """The same kind of error, naming the user's path instead of the temporary file."""
    if error.errno is None:
        return OSError(f"cannot write {where!r}: {error}")
    reason = error.strerror or str(error)
    folder = os.path.dirname(where) or "."
    if isinstance(error, FileNotFoundError) and not os.path.isdir(folder):
        reason += f" (the folder {folder!r} does not exist)"
    return type(error)(error.errno, reason, where)


def _fsync_folder(folder: str, fd: int | None) -> None:
    # Makes the rename itself durable on POSIX; not possible (nor needed) everywhere.
    if fd is not None:
        try:
            os.fsync(fd)
        except OSError:
            pass
        return
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
