"""Writing a file so that nothing is lost: the one way the package writes files.

`write_atomically(path, data)` writes through a temporary file in the same folder and renames it
over `path`, so a reader sees the old file or the new one, never half of either, and a failure
(a full disk, an interrupt, an error while rendering) leaves the old file as it was. An existing
file keeps its permission bits and, where the user may set them, its owner and group; a symlink
stays a symlink (the file it points to is replaced). Errors name the user's path, never the
temporary file's. Imports nothing of the package.
"""

from __future__ import annotations

import io
import os
import secrets
import stat
from typing import Any

# The temporary file's name is `.NAME.RANDOM.tmp`, NAME cut to this many bytes: a long but valid
# file name still leaves room for the rest (the limit is 255 bytes on most file systems, 143 on
# eCryptfs).
_TEMP_NAME_BYTES = 100


def write_atomically(path: str | os.PathLike[str], data: bytes | str) -> None:
    """Write `data` (text is written as UTF-8) to `path` atomically, keeping mode and owner."""
    where = os.fspath(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        _replace(where, payload)
    except OSError as error:
        raise _naming(error, where) from None


def write_figure(figure: Any, path: str | os.PathLike[str], **savefig: Any) -> None:
    """Write a matplotlib figure to `path` atomically; the format comes from the suffix.

    `savefig` holds `Figure.savefig`'s keyword arguments (dpi, bbox_inches, ...).
    """
    suffix = os.path.splitext(os.fspath(path))[1].lstrip(".").lower()
    buffer = io.BytesIO()
    figure.savefig(buffer, format=suffix or "png", **savefig)
    write_atomically(path, buffer.getvalue())


def _replace(where: str, payload: bytes) -> None:
    target = os.path.realpath(where)
    folder = os.path.dirname(target)
    try:
        old: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        old = None
    name = os.path.basename(target)
    while len(os.fsencode(name)) > _TEMP_NAME_BYTES:  # cut whole characters, not bytes
        name = name[:-1]
    temporary = os.path.join(folder, f".{name}.{secrets.token_hex(6)}.tmp")
    # O_EXCL: never write through someone else's file; mode 0o666 less the umask, like open().
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(payload)
            file.flush()
            os.fsync(file.fileno())  # the bytes are on disk before the rename shows them
        if old is not None:
            _keep_owner(temporary, old)
            os.chmod(temporary, stat.S_IMODE(old.st_mode))  # after chown, which may clear setuid
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
    _fsync_folder(folder)


def _keep_owner(temporary: str, old: os.stat_result) -> None:
    # The new file belongs to whoever writes it. Giving it the old owner and group back needs
    # the right to do so (root, or a group the writer is in); without it the writer's own stay.
    mine = os.stat(temporary)
    if (mine.st_uid, mine.st_gid) == (old.st_uid, old.st_gid) or not hasattr(os, "chown"):
        return
    try:
        os.chown(temporary, old.st_uid, old.st_gid)
    except PermissionError:
        try:
            os.chown(temporary, -1, old.st_gid)
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
