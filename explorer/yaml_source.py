"""Sweep-file YAML → plain data plus the line of every key path, so errors can name lines.

The file is composed once with PyYAML's safe loader; duplicate keys (which plain PyYAML
silently resolves to the last one) are reported instead of being lost. Key paths and their
lines come from `accel_spec.yaml_lines`, shared with chip files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from accel_spec.yaml_lines import MAX_YAML_BYTES, Loc, compose
from tessera.errors import InputError
from tessera.input_files import read_input_text


def read_yaml(path: Path) -> tuple[dict[str, Any], dict[Loc, int]]:
    """Parse a YAML mapping file; InputError for a missing, irregular or oversized file, bad syntax,
    duplicate keys or ambiguous numbers."""
    source = str(path)
    text = read_input_text(path, limit=MAX_YAML_BYTES, what="a sweep YAML file")
    composed = compose(text, source)
    if not isinstance(composed.data, dict):
        raise InputError(source, "the top level must be a mapping (base, hardware, models, objectives, ...)")
    return composed.data, composed.lines
