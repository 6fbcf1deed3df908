"""The contract between the SiamOT tracker and an online method, and the method without training.

The tracker (``pytracking_siamot.tracker.siamot.tracker.SiamOT``) crops, scores and locates the
target; what is learnt online, from which frames, lives in an :class:`OnlineMethod`:

* :class:`NoOnlineTraining` (below): SiamFC, the ``_baseline`` variants (``online_training=False``);
* ``adapter.AdapterMethod``: the default, an adapter on the exemplar features trained on a sample
  memory (``online_method='adapter'``);
* ``backbone.BackboneFineTuning``: the paper as written, SGD on the last backbone blocks
  (``online_method='backbone'``, the ``_paper`` variants).

``factory.ONLINE_METHODS`` maps ``online_method`` to the class. To add a method: subclass
:class:`OnlineMethod` (the three methods below), add its name to the ``online_method`` ``Literal``
of ``SiamOTParams`` and to ``ONLINE_METHODS``, and prefix the settings only it reads with its name.

Per sequence the tracker calls, in this order:

1. its constructor once per tracker object, ``Method(network, settings)``, after
   :meth:`OnlineMethod.frozen_blocks` said which backbone blocks the inference engine may compile
   (every parameter of the network arrives with ``requires_grad=False``: a method that trains
   weights turns it on for those, and only those, of blocks at or after ``frozen_blocks``);
2. :meth:`OnlineMethod.start` with the :class:`FirstFrame`, after restoring the pretrained weights;
3. :meth:`OnlineMethod.update` with each later :class:`Frame`, after the target was located; the
   :class:`FrameUpdate` it returns is reported per frame and may carry new exemplar features.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from pytracking_siamot.online.confidence import Assessment, ConfidenceState
from pytracking_siamot.online.functions import shift_map

if TYPE_CHECKING:
    from ltr.inference import InferenceBackbone
    from ltr.models.tracking.siamfc import SiamFC
    from pytracking_siamot.parameters import SiamOTParams

_record = torch.profiler.record_function


@contextmanager
def torch_threads(count: int | None) -> Iterator[None]:
    """Run the block with ``count`` torch intra-op threads (``None``: unchanged), restored after."""
    before = torch.get_num_threads()
    if count is None or count == before:
        yield
        return
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class SiameseNetwork:
    """The tracker's network as the tracker and its online method run it.

    Args:
        net: the SiamFC network (``net.score(zf, xf)`` is the correlation head).
        features: the backbone's inference (``ltr.inference.InferenceBackbone``): ``(B, 3, H, W)``
            float RGB images in [0, 255] -> ``(B, C, h, w)`` float32 features, no autograd graph.
        small_op_threads: torch threads for the small operations (correlation, crops, the
            adapter): 1 next to an inference engine with its own thread pool, whose still-busy
            workers a multi-threaded torch region would wait for; ``None``: the caller's.
    """

    def __init__(self, net: SiamFC, features: InferenceBackbone, small_op_threads: int | None) -> None:
        self.net = net
        self.features = features
        self.small_op_threads = small_op_threads

    @property
    def device(self) -> torch.device:
        return self.features.device

    def small_ops(self):
        """Context manager running small torch operations on ``small_op_threads`` threads."""
        return torch_threads(self.small_op_threads)

    def backbone(self, images: torch.Tensor) -> torch.Tensor:
        """Backbone features of ``images`` with the current weights (profiled as ``siamot.backbone``)."""
        with torch.no_grad(), _record("siamot.backbone"):
            return self.features(images)

    def score(self, exemplar_features: torch.Tensor, search_features: torch.Tensor) -> torch.Tensor:
        """``(B, 1, h, w)`` score maps of ``Zf`` against ``(B, C, H, W)`` search features (no gradient)."""
        with torch.no_grad():
            return self.net.score(exemplar_features, search_features)

    def score_images(self, exemplar_features: torch.Tensor, search: torch.Tensor
                     ) -> tuple[torch.Tensor, torch.Tensor]:
        """Score maps ``(B, 1, h, w)`` and search features ``(B, C, H, W)`` of search images ``(B, 3, H, W)``."""
        with torch.no_grad():
            with _record("siamot.backbone"):
                search_features = self.features(search)
            with _record("siamot.xcorr"), self.small_ops():
                return self.net.score(exemplar_features, search_features), search_features


@dataclass(frozen=True)
class FirstFrame:
    """What a method starts a sequence from (the network holds its pretrained weights).

    Attributes:
        exemplar: ``(1, 3, E, E)`` float RGB [0, 255] first-frame exemplar image (never modified).
        exemplar_features: ``Zf``, ``(1, C, h, w)``, the exemplar's features.
        template_map: ``R_t``, ``(r, r)`` score map of ``Zf`` against the first-frame search image
            centred on the target (``r`` = 17 for SiamFC).
        search_features: ``(1, C, H, W)`` features of that search image.
        target_wh: ``[w, h]`` of the target in exemplar-image pixels.
    """

    exemplar: torch.Tensor
    exemplar_features: torch.Tensor
    template_map: torch.Tensor
    search_features: torch.Tensor
    target_wh: np.ndarray


@dataclass(frozen=True)
class Frame:
    """One tracked frame as the tracker hands it over, after moving the target to the found position.

    Attributes:
        responses: ``(S, 1, r, r)`` raw score maps of the ``S`` scales' search crops.
        search_features: ``(S, C, H, W)`` features of those crops.
        scale_index: the chosen scale.
        displacement_cells: ``[dx, dy]`` of the found target from the crop centre, in score-map
            cells of the chosen scale's crop.
        exemplar_features: the ``Zf`` the responses were computed with.
        wants_maps: the caller shows the confidence and maps (debug): a method that computes them
            only on demand computes them now.
        crop_at_target: returns the ``(1, 3, I, I)`` search image centred on the new position at
            the new size (a new crop at each call).
    """

    responses: torch.Tensor
    search_features: torch.Tensor
    scale_index: int
    displacement_cells: np.ndarray
    exemplar_features: torch.Tensor
    wants_maps: bool
    crop_at_target: Callable[[], torch.Tensor]

    def shifted(self, score_map: torch.Tensor) -> torch.Tensor:
        """An ``(r, r)`` map of the chosen crop resampled so that its centre is the found position."""
        return shift_map(score_map, (self.displacement_cells[0], self.displacement_cells[1]))


@dataclass(frozen=True)
class FrameUpdate:
    """What a method did on one frame.

    Attributes:
        assessment: the confidence reported for the frame; ``None`` when not computed (reported as NaN).
        current_map: ``R_c``, the ``(r, r)`` map ``assessment`` describes (shown at debug >= 1), or ``None``.
        template_map: ``R_t`` before this frame's update (shown at debug >= 1).
        trained: whether the frame's training changed what is learnt (a training event spread over
            frames, ``adapter_steps_per_frame``, is reported on the frame it ends).
        template_updated: whether ``R_t`` moved (Eqs. 10-11).
        exemplar_features: the ``Zf`` to correlate from the next frame on, when training changed it.
        lost: whether the method judged the target lost on the frame
            (:meth:`ConfidenceState.is_lost`); ``None`` when it made no judgement. The tracker widens
            its search after ``wide_search_after`` frames judged lost in a row (a method that judges
            no frame never widens it).
        relocate_cells: ``[dx, dy]``, score-map cells of the chosen scale's crop: the method moves the
            target by this much from the found position (the adapter's drift guard), or ``None``.
        rolled_back: whether the method undid what it had learnt (the adapter's drift guard).
    """

    template_map: torch.Tensor
    assessment: Assessment | None = None
    current_map: torch.Tensor | None = None
    trained: bool = False
    template_updated: bool = False
    exemplar_features: torch.Tensor | None = None
    lost: bool | None = None
    relocate_cells: np.ndarray | None = None
    rolled_back: bool = False


class OnlineMethod(ABC):
    """An online method: what is learnt from the tracked frames (see the module docstring).

    Subclasses are built as ``Method(network, settings)`` with a :class:`SiameseNetwork` and the
    tracker's ``SiamOTParams``, and hold a :class:`ConfidenceState` as ``confidence``.
    """

    confidence: ConfidenceState

    @classmethod
    def frozen_blocks(cls, features: nn.Module, settings: SiamOTParams) -> int:
        """How many leading children of ``net.backbone.features`` this method never changes
        (they may run in an inference engine). Default: all of them."""
        return len(list(features.children()))

    @abstractmethod
    def start(self, first: FirstFrame) -> None:
        """Start a sequence from its first frame (forget everything learnt before)."""

    @abstractmethod
    def update(self, frame: Frame) -> FrameUpdate:
        """Judge one tracked frame and learn from it."""


@dataclass(frozen=True)
class CurrentMap:
    """``R_c`` of a frame, its assessment, and the recropped search image it came from (``None``
    when ``R_c`` is the shifted response)."""

    score_map: torch.Tensor
    assessment: Assessment
    search: torch.Tensor | None


def current_map(frame: Frame, network: SiameseNetwork, confidence: ConfidenceState, mode: str) -> CurrentMap:
    """``R_c`` (``Zf`` against the search image centred on the new position, chosen scale) as
    ``mode`` (``SiamOTParams.current_map``) says: ``'recrop'`` a new crop and backbone pass (the
    paper), ``'shifted'`` the chosen response resampled at the new centre, ``'gated'`` the shifted
    map, recropped when its JCPP exceeds ``T_c``."""
    assessment = None
    search = None
    if mode in ("shifted", "gated"):
        with _record("siamot.current_map"):
            score_map = frame.shifted(frame.responses[frame.scale_index, 0])
            assessment = confidence.assess(score_map)
    if mode == "recrop" or (mode == "gated" and confidence.is_confident(assessment)):
        search = frame.crop_at_target()
        score_map = network.score_images(frame.exemplar_features, search)[0][0, 0]
        assessment = confidence.assess(score_map)
    return CurrentMap(score_map, assessment, search)


class NoOnlineTraining(OnlineMethod):
    """SiamFC without online training (``online_training=False``): nothing is learnt.

    The confidence of ``R_c`` (obtained as ``current_map`` says) against the first-frame ``R_t`` is
    computed only when the frame's maps are wanted (debug), so a plain run does no extra work.
    """

    def __init__(self, network: SiameseNetwork, settings: SiamOTParams) -> None:
        self.network = network
        self.current_map_mode = settings.current_map
        self.confidence = ConfidenceState(settings)

    def start(self, first: FirstFrame) -> None:
        self.confidence.reset(first.template_map)

    def update(self, frame: Frame) -> FrameUpdate:
        template_map = self.confidence.template_map
        if not frame.wants_maps:
            return FrameUpdate(template_map)
        current = current_map(frame, self.network, self.confidence, self.current_map_mode)
        return FrameUpdate(template_map, current.assessment, current.score_map)
