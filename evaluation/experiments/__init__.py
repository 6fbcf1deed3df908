"""Experiments for ``python -m evaluation.run_experiment <module> <function>``.

Each module has a function returning ``(trackers, dataset)``: a list of
:class:`evaluation.tracker.Tracker` objects (and results-only sources such as
:class:`evaluation.peer_results.PublishedResults`) and a
:class:`evaluation.data.SequenceList`. Modules: ``demo`` (no data needed),
``otb2013_paper`` (the paper's four backbones), ``otb2013_offline`` (the backbones with
offline ImageNet weights, OpenCV peers and published results), ``ablation`` (parameter
variants of one backbone, e.g. ``ablation mobilenet_v2``, on the OTB2013 targets on disk).
"""
