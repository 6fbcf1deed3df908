"""The machine a run or a table's timing comes from: CPU model and the CPU threads this process may use.

Read from the operating system without optional dependencies (``/proc/cpuinfo`` on Linux,
``sysctl`` on macOS, :func:`platform.processor` elsewhere), so run records and Table 1's note can name
where FPS were measured.
"""
from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path


def cpu_name(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's model name, e.g. ``Intel(R) Xeon(R) CPU @ 2.20GHz`` (runs of spaces collapsed), from
    ``cpuinfo`` (Linux' format) when it exists; ``unknown CPU`` when the system does not say."""
    if cpuinfo.is_file():
        try:
            for line in cpuinfo.read_text(errors="replace").splitlines():
                key, _, value = line.partition(":")
                if key.strip() in ("model name", "Processor", "cpu model") and value.strip():
                    return " ".join(value.split())
        except OSError:
            pass
    if platform.system() == "Darwin":
        try:
            found = subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True, text=True,
                                   timeout=5)
            if found.returncode == 0 and found.stdout.strip():
                return found.stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
    return platform.processor().strip() or "unknown CPU"


def cpu_threads() -> int:
    """CPU threads this process may run on (its affinity where the system has one, else all)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def machine_note() -> str:
    """``<cpu name>, <n> threads``: where timings of this process come from, for notes and records."""
    threads = cpu_threads()
    return f"{cpu_name()}, {threads} thread{'s' if threads != 1 else ''}"
