"""Which memory allocator a training process runs under, and where a faster one is installed but unused.

TensorFlow frees and re-allocates large tensors every step. Under glibc's malloc that costs page faults: on the
2-core development machine (session 25) ~22 % of the CPU time went to the kernel, and the same run resumed with
jemalloc preloaded took 335–426 s per epoch against 511–547 s (README, Training). The choice has to be made
before the process starts (LD_PRELOAD), so training only reports it; scripts/reproduce_model.sh sets it.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable, Mapping

# Debian/Ubuntu's libjemalloc2 on the two architectures the project runs on.
JEMALLOC_PATHS = (
    "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2",
    "/usr/lib/aarch64-linux-gnu/libjemalloc.so.2",
)
# Keep freed pages instead of returning them to the kernel: a run's working set is the same every step.
JEMALLOC_CONF = "dirty_decay_ms:-1,muzzy_decay_ms:-1"
_FAST_ALLOCATORS = ("jemalloc", "tcmalloc", "mimalloc")


def preloaded_allocator(environ: Mapping[str, str] = os.environ) -> str:
    """The allocator named in LD_PRELOAD, or "default" (the C library's malloc)."""
    preload = environ.get("LD_PRELOAD", "")
    return next((name for name in _FAST_ALLOCATORS if name in preload), "default")


def unused_jemalloc(environ: Mapping[str, str] = os.environ, candidates: tuple[str, ...] = JEMALLOC_PATHS,
                    exists: Callable[[str], bool] = os.path.exists) -> str | None:
    """An installed jemalloc when no fast allocator is preloaded yet, else None."""
    installed = next((path for path in candidates if exists(path)), None)
    return installed if installed and preloaded_allocator(environ) == "default" else None


def allocator_hint(environ: Mapping[str, str] = os.environ, candidates: tuple[str, ...] = JEMALLOC_PATHS,
                   exists: Callable[[str], bool] = os.path.exists) -> str | None:
    """A one-line suggestion when jemalloc is installed but not preloaded; None when there is nothing to say."""
    if (unused := unused_jemalloc(environ, candidates, exists)) is None:
        return None
    return (f"training runs under the default malloc; LD_PRELOAD={unused} MALLOC_CONF={JEMALLOC_CONF} made "
            "epochs ~30 % shorter on the development machine (README, Training)")


def preload_exports(environ: Mapping[str, str] = os.environ, candidates: tuple[str, ...] = JEMALLOC_PATHS,
                    exists: Callable[[str], bool] = os.path.exists) -> str:
    """A shell `export` line that preloads an unused installed jemalloc, or "" when there is none."""
    if (unused := unused_jemalloc(environ, candidates, exists)) is None:
        return ""
    preload = " ".join(filter(None, (unused, environ.get("LD_PRELOAD", ""))))
    conf = environ.get("MALLOC_CONF", JEMALLOC_CONF)
    return f"export LD_PRELOAD={shlex.quote(preload)} MALLOC_CONF={shlex.quote(conf)}"


if __name__ == "__main__":  # for shell scripts: eval "$(python -m train.allocator)"
    print(preload_exports())
