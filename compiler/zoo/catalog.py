"""The zoo as a rich table for `tessera models`: each family, its aliases and parameters."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from compiler.zoo.registry import zoo_models


def models_table() -> Table:
    """One row per model family: name (and aliases), description, and one line per parameter
    giving its name, type, default, allowed values and help."""
    table = Table(title="Tessera model zoo: MODEL = name[:key=value,...]", show_lines=True)
    table.add_column("model", style="bold cyan", no_wrap=True)
    table.add_column("description")
    table.add_column(Text("parameters (name: type = default  [allowed]  help)"))
    for model in zoo_models():
        names = "\n".join([model.name, *(f"  {alias}" for alias in model.aliases)])
        params = "\n".join(
            f"{p.name}: {p.kind.__name__} = {p.default_text()}  [{p.allowed()}]  {p.help}" for p in model.params
        )
        table.add_row(names, model.description, Text(params))  # Text: brackets are not markup
    return table
