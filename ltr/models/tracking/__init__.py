"""Tracking networks (SiamFC)."""
from ltr.models.tracking.siamfc import SiamFC, siamfc, xcorr

__all__ = ["SiamFC", "siamfc", "xcorr"]
