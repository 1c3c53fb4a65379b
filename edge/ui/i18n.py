"""Exhibit texts from data files museum staff can edit: assets/content/<lang>/*.toml.

Each file's stem is a namespace: `t("joy.dance.title")` reads key `dance.title` from joy.toml;
keys without a file name (`t("attract.button")`) are read from ui.toml.
Staff may keep their own copy (`content_dir`): it is laid over the program's texts, so a key the copy lacks (a
new game after an update, a line deleted by mistake) shows the program's text rather than stopping the exhibit;
`content_notes` lists those keys, and keys the program never reads, for `emotions doctor` to warn about.
Polish and English must still have the same keys after that (`content_problems`; for the bundled texts a test
runs it): `emotions run` refuses to start otherwise, so a visitor never reaches a screen whose text is missing.
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
    folder = Path(root) / lang
    if lang not in LANGUAGES:
        raise ContentError(f"unknown language {lang!r}; expected one of {', '.join(LANGUAGES)}")
    if not Path(root).is_dir():
        raise ContentError(f"content folder {root} not found (content_dir in the config?)")
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


def key_file(root: Path, lang: str, key: str) -> tuple[Path, str]:
    """The file a flattened key lives in, and the key inside that file: 'joy.dance.title' → joy.toml, dance.title."""
    stem, _, rest = key.partition(".")
    return Path(root) / lang / f"{stem}.toml", rest


def _is_bundled(root: Path) -> bool:
    return Path(root).resolve() == CONTENT_DIR.resolve()


def _laid_over(base: Any, top: Any) -> Any:
    """`top` with whatever tables and keys it lacks taken from `base` (a list or text in `top` wins whole)."""
    if not (isinstance(base, dict) and isinstance(top, dict)):
        return top
    return {**base, **{key: _laid_over(base.get(key), value) for key, value in top.items()}}


def load_texts(lang: str, root: Path = CONTENT_DIR) -> dict[str, Any]:
    """The texts the exhibit shows in `lang`: `root`'s, over the program's own for a staff copy."""
    theirs, ours = _both(root)
    return _laid_over(ours[lang], theirs[lang])


def _both(root: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """Per language: `root`'s own texts and the program's (the same dicts when `root` is the bundled folder)."""
    theirs = {lang: load_language(lang, root) for lang in LANGUAGES}
    return theirs, theirs if _is_bundled(root) else {lang: load_language(lang, CONTENT_DIR) for lang in LANGUAGES}


def _in_list(key: str) -> bool:
    """A flattened key inside a list (an index among its parts): lists are laid over whole, never filled."""
    return any(part.isdigit() for part in key.split("."))


def _item_gaps(ours: Any, theirs: Any, key: str = "") -> list[str]:
    """Flattened keys a list of tables in `theirs` lacks in some item, where every item of the same list in `ours`
    has that key (lists are laid over whole, so nothing fills an item's missing key: the activity reading it
    would stop)."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        return [gap for k in ours if k in theirs for gap in _item_gaps(ours[k], theirs[k], f"{key}.{k}" if key else k)]
    if not (isinstance(ours, list) and isinstance(theirs, list) and ours
            and all(isinstance(item, dict) for item in ours)):
        return []
    needed = set.intersection(*(set(item) for item in ours))
    return [f"{key}.{n}.{field}" for n, item in enumerate(theirs)
            for field in sorted(needed - set(item if isinstance(item, dict) else ()))]


def content_problems(root: Path = CONTENT_DIR) -> list[str]:
    """One line per text the program shows that a language lacks, naming the file: keys one language has and
    another lacks (after a staff copy is laid over the program's texts, only lists can cause that, as the
    language may switch mid-activity at any item), and an item of a list of tables without a key every item of
    the program's list has. Raises ContentError for an unreadable or broken file."""
    theirs, ours = _both(root)
    shown = {lang: _laid_over(ours[lang], theirs[lang]) for lang in LANGUAGES}
    flat = {lang: flatten(shown[lang]) for lang in LANGUAGES}
    known = set().union(*(flatten(ours[lang]) for lang in LANGUAGES))
    problems = []
    for lang in LANGUAGES:
        for other in LANGUAGES:
            # a key the program reads, or an item of a list it shows by index
            for key in sorted(k for k in set(flat[other]) - set(flat[lang]) if k in known or _in_list(k)):
                path, inner = key_file(root, lang, key)
                problems.append(f"{path}: missing key '{inner}' (present in {other}/{path.name})")
    if not _is_bundled(root):
        for lang in LANGUAGES:
            for key in _item_gaps(ours[lang], shown[lang]):
                path, inner = key_file(root, lang, key)
                line = f"{path}: missing key '{inner}' (every item of the program's list has it)"
                if not any(p.startswith(f"{path}: missing key '{inner}' ") for p in problems):
                    problems.append(line)
    return problems


def content_notes(root: Path) -> list[str]:
    """For a staff copy: the keys it lacks, shown from the program's texts instead, and the keys in it that the
    program never reads (a misspelt key's edit would not show). Raises ContentError like content_problems. Keys
    inside lists are not noted: a longer or shorter list is an edit, and content_problems checks its items."""
    if _is_bundled(root):
        return []
    theirs, ours = _both(root)
    notes = []
    for lang in LANGUAGES:
        their_keys, our_keys = set(flatten(theirs[lang])), set(flatten(ours[lang]))
        for key in sorted(k for k in our_keys - their_keys if not _in_list(k)):
            path, inner = key_file(root, lang, key)
            notes.append(f"{path}: no key '{inner}', the program's text is shown")
        for key in sorted(k for k in their_keys - our_keys if not _in_list(k)):
            path, inner = key_file(root, lang, key)
            notes.append(f"{path}: key '{inner}' is not used by the program (misspelt?)")
    return notes


def check_content(root: Path = CONTENT_DIR) -> None:
    """Raise ContentError (one line: the first file and key, and how many more) unless every text the program
    shows exists in every language."""
    problems = content_problems(root)
    if problems:
        more = f" (and {len(problems) - 1} more: run 'emotions doctor')" if len(problems) > 1 else ""
        raise ContentError(problems[0] + more)


class Content:
    """Texts of one language, with the other languages loaded too so the visitor can switch instantly."""

    def __init__(self, lang: str = "pl", root: Path = CONTENT_DIR, overrides: dict[str, dict[str, str]] | None = None):
        self.root = Path(root)
        theirs, ours = _both(root)
        self._all = {code: _laid_over(ours[code], theirs[code]) for code in LANGUAGES}
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
                                   f"({self.root / self.lang}/)")
        return node

    def t(self, key: str, **fmt: Any) -> str:
        value = self.get(key)
        if not isinstance(value, str):
            raise ContentError(f"content key {key!r} in language {self.lang!r} is not a text")
        try:
            return value.format(**fmt) if fmt else value
        except (KeyError, IndexError, ValueError) as err:
            raise ContentError(f"content key {key!r} in language {self.lang!r}: bad placeholder {err}") from None
