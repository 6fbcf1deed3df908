"""The confidence and template-map state of one sequence (paper Sections 2.4-2.5).

Every online method (and the baseline, for its debug output) holds one :class:`ConfidenceState`:
it keeps the template score map ``R_t``, judges a current score map ``R_c`` against it (peak and
PSR relative to a reference, Eq. 8; JCPP, Eq. 9; the KL loss, Eq. 4) and moves ``R_t`` towards
confident maps (Eqs. 10-11). The equations themselves are the pure functions of
:mod:`pytracking_siamot.online.functions`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from pytracking_siamot.online import functions as fn

if TYPE_CHECKING:
    from pytracking_siamot.parameters import SiamOTParams


@dataclass(frozen=True)
class Assessment:
    """Confidence of one frame: raw and relative peak / PSR (Eq. 8), JCPP (Eq. 9), KL loss (Eq. 4),
    and APCE (not in the paper; reported for the confidence analysis)."""

    peak: float
    psr: float
    peak_r: float
    psr_r: float
    jcpp: float
    loss: float
    apce: float = float("nan")


class ConfidenceState:
    """``R_t``, the reference peak and PSR, and the map scale of one sequence.

    Args:
        settings: a :class:`pytracking_siamot.parameters.SiamOTParams` (validated there); read:
            ``normalization`` and ``softmax_temperature`` (how maps become distributions,
            ``functions.normalize_map``), ``confidence_threshold`` (``T_c``), ``jcpp_weight``
            (``lambda``), ``psr_window`` (0 = MOSSE's scaled to the map), ``confidence_reference``
            (the map whose peak and PSR Eq. 8 divides by: ``'template'``, the current ``R_t`` as in
            the paper, or ``'first_frame'``) and ``template_update_max`` (multiplies ``alpha`` of
            Eq. 11).

    The softmax temperature is *relative*: maps are divided by ``softmax_temperature * s`` with
    ``s`` the standard deviation of the first-frame template map, fixed per sequence. Raw score
    magnitudes differ by orders of magnitude between backbones (and frames of different contrast),
    so an absolute temperature made the softmax either uniform or one-hot; ``s`` makes ``T_l``
    meaningful on every backbone. Shift-and-divide is scale-invariant and needs no ``s``.
    """

    def __init__(self, settings: SiamOTParams) -> None:
        self.normalization = settings.normalization
        self.temperature = settings.softmax_temperature
        self.confidence_threshold = settings.confidence_threshold
        self.jcpp_weight = settings.jcpp_weight
        self.psr_window = settings.psr_window or None
        self.confidence_reference = settings.confidence_reference
        self.template_update_max = settings.template_update_max
        self.lost_threshold = settings.lost_threshold
        self.template_map: torch.Tensor | None = None
        self._template_distribution: torch.Tensor | None = None  # normalize(template_map), made when first needed
        self._map_scale = 1.0
        self._template_peak = float("nan")
        self._template_psr = float("nan")
        self._first_peak = float("nan")
        self._first_psr = float("nan")

    def reset(self, template_map: torch.Tensor) -> None:
        """Start a sequence: ``R_t`` = ``template_map`` (``(h, w)``, or with leading singleton dims),
        the first-frame reference peak and PSR and the softmax scale from it."""
        self._set_template_map(template_map)
        std = float(template_map.detach().double().std())
        self._map_scale = std if std > 0 and torch.isfinite(torch.tensor(std)) else 1.0
        self._first_peak, self._first_psr = self._template_peak, self._template_psr

    def _set_template_map(self, template_map: torch.Tensor) -> None:
        self.template_map = template_map.detach().reshape(template_map.shape[-2:]).clone()
        self._template_distribution = None
        self._template_peak = fn.peak(self.template_map)
        self._template_psr = fn.psr(self.template_map, self.psr_window)

    @property
    def map_scale(self) -> float:
        """``s``, the std of the first-frame template map (1 if it is constant)."""
        return self._map_scale

    @property
    def temperature_scale(self) -> float:
        """The softmax temperature in score units: ``softmax_temperature * s``."""
        return self.temperature * self._map_scale

    def normalize(self, score_map: torch.Tensor) -> torch.Tensor:
        """A score map as the distribution the KL loss compares (Eq. 4); differentiable."""
        return fn.normalize_map(score_map, self.normalization, self.temperature * self._map_scale)

    def assess(self, current_map: torch.Tensor) -> Assessment:
        """Confidence and loss of the current score map ``R_c`` (``(h, w)``) against ``R_t``."""
        if self.template_map is None:
            raise RuntimeError("ConfidenceState.assess called before reset()")
        r_c = current_map.detach().reshape(self.template_map.shape).to(self.template_map.dtype)
        peak_c = fn.peak(r_c)
        psr_c = fn.psr(r_c, self.psr_window)
        if self.confidence_reference == "first_frame":
            ref_peak, ref_psr = self._first_peak, self._first_psr
        else:
            ref_peak, ref_psr = self._template_peak, self._template_psr
        peak_r = fn.relative_ratio(peak_c, ref_peak)
        psr_r = fn.relative_ratio(psr_c, ref_psr)
        if self._template_distribution is None:  # R_t changes on confident frames only
            self._template_distribution = self.normalize(self.template_map)
        loss = float(fn.kl_loss(self._template_distribution, self.normalize(r_c)))
        return Assessment(peak_c, psr_c, peak_r, psr_r, fn.jcpp(peak_r, psr_r, self.jcpp_weight), loss,
                          fn.apce(r_c))

    def is_confident(self, assessment: Assessment) -> bool:
        """``JCPP > T_c`` (a NaN JCPP, from a flat map, is not confident)."""
        return assessment.jcpp > self.confidence_threshold

    def is_lost(self, assessment: Assessment) -> bool:
        """``JCPP <= lost_threshold`` (a NaN JCPP counts as lost): the target is judged lost."""
        return not assessment.jcpp > self.lost_threshold

    def update_template(self, assessment: Assessment, current_map: torch.Tensor) -> bool:
        """Eqs. 10-11: move ``R_t`` towards ``current_map`` with ``alpha = template_update_max *
        update_rate(JCPP, T_c)``; returns whether it moved (``alpha > 0``, i.e. ``JCPP > T_c``)."""
        alpha = self.template_update_max * fn.update_rate(assessment.jcpp, self.confidence_threshold)
        if alpha > 0.0:
            r_c = current_map.detach().reshape(self.template_map.shape).to(self.template_map.dtype)
            self._set_template_map(fn.update_template_map(self.template_map, r_c, alpha))
        return alpha > 0.0
