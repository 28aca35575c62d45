"""Every file a command writes goes through here: atomically, and never over one of its inputs.

`atomic(target)` yields a temporary path next to the target; when the block
ends normally the file is flushed to disk and renamed onto the target in one
step (`os.replace`), so a reader sees the old file or the complete new one,
never a partial one. On any failure, Ctrl-C or SIGTERM the temporary file is
removed and the target is left as it was. Concurrent writers each have their
own temporary name: the last rename wins, whole.

`protect(paths)` names a command's inputs (policies and the files they `use`,
data files, outcomes); `refuse(target)` — called by `atomic` and early by the
commands — raises a `DataError` when the target is one of them, symlinks and
hard links included.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from leadlang.diagnostics import DataError

_inputs: dict[str, Path] = {}  # realpath -> the input as the user named it


def reset() -> None:
    """Forget the inputs of a previous command (one process may run several, e.g. in tests)."""
    _inputs.clear()


def protect(paths: Iterable[str | Path]) -> None:
    """Mark `paths` as inputs of the running command: no output may be written over them."""
    for p in paths:
        _inputs.setdefault(os.path.realpath(p), Path(p))


def _identity(path: str | Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name one file: the same path once symlinks are resolved, or a hard link."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    ident = _identity(a)
    return ident is not None and ident == _identity(b)


def refuse(target: str | Path) -> None:
    """A DataError when `target` is (a link to) one of the `protect`ed inputs."""
    clash = _inputs.get(os.path.realpath(target))
    if clash is None and (ident := _identity(target)) is not None:
        clash = next((p for p in _inputs.values() if _identity(p) == ident), None)
    if clash is not None:
        same = "" if str(clash) == str(target) else f" (the same file as the input {clash})"
        raise DataError(f"{target}: is an input of this command{same}; write the output to another file")


def cannot_write(target: str | Path, err: OSError) -> DataError:
    """The one-line error for a failed write."""
    return DataError(f"{target}: cannot write: {err.strerror or err}")


_pending: list[tuple[Path, Path]] | None = None  # inside `together`: (temporary file, target) to rename at its end


@contextlib.contextmanager
def together() -> Iterator[None]:
    """The files `atomic` completes inside this block replace their targets only when the block succeeds:
    all of them or, on any failure, none (e.g. `score -o FILE --explain FILE2`)."""
    global _pending
    outer, mine = _pending, []
    _pending = mine
    try:
        yield
        for tmp, final in mine:
            try:
                os.replace(tmp, final)
            except OSError as err:
                raise cannot_write(final, err) from None
    finally:
        _pending = outer
        for tmp, _ in mine:
            with contextlib.suppress(OSError):
                tmp.unlink()


@contextlib.contextmanager
def atomic(target: str | Path) -> Iterator[Path]:
    """A temporary path in `target`'s directory, renamed onto `target` when the block succeeds.

    OSError (full disk, missing directory, no permission) becomes one `DataError`
    naming the target; the temporary file never outlives the block.
    """
    target = Path(target)
    refuse(target)
    if target.is_dir():
        raise DataError(f"{target}: is a directory; name a file to write")
    if target.exists() and not target.is_file():  # a device or a pipe (/dev/stdout, a FIFO): no rename onto it
        try:
            yield target
        except OSError as err:
            if isinstance(err, BrokenPipeError):
                raise
            raise cannot_write(target, err) from None
        return
    import tempfile  # here, not at the top: `check` imports this module and writes nothing

    final = Path(os.path.realpath(target))  # through a symbolic link: the link stays, its file is replaced
    try:
        fd, name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp" + final.suffix, dir=final.parent)
        os.close(fd)
    except OSError as err:
        raise cannot_write(target, err) from None
    tmp = Path(name)
    try:
        try:
            yield tmp
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
            _keep_mode(final, tmp)
            if _pending is not None:  # `together` renames it, with the others
                _pending.append((tmp, final))
                return
            os.replace(tmp, final)
        except OSError as err:
            if isinstance(err, BrokenPipeError):
                raise
            raise cannot_write(target, err) from None
    finally:
        if _pending is None or all(t != tmp for t, _ in _pending):
            with contextlib.suppress(OSError):
                tmp.unlink()


def _keep_mode(target: Path, tmp: Path) -> None:
    """The new file gets the old one's permissions, or the usual ones for a new file (mkstemp's are 0600)."""
    try:
        mode = os.stat(target).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    os.chmod(tmp, mode)


@contextlib.contextmanager
def atomic_open(target: str | Path, mode: str = "w", **kwargs) -> Iterator:
    """`open()` on `atomic(target)`'s temporary path: text (UTF-8, no newline translation) or binary."""
    if "b" not in mode:
        kwargs.setdefault("encoding", "utf-8")
        kwargs.setdefault("newline", "")
    with atomic(target) as tmp, open(tmp, mode, **kwargs) as f:
        yield f


def write_text(target: str | Path, text: str) -> Path:
    """Write `text` as UTF-8 to `target`, atomically."""
    return write_bytes(target, text.encode("utf-8"))


def write_bytes(target: str | Path, data: bytes) -> Path:
    """Write `data` to `target`, atomically."""
    with atomic_open(target, "wb") as f:
        f.write(data)
    return Path(target)
