"""SiamOT's online training: pure functions for the paper's equations and the updater object."""
from pytracking_siamot.online.functions import (apce, jcpp, kl_loss, normalize_map, normalize_shift,
                                                normalize_softmax, peak, psr, psr_window, relative_ratio,
                                                thresholded_loss, update_rate, update_template_map)
from pytracking_siamot.online.updater import Assessment, OnlineUpdater, UpdateResult, trainable_parameters

__all__ = ["Assessment", "apce", "OnlineUpdater", "UpdateResult", "jcpp", "kl_loss", "normalize_map", "normalize_shift",
           "normalize_softmax", "peak", "psr", "psr_window", "relative_ratio", "thresholded_loss",
           "trainable_parameters", "update_rate", "update_template_map"]
