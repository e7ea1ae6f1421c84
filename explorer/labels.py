"""Short labels of model variants, for tables, legends and ticks that a person reads.

A model column holds canonical specs (``mobilenetv2:batch=1,resolution=160,width=0.5``):
exact, but too long to tell variants apart at a glance. `short_labels` keeps what differs.
"""

from __future__ import annotations


def short_labels(texts: list[str]) -> list[str]:
    """Keep only the `key=value` parts that tell the variants of one builder apart.

    ``mobilenetv2:batch=1,width=0.5`` and ``mobilenetv2:batch=1,width=1.0`` become
    ``width=0.5`` and ``width=1.0``. With several builders each label keeps its builder's
    name: ``bert:seq=64``, ``bert:seq=128``, ``llama:phase=decode`` and ``resnet`` (the only
    ResNet variant needs no parameter). Texts without such parts are returned unchanged.
    """
    token_lists = [_tokens(text) for text in texts]
    if len(texts) < 2 or any(len(tokens) < 2 for tokens in token_lists):
        return texts
    groups: dict[str, list[set[str]]] = {}
    for name, *params in token_lists:
        groups.setdefault(name, []).append(set(params))
    shared = {name: set.intersection(*members) for name, members in groups.items()}
    shortened = []
    for name, *params in token_lists:
        kept = ", ".join(p for p in params if p not in shared[name])
        shortened.append(kept if len(groups) == 1 else f"{name}:{kept}" if kept else name)
    return shortened if all(shortened) and len(set(shortened)) == len(set(texts)) else texts


def _tokens(text: str) -> list[str]:
    name, _, rest = text.partition(":")
    return [name, *(part.strip() for part in rest.split(",") if part.strip())] if rest else [text]
