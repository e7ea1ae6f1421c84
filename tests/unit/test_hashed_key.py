"""`HashedKey`: a tuple that hashes once, equal to its plain tuple, and pickled as its items."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys

from accel_spec.types import Precision
from compiler.hashed_key import HashedKey

CHECK_IN_ANOTHER_PROCESS = """
import pickle, sys
key = pickle.loads(sys.stdin.buffer.read())
assert hash(key) == hash(tuple(key)), "an unpickled key kept the hash of the process that made it"
assert {tuple(key): 1}[key] == 1 and {key: 1}[tuple(key)] == 1
"""


def test_a_key_equals_and_hashes_like_its_tuple() -> None:
    items = ("conv1", Precision.INT8, 3, (1, 2))
    key = HashedKey(items)
    assert key == items and hash(key) == hash(items)
    assert {items: "found"}[key] == "found" and {key: "found"}[items] == "found"
    assert HashedKey(()) == () and hash(HashedKey(())) == hash(())


def test_an_unpickled_key_hashes_its_items_again_in_another_process() -> None:
    """Strings hash differently in every process (and enum members by identity), so a key
    that carried its hash across a pickle would be lost in the other process's dicts."""
    key = HashedKey(("conv1", Precision.INT8, 3))
    assert pickle.loads(pickle.dumps(key)) == key
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    done = subprocess.run([sys.executable, "-c", CHECK_IN_ANOTHER_PROCESS], input=pickle.dumps(key), env=env,
                          capture_output=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()
