"""Resident memory of this process, for benchmarks and the soak test (Linux /proc; 0 elsewhere)."""

from __future__ import annotations

import resource
from pathlib import Path


def rss_bytes() -> int:
    """Resident set size now (not the peak: growth is what a leak looks like)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return 0
    return pages * resource.getpagesize()


def rss_mb() -> float:
    return rss_bytes() / 2**20


def peak_rss_mb() -> float:
    """Peak resident set size of this program.

    VmHWM belongs to the process image, so it starts afresh at exec. `ru_maxrss` does not: a benchmark
    started with subprocess from a 1.2 GB TensorFlow process reported 1205 MB for a 66 MB program.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
