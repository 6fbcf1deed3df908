"""Running registered trackers inside other toolkits, and bringing their results back.

- :mod:`evaluation.interop.got10k`: :class:`Got10kTracker`, any registered tracker as a
  ``got10k.trackers.Tracker`` (``init``/``update`` on PIL images, boxes in the dataset's own pixel
  convention); :func:`got10k_offline`, got10k's experiments built on a local dataset copy without
  downloading; :func:`got10k_results`, got10k's result folders as a results source for our analysis.
- :mod:`evaluation.interop.vot`: ``python -m evaluation.interop.vot init WORKSPACE --tracker NAME:PARAM``
  writes a VOT-toolkit workspace (``trackers.ini`` entries speaking TraX, optional offline config).
- :mod:`evaluation.interop.trax_entry`: the process the VOT toolkit starts for one tracker.

The other toolkits are optional: importing this package needs neither; each name imports its toolkit
when first used and names the package to install when it is missing.
"""
from __future__ import annotations

from typing import Any

__all__ = ["Got10kTracker", "got10k_offline", "got10k_results"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from evaluation.interop import got10k
        return getattr(got10k, name)
    raise AttributeError(f"module 'evaluation.interop' has no attribute '{name}'")
