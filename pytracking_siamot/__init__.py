"""SiamOT: SiamFC tracking with online training, as a pytracking-style tracker package."""
