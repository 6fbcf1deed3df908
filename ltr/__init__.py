"""Networks of SiamOT: backbones and the SiamFC model (pytracking's ``ltr`` role)."""
