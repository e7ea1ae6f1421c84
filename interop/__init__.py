"""Interoperation with peer tools: SCALE-Sim cases run through Tessera, and the validation suite.

`interop.scalesim` turns SCALE-Sim's inputs (a topology row, a config) into Tessera's and
computes what Tessera predicts for them; `interop.validation` compares those predictions with
the committed reference figures in `validation/` (SCALE-Sim runs and published silicon).
"""
