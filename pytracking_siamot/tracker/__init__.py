"""Trackers, pytracking-style: ``tracker/<name>/`` with ``get_tracker_class()``."""
