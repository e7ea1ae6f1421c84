"""Sweep-file YAML → plain data plus the line of every key path, so errors can name lines.

The file is composed once with PyYAML's safe loader; duplicate keys (which plain PyYAML
silently resolves to the last one) are reported instead of being lost. Key paths and their
lines come from `accel_spec.yaml_lines`, shared with chip files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from accel_spec.yaml_lines import Loc, compose, record_lines
from tessera.errors import InputError


def read_yaml(path: Path) -> tuple[dict[str, Any], dict[Loc, int]]:
    """Parse a YAML mapping file; InputError for a missing file, bad syntax or duplicate keys."""
    source = str(path)
    if not path.is_file():
        raise InputError(source, "file not found" if not path.exists() else "is not a file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise InputError(source, f"not UTF-8 text (byte {error.start})") from None
    root, data = compose(text, source)
    if not isinstance(data, dict):
        raise InputError(source, "the top level must be a mapping (base, hardware, models, objectives, ...)")
    lines, duplicates = record_lines(root)
    if duplicates:
        raise InputError(source, duplicates)
    return data, lines
