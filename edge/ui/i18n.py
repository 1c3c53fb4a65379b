"""Exhibit texts from data files museum staff can edit: assets/content/<lang>/*.toml.

Each file's stem is a namespace: `t("joy.dance.title")` reads key `dance.title` from joy.toml;
keys without a file name (`t("attract.button")`) are read from ui.toml.
Polish and English must have the same keys (`missing_keys` checks it; a test runs it).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

LANGUAGES: tuple[str, ...] = ("pl", "en")
CONTENT_DIR = Path(__file__).resolve().parents[2] / "assets" / "content"


class ContentError(Exception):
    """Missing or broken content; the message is one line naming the file or key."""


def load_language(lang: str, root: Path = CONTENT_DIR) -> dict[str, Any]:
    folder = root / lang
    if lang not in LANGUAGES:
        raise ContentError(f"unknown language {lang!r}; expected one of {', '.join(LANGUAGES)}")
    files = sorted(folder.glob("*.toml"))
    if not files:
        raise ContentError(f"no content files in {folder}")
    data: dict[str, Any] = {}
    for path in files:
        try:
            data[path.stem] = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
            raise ContentError(f"{path}: {err}") from None
    return data


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted key → leaf value; list items get their index as a key part (so list lengths must match too)."""
    out: dict[str, Any] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out.update(flatten(item, f"{prefix}.{i}"))
    else:
        out[prefix] = value
    return out


def missing_keys(root: Path = CONTENT_DIR) -> list[str]:
    """Keys present in one language but not another, as 'lang: key' lines (empty = complete)."""
    flat = {lang: flatten(load_language(lang, root)) for lang in LANGUAGES}
    every = set().union(*(set(f) for f in flat.values()))
    return sorted(f"{lang}: {key}" for lang in LANGUAGES for key in every - set(flat[lang]))


class Content:
    """Texts of one language, with the other languages loaded too so the visitor can switch instantly."""

    def __init__(self, lang: str = "pl", root: Path = CONTENT_DIR, overrides: dict[str, dict[str, str]] | None = None):
        self._all = {code: load_language(code, root) for code in LANGUAGES}
        self._overrides = overrides or {}  # e.g. the configured privacy notice per language
        self.lang = lang if lang in LANGUAGES else LANGUAGES[0]

    def toggle(self) -> str:
        self.lang = LANGUAGES[(LANGUAGES.index(self.lang) + 1) % len(LANGUAGES)]
        return self.lang

    def get(self, key: str) -> Any:
        """Any value (table, list or text) at a dotted key; ContentError names a missing key."""
        if key in self._overrides.get(self.lang, {}):
            return self._overrides[self.lang][key]
        node: Any = self._all[self.lang]
        parts = key.split(".")
        if parts[0] not in node:
            parts.insert(0, "ui")  # keys without a file name live in ui.toml
        for part in parts:
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise ContentError(f"missing content key {key!r} in language {self.lang!r} "
                                   f"(assets/content/{self.lang}/)")
        return node

    def t(self, key: str, **fmt: Any) -> str:
        value = self.get(key)
        if not isinstance(value, str):
            raise ContentError(f"content key {key!r} in language {self.lang!r} is not a text")
        try:
            return value.format(**fmt) if fmt else value
        except (KeyError, IndexError, ValueError) as err:
            raise ContentError(f"content key {key!r} in language {self.lang!r}: bad placeholder {err}") from None
