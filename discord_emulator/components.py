"""Walking and numbering message components (action rows, buttons, selects, sections, labels)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any


def walk_components(components: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every component, depth first: children of rows and containers, accessories, labels'."""
    for component in components:
        yield component
        yield from walk_components(component.get("components") or [])
        for key in ("accessory", "component"):
            if isinstance(component.get(key), dict):
                yield from walk_components([component[key]])


def stored_components(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Components as Discord stores and returns them: every one with an ``id``, and a unicode
    emoji without its null ``id``.

    ``reference.mdx`` ("Anatomy of a Component"): ids are "generated sequentially if left empty"
    (0 counts as empty) and never reuse one the message already has.
    """
    numbered = copy.deepcopy(components)
    nodes = list(walk_components(numbered))
    for node in nodes:
        if isinstance(node.get("emoji"), dict):
            node["emoji"] = {k: v for k, v in node["emoji"].items() if v is not None}
    taken = {n["id"] for n in nodes if n.get("id")}
    next_id = 1
    for node in nodes:
        if not node.get("id"):
            while next_id in taken:
                next_id += 1
            node["id"] = next_id
            taken.add(next_id)
    return numbered
