"""Arrays from ``.npy`` and ``.npz`` files that may come from anyone, read without running code
from them.

``np.load(path, allow_pickle=True)`` unpickles object arrays, and a pickle may call any function
it names. QuickDraw's and SketchRNN's datasets are ``.npz`` files of object arrays (each element
an int16 (N, 3) sketch), which numpy stores as pickles, so those must be unpickled: here by an
unpickler that rebuilds arrays only the way numpy pickles them (``_reconstruct(ndarray, (0,),
...)``, then the array's state) and refuses, before it is called, anything else a pickle asks
for. Plain arrays are read from their header and bytes, never unpickled. What comes out is an
array of numbers (bool, integer or float) or an object array whose elements all are.
"""

from __future__ import annotations

import math
import pickle
import zipfile
import zlib
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

NUMERIC_KINDS = "biuf"  # numpy dtype kinds: bool, signed and unsigned integer, float
_NPY_MAGIC = b"\x93NUMPY"
_RECONSTRUCT = np.empty(0).__reduce__()[0]  # the function numpy's own pickles rebuild arrays with
_NDARRAY = object()  # what a pickle gets for numpy.ndarray: an argument of _rebuild_array, not callable
_HEADER_READERS = {(1, 0): npy_format.read_array_header_1_0, (2, 0): npy_format.read_array_header_2_0}


class ArrayFileError(ValueError):
    """A ``.npy``/``.npz`` file that is unreadable, or holds a pickle asking for more than
    arrays of numbers; the message is one line naming the file."""


def array_names(path: str | Path) -> list[str] | None:
    """The names of the arrays in an ``.npz`` file (``np.savez``'s keys); None for a ``.npy``
    file, which holds one array."""
    path = Path(path)
    with _reading(path):
        if _is_npy(path):
            return None
        with zipfile.ZipFile(path) as archive:
            return [name.removesuffix(".npy") for name in archive.namelist() if name.endswith(".npy")]


def read_array(path: str | Path, name: str | None = None) -> np.ndarray:
    """The array in a ``.npy`` file, or the one called ``name`` in an ``.npz`` file.
    ArrayFileError if the file is unreadable or holds anything but numbers."""
    path = Path(path)
    with _reading(path):
        if _is_npy(path):
            if name is not None:
                raise ArrayFileError(f"{path}: a .npy file holds one array, not one called {name!r}")
            with path.open("rb") as stream:
                return _read_npy(stream, path.stat().st_size, str(path))
        with zipfile.ZipFile(path) as archive:
            try:
                member = archive.getinfo(f"{name}.npy")
            except KeyError:
                raise ArrayFileError(f"{path}: holds no array called {name!r}") from None
            with archive.open(member) as stream:
                return _read_npy(stream, member.file_size, f"{path}[{name}]")


@contextmanager
def _reading(path: Path):
    """Turn what reading ``path`` may raise into one-line ArrayFileErrors."""
    try:
        yield
    except OSError as error:
        raise ArrayFileError(f"{path}: cannot be read ({error.strerror or type(error).__name__})") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as error:
        raise ArrayFileError(f"{path}: not a readable .npy/.npz file ({type(error).__name__})") from None


def _is_npy(path: Path) -> bool:
    """Whether ``path`` starts as a ``.npy`` file does (else it must be a zip, an ``.npz``)."""
    with path.open("rb") as stream:
        return stream.read(len(_NPY_MAGIC)) == _NPY_MAGIC


def _read_npy(stream, size: int, where: str) -> np.ndarray:
    """The array in a ``.npy`` stream of ``size`` bytes (header included)."""
    try:
        version = npy_format.read_magic(stream)
        read_header = _HEADER_READERS.get(version)
        if read_header is None:
            raise ArrayFileError(f"{where}: .npy format version {version[0]}.{version[1]} is not read here")
        shape, fortran_order, dtype = read_header(stream)
    except ArrayFileError:
        raise
    except ValueError:  # numpy's messages quote the whole header over several lines
        raise ArrayFileError(f"{where}: not a .npy array (its header cannot be read)") from None
    if dtype.hasobject:
        array = _unpickle(stream, where)
        if not isinstance(array, np.ndarray) or array.shape != shape:
            raise ArrayFileError(f"{where}: its pickle does not hold the {shape} array its header announces")
        return array
    _check_numeric(dtype, where)
    nbytes, available = math.prod(shape) * dtype.itemsize, size - stream.tell()
    if nbytes > available:  # checked before reading, so a header cannot make us allocate
        raise ArrayFileError(f"{where}: its header announces {nbytes} bytes of data, the file holds {available}")
    data = stream.read(nbytes)
    if len(data) != nbytes:
        raise ArrayFileError(f"{where}: ends after {len(data)} of the {nbytes} bytes of data its header announces")
    return np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran_order else "C")


def _check_numeric(dtype: np.dtype, where: str) -> None:
    if dtype.kind not in NUMERIC_KINDS:
        raise ArrayFileError(f"{where}: holds values of type {dtype}, not numbers")


def _unpickle(stream, where: str) -> np.ndarray:
    """An object array from its pickle, each element checked to be an array of numbers."""
    try:
        array = _ArrayUnpickler(stream, where).load()
    except ArrayFileError:
        raise
    except MemoryError:
        raise ArrayFileError(f"{where}: its pickle asks for more memory than there is") from None
    except Exception as error:  # a malformed pickle raises many types; only numpy's rebuilding ran
        raise ArrayFileError(f"{where}: not a readable object array ({type(error).__name__})") from None
    if isinstance(array, np.ndarray) and array.dtype.hasobject:
        for index, element in enumerate(array.flat):
            if not isinstance(element, np.ndarray):
                raise ArrayFileError(f"{where}: element {index} is a {type(element).__name__}, not an array")
            _check_numeric(element.dtype, f"{where} element {index}")
    return array


def _rebuild_array(subtype, shape, dtype) -> np.ndarray:
    """numpy's ``_reconstruct`` as numpy's pickles call it: an empty ndarray whose shape,
    dtype and data the pickle then sets from what it holds (so it allocates no more than the
    file holds)."""
    if subtype is not _NDARRAY or math.prod(shape) != 0:
        raise pickle.UnpicklingError("an array rebuilt otherwise than numpy pickles arrays")
    return _RECONSTRUCT(np.ndarray, shape, dtype)


# What an object array's pickle may name (numpy 2 calls _reconstruct's module numpy._core.multiarray,
# numpy 1 and Python 2 numpy.core.multiarray): ndarray only as _reconstruct's argument, and dtype.
_PICKLE_GLOBALS = {
    ("numpy._core.multiarray", "_reconstruct"): _rebuild_array,
    ("numpy.core.multiarray", "_reconstruct"): _rebuild_array,
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): np.dtype,
}


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles only what numpy writes for an array (:data:`_PICKLE_GLOBALS`). A pickle calls
    only what ``find_class`` hands it, so nothing else can run."""

    def __init__(self, stream, where: str):
        super().__init__(stream, encoding="latin1")  # Python 2 pickles (SketchRNN's files) hold str data
        self.where = where

    def find_class(self, module: str, name: str):
        if (module, name) not in _PICKLE_GLOBALS:
            raise ArrayFileError(
                f"{self.where}: refused: its pickle asks for {module}.{name} (only arrays of numbers are read)"
            )
        return _PICKLE_GLOBALS[module, name]
