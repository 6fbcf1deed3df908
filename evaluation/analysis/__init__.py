"""Analysis of tracking results: OPE metrics, evaluation of results sources, tables, plots, reports.

- :mod:`~evaluation.analysis.metrics`: pure metric functions (success/precision curves, AUC, ...).
- :mod:`~evaluation.analysis.evaluate`: results sources (:mod:`evaluation.sources`: live trackers,
  published results) on a sequence list, runs averaged, cached.
- :mod:`~evaluation.analysis.tables`: summary, per-attribute and per-sequence scores as pandas
  DataFrames, and the tables written from them (text, CSV, Markdown).
- :mod:`~evaluation.analysis.plots`: success / precision / normalised-precision plots (PNG, PDF, TikZ).
- :mod:`~evaluation.analysis.report`: everything above written under ``<plots_path>/<report>/``
  (``generate_report``); the command line is ``python -m evaluation.analyze``.

Import from the submodules: this package file imports nothing, so the metrics load without
matplotlib.
"""
