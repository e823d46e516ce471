"""The model DAG: ref checks, cycle detection, selection, and a sorter for building.

Edges come from the refs read off each template's AST; a model's parents are the
models it refs.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Iterable
from graphlib import CycleError, TopologicalSorter

from olist_cli.engine.project import Project
from olist_cli.engine.render import display_path
from olist_cli.errors import ProjectError


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


class Graph:
    def __init__(self, project: Project) -> None:
        self.project = project
        self.parents = {name: set(m.refs) for name, m in project.models.items()}
        self.children: dict[str, set[str]] = {name: set() for name in project.models}
        for name, parents in self.parents.items():
            for parent in parents & self.children.keys():
                self.children[parent].add(name)

    def check(self) -> None:
        """Every ref names a model, and the refs have no cycle."""
        names = self.project.models
        for model in names.values():
            for ref in model.refs:
                if ref not in names:
                    raise ProjectError(
                        f"{display_path(model.path)}: ref('{ref}') names no model"
                        + _did_you_mean(ref, names)
                    )
        for test in self.project.tests:
            for ref in test.depends_on:
                if ref not in names:
                    raise ProjectError(
                        f"{test.label}: ref('{ref}') names no model" + _did_you_mean(ref, names)
                    )
        try:
            TopologicalSorter(self.parents).prepare()
        except CycleError as exc:
            # graphlib lists the cycle in build order; reversed, each model refs the next.
            cycle = " -> ".join(reversed(exc.args[1]))
            raise ProjectError(
                f"ref() cycle: {cycle}; each model refs the next, break one ref"
            ) from None

    def _closure(self, start: str, edges: dict[str, set[str]]) -> set[str]:
        seen: set[str] = set()
        todo = list(edges[start])
        while todo:
            name = todo.pop()
            if name not in seen and name in edges:
                seen.add(name)
                todo += edges[name]
        return seen

    def ancestors(self, name: str) -> set[str]:
        return self._closure(name, self.parents)

    def descendants(self, name: str) -> set[str]:
        return self._closure(name, self.children)

    def select(self, selector: str | None) -> set[str]:
        """Models matched by dbt-style selectors, separated by spaces or commas, unioned.

        ``name``, ``stg_*`` (glob), ``layer:staging``, ``tag:x``; a leading ``+`` adds
        ancestors, a trailing ``+`` descendants. No selector selects every model.
        """
        if not selector or not selector.strip():
            return set(self.project.models)
        chosen: set[str] = set()
        for token in re.split(r"[\s,]+", selector.strip()):
            matched = self._match(token.strip("+"), token)
            chosen |= matched
            for name in matched:
                if token.startswith("+"):
                    chosen |= self.ancestors(name)
                if token.endswith("+"):
                    chosen |= self.descendants(name)
        return chosen

    def _match(self, body: str, token: str) -> set[str]:
        models = self.project.models.values()
        method, _, value = body.rpartition(":")
        if method == "layer":
            found = {m.name for m in models if m.layer == value}
            choices = {m.layer for m in models}
        elif method == "tag":
            found = {m.name for m in models if value in m.config.tags}
            choices = {t for m in models for t in m.config.tags}
        elif method:
            raise ProjectError(
                f"--select {token!r}: unknown method '{method}:'; use layer: or tag:"
            )
        elif any(c in value for c in "*?["):
            found = {m.name for m in models if fnmatch.fnmatchcase(m.name, value)}
            choices = set()
        else:
            found = {value} & self.project.models.keys()
            choices = set(self.project.models)
        if not found:
            raise ProjectError(
                f"--select {token!r} matches no model" + _did_you_mean(value, choices)
            )
        return found

    def order(self, names: Iterable[str]) -> list[str]:
        """``names`` in a deterministic build order."""
        return list(self.sorter(names).static_order())

    def sorter(self, names: Iterable[str]) -> TopologicalSorter[str]:
        """A sorter over ``names`` only: unselected parents are taken as already built."""
        chosen = set(names)
        # Insert in path order so that static_order() and get_ready() are deterministic.
        graph = {n: sorted(self.parents[n] & chosen) for n in self.project.models if n in chosen}
        return TopologicalSorter(graph)
