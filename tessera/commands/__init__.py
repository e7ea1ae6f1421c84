"""One module per `tessera` sub-command; each registers its parser and a `run(args)` function."""

from tessera.commands import (
    check_spec,
    import_scalesim,
    inspect,
    models,
    report,
    serve,
    simulate,
    sweep,
    train_scheduler,
    validate,
)

COMMANDS = (simulate, sweep, report, inspect, models, check_spec, validate, import_scalesim, train_scheduler, serve)
