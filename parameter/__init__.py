"""Parameter files, pytracking-style: ``parameter/<tracker>/<name>.py`` with ``parameters()``."""
