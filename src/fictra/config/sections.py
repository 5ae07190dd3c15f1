"""The generic config loader: a list of :class:`Section` specs in, every file read once, every problem out.

A section names its files (``network.yaml``, or a glob such as ``monitors/*.yaml``), a ``parse``
function (the documents read -> the section's value, problems appended) and a ``check`` of its
references (the already-parsed sections and the deployment manifest -> problem lines). The loader reads
each file once (:func:`fictra.config.reader.read_yaml`), parses every section, then runs every check,
and reports every problem of every file at once (:class:`~fictra.config.problems.ConfigProblems`).

:func:`read_sections` does the reading and parsing; :func:`check_sections` runs the reference checks
on parsed values, so the checks can run again once the manifest is known without reading a file again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from fictra.config.problems import ConfigProblems, problems_of
from fictra.config.reader import read_yaml


@dataclass(frozen=True)
class Document:
    """One file read: its path relative to the config directory (for messages) and its parsed YAML."""

    rel: str
    data: Any


@dataclass(frozen=True)
class Sourced:
    """A validated item and where it came from (for cross-reference messages)."""

    file: str
    path: str
    item: Any


Parse = Callable[[Sequence[Document], list[str]], Any]
"""(the section's documents, problems to append to) -> the section's value (None when broken)."""


@dataclass(frozen=True)
class Parsed:
    """Every section's parsed value by name (None when broken) and the files each section was read from."""

    values: Mapping[str, Any]
    files: Mapping[str, tuple[str, ...]]

    def __getitem__(self, name: str) -> Any:
        return self.values.get(name)

    def has(self, rel: str) -> bool:
        """Whether the config directory has the file ``rel`` (read by some section)."""
        return any(rel in files for files in self.files.values())


Check = Callable[[Parsed, Any, list[str]], list[str]]
"""(the parsed sections, the manifest or None, notes to append to) -> problem lines."""


@dataclass(frozen=True)
class DocPart:
    """A part of the generated configuration reference: a title, an intro and the models' tables."""

    title: str
    intro: str
    models: tuple[type[BaseModel], ...]


@dataclass(frozen=True)
class Section:
    name: str
    files: tuple[str, ...]
    parse: Parse
    check: Check | None = None
    required: bool = False
    about: str = ""
    docs: tuple[DocPart, ...] = field(default=())


def model_parse(model: type[BaseModel]) -> Parse:
    """The parse of a one-file section validated by one model (its defaults when the file is absent)."""

    def parse(docs: Sequence[Document], problems: list[str]) -> Any:
        if not docs:
            return model()
        doc = docs[0]
        if doc.data is _BROKEN:
            return None
        try:
            return model.model_validate({} if doc.data is None else doc.data)
        except ValidationError as exc:
            problems.extend(problems_of(doc.rel, [], exc))
            return None

    return parse


class _Broken:
    """The data of a document that could not be read or parsed (its problem is already reported)."""


_BROKEN: Any = _Broken()


def broken(doc: Document) -> bool:
    return doc.data is _BROKEN


def _files(config_dir: Path, pattern: str) -> list[Path]:
    if "*" not in pattern:
        path = config_dir / pattern
        return [path] if path.is_file() else []
    parent, _, glob = pattern.rpartition("/")
    directory = config_dir / parent
    if not directory.is_dir():
        return []
    suffixes = {".yaml", ".yml"} if glob.endswith(".yaml") else {Path(glob).suffix}
    return sorted(p for p in directory.iterdir() if p.suffix in suffixes and p.is_file())


def _unknown_entries(config_dir: Path, sections: Sequence[Section]) -> list[str]:
    files = {f for s in sections for f in s.files if "/" not in f}
    dirs = {f.split("/", 1)[0] for s in sections for f in s.files if "/" in f}
    expected = ", ".join(f for s in sections for f in s.files)
    out = []
    for entry in sorted(config_dir.iterdir()):
        unknown_yaml = entry.is_file() and entry.suffix in {".yaml", ".yml"} and entry.name not in files
        unknown_dir = entry.is_dir() and not entry.name.startswith(".") and entry.name not in dirs
        if unknown_yaml or unknown_dir:
            out.append(
                f"{entry.name}{'/' if unknown_dir else ''}: unknown config entry; expected one of: {expected}"
            )
    return out


def read_sections(config_dir: Path, sections: Sequence[Section]) -> tuple[Parsed, list[str]]:
    """Read every section's files once and parse them: (the parsed sections, problems)."""
    if not config_dir.is_dir():
        raise ConfigProblems(
            config_dir, [f"{config_dir}: not a directory (set --config-dir or FICTRA_CONFIG_DIR)"]
        )
    problems: list[str] = []
    values: dict[str, Any] = {}
    files: dict[str, tuple[str, ...]] = {}
    for section in sections:
        docs: list[Document] = []
        for pattern in section.files:
            found = _files(config_dir, pattern)
            if not found and section.required:
                problems.append(f"{pattern}: file is missing ({section.about})")
            for path in found:
                rel = str(path.relative_to(config_dir))
                before = len(problems)
                data = read_yaml(path, rel, problems)
                docs.append(Document(rel, _BROKEN if len(problems) > before else data))
        files[section.name] = tuple(doc.rel for doc in docs)
        if section.required and not docs:
            values[section.name] = None
            continue
        values[section.name] = section.parse(docs, problems)
    problems.extend(_unknown_entries(config_dir, sections))
    return Parsed(values, files), problems


def check_sections(
    parsed: Parsed, sections: Sequence[Section], *, manifest: Any
) -> tuple[list[str], list[str]]:
    """Run every section's reference check over the parsed values (no file is read): (problems, notes)."""
    problems: list[str] = []
    notes: list[str] = []
    for section in sections:
        if section.check is not None and parsed[section.name] is not None:
            problems.extend(section.check(parsed, manifest, notes))
    return problems, notes
