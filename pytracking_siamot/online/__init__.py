"""SiamOT's online training: the paper's equations as pure functions (``functions``), the
confidence and ``R_t`` state (``confidence``), the method interface (``method``) and its
implementations (``adapter``: the default; ``backbone``: the paper's fine-tuning), chosen by
``factory.online_method_class``."""
from pytracking_siamot.online.confidence import Assessment, ConfidenceState
from pytracking_siamot.online.functions import (apce, jcpp, kl_loss, normalize_map, normalize_shift,
                                                normalize_softmax, peak, psr, psr_window, relative_ratio, shift_map,
                                                thresholded_loss, update_rate, update_template_map)

__all__ = ["Assessment", "ConfidenceState", "apce", "jcpp", "kl_loss", "normalize_map", "normalize_shift",
           "normalize_softmax", "peak", "psr", "psr_window", "relative_ratio", "shift_map", "thresholded_loss",
           "update_rate", "update_template_map"]
