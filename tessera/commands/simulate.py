"""`tessera simulate --accel FILE --model MODEL`: compile a network for a chip and simulate it."""

from __future__ import annotations

import argparse

from tessera.commands._common import (
    EnumChoices,
    add_model_arguments,
    check_destination,
    console,
    ensure_parent,
    precision,
    write_json,
    zero_fraction,
)
from tessera.errors import InputError, Problem


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "simulate",
        help="compile a network for a chip and simulate it",
        description="Compile MODEL for the chip in --accel and print per-layer cycles, "
        "utilization, stalls, DRAM traffic, energy and area.",
    )
    parser.add_argument("--accel", required=True, metavar="FILE", help="accelerator YAML file")
    add_model_arguments(parser)
    parser.add_argument("--precision", type=precision, help="operand precision (default: the chip's)")
    parser.add_argument(
        "--scheduler",
        choices=EnumChoices("compiler.scheduling", "SchedulerKind"),
        default="heuristic",
        metavar="KIND",
        help="how tiles, loop order and dataflow are chosen: %(choices)s (default heuristic)",
    )
    parser.add_argument(
        "--timing",
        choices=EnumChoices("compiler.target", "TimingMode"),
        default="tessera",
        metavar="MODE",
        help="tessera: the chip's own pipeline (folds overlap where the array double-buffers its "
        "stationary operand); scalesim: SCALE-Sim 3.0.0's fold model and mapping (default tessera)",
    )
    parser.add_argument(
        "--objective",
        choices=EnumChoices("compiler.scheduling.objective", "Objective"),
        default="latency",
        metavar="OBJECTIVE",
        help="what each layer's schedule is chosen for: %(choices)s (default latency)",
    )
    parser.add_argument(
        "--weights",
        choices=EnumChoices("compiler.memory.planner", "WeightResidency"),
        default="streamed",
        metavar="WEIGHTS",
        help="streamed: weights read from DRAM every inference; resident: kept in the weight "
        "buffer across inferences where they fit (default streamed)",
    )
    parser.add_argument(
        "--activation-zeros",
        type=zero_fraction,
        default=0.0,
        metavar="F",
        help="fraction of the input activations that are zero, in [0, 1) (default 0: dense); a chip "
        "with matrix.gates_zero_inputs skips the MAC and the weight's scratchpad read of each zero, "
        "with cycles unchanged; on a chip without it, zeros save nothing",
    )
    parser.add_argument(
        "--fusion",
        choices=EnumChoices("compiler.memory.chains", "Fusion"),
        default="auto",
        metavar="FUSION",
        help="auto: run an attention chain (QK^T, softmax, PV) fused block by block, a chain of two or "
        "three convolutions depth first band by band, and an MLP block (up-projection, activation, "
        "down-projection) band by band of tokens, where that scores better on the objective than their "
        "layers; none: never fuse across layers (default auto)",
    )
    parser.add_argument("--json", metavar="FILE", help="write the result as JSON")
    parser.add_argument("--trace", metavar="FILE", help="write a Chrome/Perfetto trace of every instruction")
    parser.add_argument("--report", metavar="DIR", help="write figures (roofline, breakdowns, timeline) and report.html to DIR")
    parser.add_argument("--verify", action="store_true", help="check the program with compiler.verify")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from compiler.scheduling import InfeasibleSchedule, SchedulerKind
    from simulator.trace import write_chrome_trace
    from tessera.api import simulate
    from tessera.commands._simulate_tables import layer_table, summary_table

    for path, option, folder in ((args.json, "--json", False), (args.trace, "--trace", False), (args.report, "--report", True)):
        if path is not None:
            check_destination(path, option, folder=folder)
    try:
        simulation = simulate(
            args.accel,
            args.model,
            batch=args.batch,
            input_shapes=dict(args.input_shape),
            precision=args.precision,
            scheduler=SchedulerKind[args.scheduler.upper()],
            timing=args.timing,
            objective=args.objective,
            weights=args.weights,
            fusion=args.fusion,
            trace=args.trace is not None or args.report is not None,
            verify=args.verify,
            activation_zeros=args.activation_zeros,
        )
    except InfeasibleSchedule as infeasible:
        # The chip and the model are each valid but do not fit together: the user must change one.
        raise InputError(
            args.accel, Problem(f"layer {infeasible.workload_name}", f"{infeasible.reason} (model {args.model})")
        ) from None
    except MemoryError as error:
        # The instruction stream of a model this big for this array does not fit in memory
        # (numpy refuses at once: `gemm:m=2^40` would need terabytes of instructions).
        message = f"too big to compile for {args.accel} on this machine ({error}); use a smaller model or batch"
        raise InputError(args.model, Problem("--model", message)) from None
    document = simulation.to_json()
    if args.json:
        write_json(args.json, document)
    accel = simulation.accel
    if args.trace:
        ensure_parent(args.trace, "--trace")
        try:
            write_chrome_trace(args.trace, simulation.result, simulation.compiled.program, simulation.compiled.target)
        except OSError as error:
            raise InputError(args.trace, Problem("--trace", f"cannot write: {error.strerror}")) from None
    if args.report:
        from reports.simulation_report import simulation_report

        simulation_report(simulation, args.report)
    console.print(layer_table(document))
    console.print(summary_table(document, peak_ops_s=2 * accel.matrix.pes * accel.clock))
    if args.activation_zeros and not accel.matrix.gates_zero_inputs:
        console.print(
            f"note: {accel.name} does not gate zero inputs (matrix.gates_zero_inputs is false): "
            f"--activation-zeros {args.activation_zeros:g} saves no energy"
        )
    return 0

