"""Tessera: hardware-software co-design explorer for deep-learning accelerators."""


def __getattr__(name: str) -> str:
    """`tessera.__version__`, looked up when first read: finding the installed distribution
    imports `importlib.metadata` and reads its metadata, which `tessera --help` need not do."""
    if name != "__version__":
        raise AttributeError(f"module 'tessera' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("tessera")
    except PackageNotFoundError:  # running from a source tree that was not installed
        found = "0+unknown"
    globals()["__version__"] = found
    return found
