"""YAML read with the line of every key, so that a document's errors can point at the line to fix.

A plain ``yaml.safe_load`` forgets where each value came from, and resolves a duplicate key to
its last value without a word. :func:`parse_yaml` keeps a map from each dotted path
(``versions[0].features[3].kind``) to the 1-based line of its key or list item, and refuses
duplicate keys. This module knows YAML and paths, nothing of what a document means.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml


class DocumentSyntaxError(ValueError):
    """The text is not YAML (or not one YAML document); ``line`` is 1-based, or None."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass(frozen=True)
class ParsedYAML:
    data: Any
    lines: dict[str, int]  # dotted path -> 1-based line of its key (or item)

    def line_of(self, path: str) -> int | None:
        """The line of ``path`` or of its nearest ancestor that exists in the file."""
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            path = _parent(path)


def _parent(path: str) -> str:
    if path.endswith("]"):
        return path[: path.rindex("[")]
    return path.rpartition(".")[0]


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def parse_yaml(text: str) -> ParsedYAML:
    """Parse one YAML document, remembering the line of every key and list item.

    Duplicate keys, which PyYAML would silently resolve to the last, are an error here.
    """
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return ParsedYAML(None, {})
        lines: dict[str, int] = {"": node.start_mark.line + 1}
        _map_lines(node, "", lines)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        raise DocumentSyntaxError(f"not valid YAML: {problem}", mark.line + 1 if mark else None) from exc
    except yaml.YAMLError as exc:
        raise DocumentSyntaxError(f"not valid YAML: {exc}", None) from exc
    finally:
        loader.dispose()
    return ParsedYAML(data, lines)


def _map_lines(node: yaml.Node, path: str, lines: dict[str, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            child = join(path, key_node.value)
            line = key_node.start_mark.line + 1
            if key_node.value in seen:
                raise DocumentSyntaxError(
                    f"{child}: duplicate key (first given on line {seen[key_node.value]})", line
                )
            seen[key_node.value] = line
            lines[child] = line
            _map_lines(value_node, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = join(path, index)
            lines[child] = item.start_mark.line + 1
            _map_lines(item, child, lines)


def dump_yaml(document: Mapping[str, Any]) -> str:
    return yaml.safe_dump(
        dict(document), sort_keys=False, allow_unicode=True, width=100, default_flow_style=False
    )
