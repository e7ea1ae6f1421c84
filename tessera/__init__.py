"""Tessera: hardware-software co-design explorer for deep-learning accelerators."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tessera")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"
