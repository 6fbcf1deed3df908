"""The paper's online training (Sections 2.3-2.5): SGD fine-tuning of the last backbone blocks.

``online_method='backbone'`` (the ``_paper`` variants, ``PAPER_ONLINE``). Each frame, ``R_c`` (the
exemplar against the search image centred on the tracked position, ``current_map``) is judged
against ``R_t``; when ``JCPP > T_c`` and the KL loss survives Eq. 5 (``> T_l``), the last
``backbone_trainable_layers`` parameterised blocks of ``net.backbone.features`` take
``backbone_iterations`` SGD steps on that loss; then ``R_t`` moves towards ``R_c`` (Eqs. 10-11).
BatchNorm statistics stay frozen (the network stays in eval mode).
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
from torch import nn

from pytracking_siamot.online import functions as fn
from pytracking_siamot.online.confidence import Assessment, ConfidenceState
from pytracking_siamot.online.method import FirstFrame, Frame, FrameUpdate, OnlineMethod, SiameseNetwork, current_map

if TYPE_CHECKING:
    from pytracking_siamot.parameters import SiamOTParams


def first_trainable_block(features: nn.Module, last_blocks: int) -> int:
    """Index among the children of ``features`` of the first of its last ``last_blocks``
    parameterised children (0 = all of them); ``len(children)`` when none has parameters."""
    children = list(features.children())
    parameterised = [i for i, child in enumerate(children) if any(True for _ in child.parameters())]
    chosen = parameterised if last_blocks == 0 else parameterised[-last_blocks:]
    return chosen[0] if chosen else len(children)


def trainable_parameters(features: nn.Module, last_blocks: int) -> list[nn.Parameter]:
    """Parameters of the last ``last_blocks`` parameterised children of ``features`` (0 = all)."""
    children = list(features.children())
    return [p for child in children[first_trainable_block(features, last_blocks):] for p in child.parameters()]


class BackboneFineTuning(OnlineMethod):
    """The paper's fine-tuning of the last backbone blocks (see the module docstring).

    Args:
        network: the tracker's :class:`SiameseNetwork`; its net is put (and kept) in eval mode.
        settings: a ``SiamOTParams``; read here: ``backbone_learning_rate``, ``backbone_momentum``,
            ``backbone_iterations`` (SGD), ``backbone_trainable_layers``, ``zero_loss_threshold``
            (``T_l``), ``current_map`` and the confidence settings (:class:`ConfidenceState`).

    Sets ``requires_grad`` on the parameters of the trained blocks (the tracker leaves every
    parameter frozen).
    """

    def __init__(self, network: SiameseNetwork, settings: SiamOTParams) -> None:
        self.network = network
        self.net = network.net.eval()
        self.confidence = ConfidenceState(settings)
        self.current_map_mode = settings.current_map
        self.zero_loss_threshold = settings.zero_loss_threshold
        self.learning_rate = settings.backbone_learning_rate
        self.momentum = settings.backbone_momentum
        self.iterations = settings.backbone_iterations
        features = self.net.backbone.features
        split = self.frozen_blocks(features, settings)
        self.trainable = trainable_parameters(features, settings.backbone_trainable_layers)
        for p in self.trainable:
            p.requires_grad_(True)
        self._frozen_prefix: nn.Module = features[:split] if split else nn.Identity()
        self._trainable_suffix: nn.Module = features[split:] if split else features
        self._optimizer = self._new_optimizer()
        self._exemplar: torch.Tensor | None = None
        self._exemplar_prefix: tuple[torch.Tensor, torch.Tensor] | None = None  # (exemplar, its activations)

    @classmethod
    def frozen_blocks(cls, features: nn.Module, settings: SiamOTParams) -> int:
        """The blocks before the last ``backbone_trainable_layers`` parameterised ones."""
        if not isinstance(features, nn.Sequential):
            return 0
        return first_trainable_block(features, settings.backbone_trainable_layers)

    def _new_optimizer(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.trainable, lr=self.learning_rate, momentum=self.momentum)

    def start(self, first: FirstFrame) -> None:
        """A fresh optimiser (no momentum from the last sequence) and ``R_t``; the tracker has
        restored the pretrained weights."""
        self.net.eval()
        self._optimizer = self._new_optimizer()
        self._exemplar_prefix = None
        self._exemplar = first.exemplar
        self.confidence.reset(first.template_map)

    def should_train(self, assessment: Assessment) -> bool:
        """Train only when confident (``JCPP > T_c``) and the loss survives Eq. 5 (``> T_l``)."""
        return (self.confidence.is_confident(assessment)
                and fn.thresholded_loss(assessment.loss, self.zero_loss_threshold) > 0.0 and self.iterations > 0)

    def update(self, frame: Frame) -> FrameUpdate:
        """Train (maybe) on the search image centred on the tracked position, then ``R_t`` update."""
        template_map = self.confidence.template_map
        current = current_map(frame, self.network, self.confidence, self.current_map_mode)
        losses: tuple[float, ...] = ()
        if self.should_train(current.assessment):
            search = current.search if current.search is not None else frame.crop_at_target()
            losses = self.train(self._exemplar, search)
        template_updated = self.confidence.update_template(current.assessment, current.score_map)
        exemplar_features = self.network.backbone(self._exemplar) if losses else None
        return FrameUpdate(template_map, current.assessment, current.score_map, trained=bool(losses),
                           template_updated=template_updated, exemplar_features=exemplar_features)

    def train(self, exemplar: torch.Tensor, search: torch.Tensor) -> tuple[float, ...]:
        """SGD iterations on the KL loss between ``R_t`` and ``phi(exemplar) * phi(search)``.

        Args:
            exemplar: (1, 3, 127, 127) first-frame exemplar image (never modified).
            search: (1, 3, 255, 255) search image centred on the tracked position.

        Returns the loss before each iteration's step. If a loss or weight becomes non-finite,
        the weights of this call are rolled back (the non-finite loss is the last value).

        Only the last blocks change, so the activations entering the first trainable block
        depend on the input alone: they are computed once per training event for the search
        image and once per sequence for the exemplar (it never changes), and each SGD iteration
        runs the trainable blocks only. The operations and their order are those of
        ``net(exemplar, search)``, so losses and weights are the same.
        """
        target = self.confidence.normalize(self.confidence.template_map).detach()
        snapshot = [p.detach().clone() for p in self.trainable]
        losses = []
        backbone = self.net.backbone
        with torch.profiler.record_function("siamot.online_train"):
            with torch.no_grad():
                if self._exemplar_prefix is None or self._exemplar_prefix[0] is not exemplar:
                    self._exemplar_prefix = (exemplar, self._frozen_prefix(backbone.normalize(exemplar)))
                exemplar_in = self._exemplar_prefix[1]
                search_in = self._frozen_prefix(backbone.normalize(search))
            with torch.enable_grad():
                for _ in range(self.iterations):
                    self._optimizer.zero_grad(set_to_none=True)
                    score = self.net.score(self._trainable_suffix(exemplar_in),
                                           self._trainable_suffix(search_in))[0, 0]
                    loss = fn.kl_loss(target, self.confidence.normalize(score.to(target.dtype)))
                    losses.append(float(loss.detach()))
                    if not math.isfinite(losses[-1]):
                        break
                    loss.backward()
                    self._optimizer.step()
            if not all(math.isfinite(v) for v in losses) or not all(bool(torch.isfinite(p).all())
                                                                    for p in self.trainable):
                # A diverged step (too high a learning rate) would poison every later frame:
                # roll back this call's steps and the momentum; the NaN stays in the returned losses.
                with torch.no_grad():
                    for p, saved in zip(self.trainable, snapshot):
                        p.copy_(saved)
                self._optimizer = self._new_optimizer()
        return tuple(losses)
