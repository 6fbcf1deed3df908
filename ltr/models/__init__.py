"""Network modules: ``backbone`` (feature extractors) and ``tracking`` (SiamFC)."""
