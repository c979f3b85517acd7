"""How ``dsl.Collected`` groups the values of a flattened nested loop (see ``nested_loop``).

Pure: the resolver reads it at run time and unit tests read it directly, without importing the
loop's operator (which itself uses the resolver).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

OUTER_KEY = "kfp_outer_instances"
"""XCom key of the outer instances an inner loop ran for (their indexes), in order."""


def nest_values(
    entries: Sequence[Mapping[str, Any]],
    outer: Sequence[Mapping[str, int]],
    values: Mapping[int, Any],
    fixed: Mapping[str, int],
    nest: Sequence[str],
    *,
    flat: bool = False,
) -> list[Any]:
    """The Collected value of a task in a flattened loop.

    ``entries`` are the loop's entries (index k is the producer's map index k), ``outer`` the outer
    instances it ran for, ``values`` the producer's value per map index (skipped ones absent),
    ``fixed`` the indexes the reader shares with the producer (only those instances), ``nest`` the
    outer loops gathered over, outermost first (one list level each, unless ``flat``).
    """

    def matches(indexes: Mapping[str, int], wanted: Mapping[str, int]) -> bool:
        return all(indexes.get(group) == index for group, index in wanted.items())

    chosen = [k for k, entry in enumerate(entries) if matches(entry["indexes"], fixed)]
    if flat or not nest:
        return [values[k] for k in chosen if k in values]
    pairs: list[tuple[tuple[int, ...], list[Any]]] = []
    for instance in outer:
        if not matches(instance, fixed):
            continue
        key = tuple(int(instance[group]) for group in nest)
        own = {group: instance[group] for group in nest}
        pairs.append((key, [values[k] for k in chosen if k in values and matches(entries[k]["indexes"], own)]))

    def group(items: list[tuple[tuple[int, ...], list[Any]]], depth: int) -> list[Any]:
        if depth == len(nest) - 1:
            return [leaf for _, leaf in items]
        heads: dict[int, list[tuple[tuple[int, ...], list[Any]]]] = {}
        for key, leaf in items:
            heads.setdefault(key[depth], []).append((key, leaf))
        return [group(members, depth + 1) for members in heads.values()]

    return group(pairs, 0)
