"""One module per `tessera` sub-command; each registers its parser and a `run(args)` function."""

from tessera.commands import check_spec, inspect, models, report, simulate, sweep

COMMANDS = (simulate, sweep, report, inspect, models, check_spec)
