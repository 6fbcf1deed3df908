"""What SiamOT puts into a pytracking checkout, and what those files call at run time.

``pytracking_siamot.integrate`` writes small shim modules into a checkout's ``pytracking``
package and removes them safely; the shims are one import long and call this package:

- :mod:`.isolation`: importing SiamOT's modules inside a pytracking process, whose ``ltr``,
  ``parameter`` and ``evaluation`` packages share their names with SiamOT's
  (``get_tracker_class`` for ``pytracking/tracker/siamot/__init__.py``);
- :mod:`.parameter_files`: SiamOT's parameter files for ``pytracking/parameter/siamot/<name>.py``
  (``load_parameters``);
- :mod:`.otb2013`: the OTB2013 dataset for ``pytracking/evaluation/otb2013dataset.py``, from
  SiamOT's own loader (``otb2013_sequences``, ``check_results``);
- :mod:`.shims`: the texts of those files, and the lines registering ``otb2013`` in
  pytracking's ``evaluation/datasets.py``.

The names below are the entry points the generated files, ``integrate`` and the tests use.
"""
from __future__ import annotations

from typing import Any

from pytracking_siamot.pytracking_compat.isolation import (PICKLED_CLASS_NAME, PRIVATE_MODULE_PREFIX, TRACKER_NAME,
                                                           get_tracker_class, import_with_own_packages,
                                                           install_root, is_own_package, package_location)
from pytracking_siamot.pytracking_compat.otb2013 import check_results, otb2013_sequences, tracker_results_dirs
from pytracking_siamot.pytracking_compat.parameter_files import load_parameters, parameter_module, parameter_names
from pytracking_siamot.pytracking_compat.shims import (DATASET_REGISTRATION, DATASETS_PATH, EXPERIMENTS_PATH, MARKER,
                                                       OTB2013_DATASET_PATH, PARAMETER_PACKAGE_PATH,
                                                       TRACKER_SHIM_PATH, experiments_text, otb2013_dataset_text,
                                                       parameter_package_text, parameter_shim_path,
                                                       parameter_shim_text, planned_files, registration_status,
                                                       tracker_shim_text)

__all__ = [
    "DATASETS_PATH", "DATASET_REGISTRATION", "EXPERIMENTS_PATH", "MARKER", "OTB2013_DATASET_PATH",
    "PARAMETER_PACKAGE_PATH", "PRIVATE_MODULE_PREFIX", "TRACKER_NAME", "TRACKER_SHIM_PATH", "check_results",
    "experiments_text", "get_tracker_class", "import_with_own_packages", "install_root", "is_own_package",
    "load_parameters", "otb2013_dataset_text", "otb2013_sequences", "package_location", "parameter_module",
    "parameter_names", "parameter_package_text", "parameter_shim_path", "parameter_shim_text", "planned_files",
    "registration_status", "tracker_results_dirs", "tracker_shim_text",
]


def __getattr__(name: str) -> Any:
    # pickle's lookup of the tracker class in a spawned worker (see isolation.get_tracker_class).
    if name == PICKLED_CLASS_NAME:
        return get_tracker_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
