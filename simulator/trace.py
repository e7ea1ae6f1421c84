"""Timeline export in the Chrome / Perfetto trace-event JSON format.

One track (tid) per engine, named with metadata events, holds one complete ('X') event per
instruction, named by opcode, with its operands as args. A separate ``layers`` track holds
one slice per layer spanning the cycles attributed to it. Timestamps and durations are in
microseconds (cycles / clock).

A LOAD/STORE event spans its channel or port occupancy (when the DMA engine is busy) and
records in its args the cycle its data arrives (`done_us`, after the DRAM latency); drawing the latency
inside the event would make consecutive transfers overlap on one track, which trace viewers
cannot nest. Open the file at https://ui.perfetto.dev or chrome://tracing.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from compiler.target import LEVEL_DRAM, Target
from compiler.target.isa import ENGINE_OF_OPCODE, Engine, Opcode, Program
from simulator.result import SimResult

_PID = 0
_LAYER_TID = len(Engine)
_MICROSECONDS = 1e6


def to_chrome_trace(result: SimResult, program: Program, machine: Target) -> dict:
    """Trace-event JSON object of a run made with `trace=True` on this program and target."""
    if result.trace is None:
        raise ValueError("the result has no trace: simulate with trace=True")
    instr = program.instructions
    start = result.trace.start
    end = result.trace.end
    busy_end = occupied_until(instr, end, machine)
    scale = _MICROSECONDS / machine.clock

    events: list[dict] = [
        {"ph": "M", "pid": _PID, "name": "process_name", "args": {"name": machine.name}},
        *(
            {
                "ph": "M",
                "pid": _PID,
                "tid": int(engine),
                "name": "thread_name",
                "args": {"name": engine.name.lower()},
            }
            for engine in Engine
        ),
        {"ph": "M", "pid": _PID, "tid": _LAYER_TID, "name": "thread_name", "args": {"name": "layers"}},
    ]
    events.extend(_instruction_events(instr, start * scale, (busy_end - start) * scale, end * scale))

    layer_cycles = np.asarray([layer.cycles for layer in result.layers], dtype=np.int64)
    layer_start = np.cumsum(layer_cycles) - layer_cycles
    events.extend(
        {
            "ph": "X",
            "pid": _PID,
            "tid": _LAYER_TID,
            "name": layer.name,
            "ts": first * scale,
            "dur": layer.cycles * scale,
            "args": {"cycles": layer.cycles, "macs": layer.macs},
        }
        for layer, first in zip(result.layers, layer_start.tolist())
    )
    return {"traceEvents": events, "displayTimeUnit": "ns"}


def occupied_until(instr: np.ndarray, end: np.ndarray, machine: Target) -> np.ndarray:
    """The cycle each instruction releases its engine: its end, except that a DRAM transfer's
    data lands one DRAM latency after the channel releases it (`simulator.reference`)."""
    opcode = instr["opcode"]
    dram = ((opcode == Opcode.LOAD) | (opcode == Opcode.STORE)) & (instr["level"] == LEVEL_DRAM)
    return end - np.where(dram, machine.latency, 0)


def _instruction_events(
    instr: np.ndarray, ts: np.ndarray, dur: np.ndarray, done: np.ndarray
) -> list[dict]:
    """One 'X' event per instruction; per-opcode args come from column lists, not records."""
    names = np.array([op.name for op in Opcode])[instr["opcode"]].tolist()
    engine_of = np.array([ENGINE_OF_OPCODE[op] for op in Opcode])
    columns = zip(
        names,
        instr["opcode"].tolist(),
        engine_of[instr["opcode"]].tolist(),
        ts.tolist(),
        dur.tolist(),
        done.tolist(),
        instr["layer"].tolist(),
        instr["bytes"].tolist(),
        instr["m"].tolist(),
        instr["k"].tolist(),
        instr["n"].tolist(),
        instr["elements"].tolist(),
    )
    gemm, vec = int(Opcode.GEMM), int(Opcode.VEC)
    events = []
    for name, op, tid, t, d, fin, layer, nbytes, m, k, n, elements in columns:
        if op == gemm:
            args = {"layer": layer, "m": m, "k": k, "n": n}
        elif op == vec:
            args = {"layer": layer, "elements": elements}
        else:
            args = {"layer": layer, "bytes": nbytes, "done_us": fin}
        event = {"ph": "X", "pid": _PID, "tid": tid, "name": name, "ts": t, "dur": d, "args": args}
        events.append(event)
    return events


def write_chrome_trace(
    path: str | Path, result: SimResult, program: Program, machine: Target
) -> None:
    """Write `to_chrome_trace` to `path` as compact JSON.

    `json.dumps` runs entirely in the C encoder; `json.dump` to a file would encode chunk by
    chunk in Python, several times slower on a million events.
    """
    text = json.dumps(to_chrome_trace(result, program, machine), separators=(",", ":"))
    Path(path).write_text(text, encoding="utf-8")
