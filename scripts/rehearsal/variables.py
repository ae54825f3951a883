"""Every variable is read: each environment variable and secret the template sets on a component is
read by that component's code, and each setting the code requires is set by the template.

"Read" is decided by a static scan plus explicit lists whose every entry says who reads the name:

- our own code (entrypoint, ``render_config.py``, ``database_url.py``, the ``gateway`` package, the
  function code): any occurrence of the name as a quoted string or a shell ``$NAME``/``${NAME``;
- LiteLLM's source: only a lookup call (``os.getenv("NAME")``, ``os.environ["NAME"]``,
  ``get_secret("NAME")``...), minus ``NOT_ON_THE_CLI_PATH`` (names LiteLLM reads only where the
  container never goes), plus the baked config's ``os.environ/NAME`` references;
- ``READ_ELSEWHERE``: names read by the Lambda runtime, the Web Adapter or a library, with a marker
  that must be present in the named file (so a stale entry fails too) or a documented reader.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

_LOOKUP = re.compile(
    r"""(?:getenv|environ\.get|environ|get_secret|get_secret_str|get_secret_bool|env\.get|env)\s*[\[(]\s*["']([A-Z][A-Z0-9_]+)["']"""
)
_QUOTED = re.compile(r"""["']([A-Z][A-Z0-9_]{2,})["']""")
_SHELL = re.compile(r"\$\{?([A-Z][A-Z0-9_]+)")
_CONFIG_REF = re.compile(r"os\.environ/([A-Z][A-Z0-9_]+)")

#: Names LiteLLM's source looks up, but only on paths the container does not take.
NOT_ON_THE_CLI_PATH = {
    "DATABASE_PORT": "LiteLLM reads it only for IAM-token auth (proxy/db/prisma_client.py) and in the "
    "componentized entrypoints (db_url_settings.py); the CLI's construct_database_url_from_env_vars "
    "ignores it. database_url.py must read it.",
}


@dataclass(frozen=True)
class ReadElsewhere:
    reader: str
    file: Path | None = None  # when given, ``marker`` must occur in it
    marker: str = ""

    def holds(self) -> bool:
        return self.file is None or (self.file.is_file() and self.marker in self.file.read_text(errors="replace"))


@dataclass
class Component:
    name: str
    variables: Mapping[str, str]  # what the template sets: Environment + Secrets (values resolved or not)
    own_code: Sequence[Path]
    library_code: Sequence[Path] = ()
    config: Path | None = None
    read_elsewhere: Mapping[str, ReadElsewhere] = field(default_factory=dict)
    required: Sequence[tuple[str, ...]] = ()  # each tuple: alternatives, one must be set
    expected_values: Mapping[str, str] = field(default_factory=dict)


def _files(paths: Iterable[Path], suffixes: tuple[str, ...]) -> Iterable[Path]:
    for path in paths:
        if path.is_dir():
            yield from (p for p in sorted(path.rglob("*")) if p.is_file() and p.suffix in suffixes)
        elif path.is_file():
            yield path


def names_in_own_code(paths: Sequence[Path]) -> set[str]:
    found: set[str] = set()
    for path in _files(paths, (".py", ".sh")):
        text = path.read_text(errors="replace")
        found |= set(_QUOTED.findall(text))
        if path.suffix == ".sh" or text.startswith("#!/bin/"):
            found |= set(_SHELL.findall(text))
    return found


def _module_file(name: str, packages: Mapping[str, Path]) -> Path | None:
    top, _, rest = name.partition(".")
    if top not in packages:
        return None
    base = packages[top].joinpath(*rest.split(".")) if rest else packages[top]
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _package_name(path: Path, packages: Mapping[str, Path]) -> str:
    for top, root in packages.items():
        if path.is_relative_to(root):
            parts = [top, *path.relative_to(root).with_suffix("").parts]
            return ".".join(parts[:-1])  # a module's package; __init__.py's own package
    return ""


def imported_code(roots: Sequence[Path], packages: Mapping[str, Path]) -> list[Path]:
    """``roots`` plus every module of ``packages`` (name → folder) they import, directly or not, with
    the ``__init__.py`` of each package on the way (all import statements count, lazy ones too)."""
    seen: dict[Path, None] = {}
    todo = [p for p in _files(roots, (".py", ".sh"))]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen[path] = None
        text = path.read_text(errors="replace")
        names: set[str] = set()
        if path.suffix == ".py":
            here = _package_name(path.resolve(), packages)
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, ast.Import):
                    names |= {a.name for a in node.names}
                elif isinstance(node, ast.ImportFrom):
                    base = node.module or ""
                    if node.level:
                        anchor = here.split(".")[: len(here.split(".")) - node.level + 1]
                        base = ".".join([*anchor, *([base] if base else [])])
                    names |= {base} | {f"{base}.{a.name}" for a in node.names}
        for name in names:
            parts = name.split(".")
            for depth in range(1, len(parts) + 1):  # importing a.b.c runs a/__init__, a/b/__init__ too
                found = _module_file(".".join(parts[:depth]), packages)
                if found is not None and found not in seen:
                    todo.append(found)
    return list(seen)


def names_looked_up(paths: Sequence[Path]) -> set[str]:
    found: set[str] = set()
    for path in _files(paths, (".py",)):
        found |= set(_LOOKUP.findall(path.read_text(errors="replace")))
    return found - set(NOT_ON_THE_CLI_PATH)


def config_references(config: Path) -> tuple[set[str], set[str]]:
    """``os.environ/NAME`` in a LiteLLM config: (all, the ones outside ``model_list``)."""
    data = yaml.safe_load(config.read_text()) or {}
    everywhere = set(_CONFIG_REF.findall(config.read_text()))
    outside = set(_CONFIG_REF.findall(yaml.safe_dump({k: v for k, v in data.items() if k != "model_list"})))
    return everywhere, outside


def audit(component: Component) -> list[str]:
    """Problems, each naming the variable: unread, required-but-unset, or a wrong fixed value."""
    read = names_in_own_code(component.own_code) | names_looked_up(component.library_code)
    if component.config is not None:
        read |= config_references(component.config)[0]
    problems: list[str] = []
    for name in sorted(component.variables):
        elsewhere = component.read_elsewhere.get(name)
        if elsewhere is not None and not elsewhere.holds():  # checked even when the scan finds the name
            problems.append(f"{component.name}: {name}: the listed reader ({elsewhere.reader}) no longer reads it")
        elif elsewhere is None and name not in read:
            problems.append(f"{component.name}: {name} is set by the template but nothing reads it")
    for alternatives in component.required:
        if not any(component.variables.get(n) for n in alternatives):
            problems.append(
                f"{component.name}: {' or '.join(alternatives)} is required but the template does not set it"
            )
    for name, value in component.expected_values.items():
        if name in component.variables and component.variables[name] != value:
            problems.append(
                f"{component.name}: {name} must be {value!r}, the template sets {component.variables[name]!r}"
            )
    return problems
