"""`InputError` survives pickling: a local sweep's check runs in its workers
(`explorer.executors.LocalExecutor.check`), whose errors reach the main process pickled."""

from __future__ import annotations

import pickle

from tessera.errors import InputError, Problem


def test_an_input_error_round_trips_through_pickle_with_its_source_and_problems() -> None:
    error = InputError("sweep.yaml", [Problem("models", "bad.onnx: cannot be parsed", 3), Problem("", "and another")])
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is InputError
    assert (back.source, back.problems, back.render(), str(back)) == (error.source, error.problems, error.render(), str(error))
