"""sbsweep's orchestrator: read a sweep file, expand its grid, schedule trials on Ray, write the store."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sbsweep")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
