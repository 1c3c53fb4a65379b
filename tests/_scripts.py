"""The files in scripts/ imported as modules. scripts/ is not a package: its scripts import each other by name,
as they can when `python scripts/NAME.py` puts scripts/ first on sys.path, so the tests put it there too."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def load_script(name: str) -> ModuleType:
    """scripts/NAME.py as a module."""
    if str(SCRIPTS) not in sys.path:
        sys.path.insert(0, str(SCRIPTS))
    return importlib.import_module(name)
