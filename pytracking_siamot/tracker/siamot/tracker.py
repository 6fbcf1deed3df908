"""The SiamOT tracker: SiamFC tracking plus the paper's online training, wired together.

Units: ``cropping`` (input normalisation, mean-padded crops), ``scale_search`` (SiamFC's
scale pyramid and peak -> pixel mapping), ``pytracking_siamot.online`` (confidence, loss,
SGD fine-tuning, template score-map update) and the SiamFC network from ``ltr``.
"""
from __future__ import annotations

import math
import time
from contextlib import contextmanager
from typing import Any, Iterator

import numpy as np
import torch

from ltr.inference import InferenceBackbone
from ltr.models.tracking.siamfc import SiamFC, siamfc
from pytracking_siamot.boxes import cxcywh_to_xywh, validate_init_xywh, xywh_to_cxcywh
from pytracking_siamot.online import OnlineUpdater
from pytracking_siamot.online.adapter import AdapterSample, AdapterTrainer, gaussian_label, scale_label
from pytracking_siamot.online.updater import frozen_prefix_length
from pytracking_siamot.parameters import TrackerParams
from pytracking_siamot.tracker.siamot.cropping import (context_size, crop_square, mean_color, normalize_image,
                                                    to_tensor_batch)
from pytracking_siamot.tracker.siamot.scale_search import ScaleSearch, shift_map

_record = torch.profiler.record_function


@contextmanager
def _torch_threads(count: int | None) -> Iterator[None]:
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


def resolve_device(device: str) -> torch.device:
    """``'auto'`` -> CUDA when available, else CPU; ``'cuda'`` without CUDA raises ``ValueError``."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("params.device is 'cuda' but torch has no CUDA device here; use 'auto' or 'cpu'")
    return torch.device(device)


class SiamOT:
    """SiamFC tracker with JCPP-gated online training (pytracking contract).

    The network is built once per object; :meth:`initialize` restores its pretrained
    weights, so one object can run many sequences. Exemplar features are cached and
    recomputed only after online training changed the network.

    Output of :meth:`track` (per frame): ``target_bbox`` ``[x, y, w, h]`` floats (0-based),
    ``time`` (s), ``peak``, ``psr``, ``jcpp``, ``loss`` (floats of the current score map
    ``R_c``; NaN where not computed: the baseline only computes them at ``debug >= 1``),
    ``trained``, ``template_updated`` (bools). At ``params.debug >= 1`` also
    ``search_crop`` (255x255x3 uint8 RGB, chosen scale), ``score_map`` (272x272 float32
    upsampled response at the chosen scale, aligned to the crop), ``current_score_map``
    and ``template_score_map`` (17x17 float32) and ``search_area_xywh``.
    """

    def __init__(self, params: TrackerParams) -> None:
        self.params = params
        self.device = resolve_device(params.device)
        correlation = params.correlation
        if correlation == "auto":
            correlation = "conv" if self.device.type == "cuda" else "matmul"
        net = siamfc(params.backbone, pretrained=params.pretrained, weights_path=params.weights_path,
                     center_exemplar=params.exemplar_centering, border_crop=params.feature_border_crop,
                     correlation=correlation)
        net = net.to(self.device)
        if params.channels_last:
            # load_state_dict copies into the existing parameters, so restoring the pretrained
            # weights at each initialize keeps the NHWC layout.
            net = net.to(memory_format=torch.channels_last)
        self.net: SiamFC = net.eval()
        self.response_size = (params.instance_size - params.exemplar_size) // self.net.total_stride + 1
        self.search = ScaleSearch(params.settings, self.response_size, self.net.total_stride)
        self.updater = OnlineUpdater(self.net, params.settings)
        self._adapter: AdapterTrainer | None = None
        if params.online_method == "adapter":
            for p in self.net.parameters():
                p.requires_grad_(False)
            self._adapter = AdapterTrainer(self.net.score, params.settings, self.net.exemplar_region_scores)
        # Inference of the backbone (precision, engine for the blocks the updater froze above).
        self.features = InferenceBackbone(self.net.backbone, frozen_prefix_length(self.net.backbone.features),
                                          params.precision, params.engine, self.device)
        # With the backbone on an engine with its own thread pool (OpenVINO), torch's small
        # operations (crops to a tensor, correlation, x16 upsampling and peak, adapter) run on one
        # thread: a multi-threaded torch region started right after an inference waits for the
        # engine's still-busy workers (README, Speed).
        self._small_op_threads = 1 if self.features.engine != "torch" else None
        self._exemplar: torch.Tensor | None = None
        self._exemplar_features: torch.Tensor | None = None
        self._search_features: torch.Tensor | None = None
        self._confident_since_training = 0
        self._pending: list[AdapterSample] = []

    # -- state helpers -------------------------------------------------------------------
    def _crop_batch(self, image: np.ndarray, sizes: list[float], out_size: int) -> tuple[list[np.ndarray], torch.Tensor]:
        with _record("siamot.crop"), _torch_threads(self._small_op_threads):
            crops = [crop_square(image, self._center_xy, s, out_size, self._pad_color) for s in sizes]
            return crops, to_tensor_batch(crops).to(self.device)

    def _score(self, search: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            with _record("siamot.backbone"):
                xf = self.features(search)
            self._search_features = xf
            with _record("siamot.xcorr"), _torch_threads(self._small_op_threads):
                return self.net.score(self._exemplar_features, xf)

    def _refresh_exemplar_features(self) -> None:
        with torch.no_grad(), _record("siamot.backbone"):
            self._exemplar_features = self.features(self._exemplar)

    def _clamp_size(self) -> None:
        low = np.maximum(self._init_size_wh * self.params.min_scale_factor, self.params.min_target_size)
        high = np.maximum(self._init_size_wh * self.params.max_scale_factor, low)
        self._size_wh = np.clip(self._size_wh, low, high)

    def _context_size(self) -> float:
        """Side of the exemplar region around the current target (:func:`cropping.context_size`)."""
        return context_size(self._size_wh, self.params.context)

    @property
    def exemplar(self) -> torch.Tensor | None:
        """The first-frame exemplar image, ``(1, 3, exemplar_size, exemplar_size)`` float RGB tensor; None before
        :meth:`initialize`. Read-only: online training never changes it."""
        return self._exemplar

    @property
    def exemplar_features(self) -> torch.Tensor | None:
        """``Zf``, the features every search image is correlated with; None before :meth:`initialize`.
        Recomputed when online training changed the backbone or the adapter."""
        return self._exemplar_features

    @property
    def _search_size(self) -> float:
        return self._context_size() * self.params.instance_size / self.params.exemplar_size

    # -- pytracking contract ---------------------------------------------------------------
    def initialize(self, image: np.ndarray, info: dict[str, Any]) -> dict[str, Any]:
        """Start a sequence on ``image`` with ``info['init_bbox']`` ``[x, y, w, h]``.

        Raises ``ValueError`` for a bad image or box (see ``normalize_image`` and
        ``boxes.validate_init_xywh``).
        """
        if self.params.torch_threads is not None:  # pytracking's runner does not pin threads
            torch.set_num_threads(self.params.torch_threads)
        start = time.perf_counter()
        if not isinstance(info, dict) or "init_bbox" not in info:
            raise ValueError("initialize needs info={'init_bbox': [x, y, w, h]}")
        frame = normalize_image(image)
        bbox_xywh = validate_init_xywh(info["init_bbox"], frame.shape)
        cxcywh = xywh_to_cxcywh(bbox_xywh)
        self._center_xy = cxcywh[:2].copy()
        self._size_wh = cxcywh[2:].copy()
        self._init_size_wh = cxcywh[2:].copy()
        self._clamp_size()
        self._pad_color = mean_color(frame)

        self.updater.restore_pretrained()  # before the exemplar features: no leak from the last sequence
        self.features.check_frozen()
        _, self._exemplar = self._crop_batch(frame, [self._context_size()], self.params.exemplar_size)
        self._refresh_exemplar_features()
        # R_t: first-frame exemplar against the first-frame search image centred on the ground truth.
        all_scales = self._adapter is not None and self.params.sample_scale == "all"
        factors = self.search.factors if all_scales else [1.0]
        _, search = self._crop_batch(frame, [self._search_size * f for f in factors], self.params.instance_size)
        middle = len(factors) // 2  # the unscaled crop (scale factors are symmetric around 1)
        self.updater.reset(self._score(search)[middle, 0])
        if self._adapter is not None:
            centre = (self.response_size - 1) / 2.0
            self._adapter.reset(self._exemplar_features,
                                AdapterSample(self._search_features, self._sample_label((centre, centre), middle)),
                                self._target_cells_mask() if self.params.adapter_mask == "target" else None)
            self._confident_since_training = 0
            self._pending = []
        return {"time": time.perf_counter() - start}

    def _target_cells_mask(self) -> torch.Tensor:
        """``(H, W)`` mask of the exemplar feature cells that cover the target box (half a cell of margin)."""
        height, width = self._exemplar_features.shape[-2:]
        stride = self.net.total_stride
        w, h = self._size_wh * self.params.exemplar_size / self._context_size()
        rows = (torch.arange(height, dtype=torch.float32) - (height - 1) / 2.0).abs() * stride <= h / 2 + stride / 2
        cols = (torch.arange(width, dtype=torch.float32) - (width - 1) / 2.0).abs() * stride <= w / 2 + stride / 2
        return (rows[:, None] & cols[None, :]).float().to(self.device)

    def _label(self, center_rc: tuple[float, float]) -> torch.Tensor:
        """Target distribution of an adapter sample whose target sits at ``center_rc`` (cells)."""
        if self.params.training_label == "gaussian":
            return gaussian_label(self.response_size, center_rc, self.params.label_sigma).to(self.device)
        centre = (self.response_size - 1) / 2.0
        shifted = shift_map(self.updater.template_map, (centre - center_rc[1], centre - center_rc[0]))
        return self.updater.normalize(shifted).detach()

    def _sample_label(self, center_rc: tuple[float, float], scale_index: int) -> torch.Tensor:
        """A sample's label: ``(h, w)``, or with ``sample_scale='all'`` ``(S, h, w)`` with the target's
        distribution on the map of ``scale_index`` and zeros on the other scales' maps."""
        crops = len(self.search.factors) if self.params.sample_scale == "all" else 1
        return scale_label(self._label(center_rc), crops, scale_index)

    def _adapter_step(self, found: Any, responses: torch.Tensor, sizes: list[float],
                      base_responses: torch.Tensor | None = None) -> dict[str, Any]:
        """Confidence on the shifted ``R_c``, ``R_t`` update and adapter training (no extra backbone pass).

        ``base_responses``: the un-adapted first-frame exemplar's maps of this frame when already
        computed (``scale_choice``), else they are computed here for the chosen scale when needed.
        """
        params = self.params
        cells = self._displacement_cells(found, sizes)
        idx = found.scale_index
        base_map = None
        with _record("siamot.current_map"):
            current_map = shift_map(responses[idx, 0], (cells[0], cells[1]))
            if params.adapter_confidence == "first_frame_template" or params.label_center == "first_frame_template":
                base_map = (base_responses[idx, 0] if base_responses is not None else
                            self._score_with(self._adapter.base_features, self._search_features[idx:idx + 1])[0, 0])
            if params.adapter_confidence == "first_frame_template":
                assessment = self.updater.assess(shift_map(base_map, (cells[0], cells[1])))
            else:
                assessment = self.updater.assess(current_map)
        out: dict[str, Any] = {"peak": assessment.peak, "psr": assessment.psr, "jcpp": assessment.jcpp,
                               "apce": assessment.apce, "loss": assessment.loss, "trained": False,
                               "current_map": current_map}
        result = self.updater.update_template(assessment, current_map)
        out["template_updated"] = result
        if not assessment.jcpp > params.confidence_threshold:  # NaN (a flat map) is not confident
            self._pending = []  # a confident frame followed by this one is not confirmed
        else:
            centre = (self.response_size - 1) / 2.0
            label_cells = self.search.peak_cells(base_map) if params.label_center == "first_frame_template" else cells
            sample_idx = idx
            if params.sample_scale == "centre":
                # The middle crop's cells: the same image displacement in a crop of another size.
                sample_idx = len(sizes) // 2
                label_cells = np.asarray(label_cells) * sizes[idx] / sizes[sample_idx]
            weight = assessment.jcpp if params.sample_weighting == "jcpp" else 1.0
            crops = slice(None) if params.sample_scale == "all" else slice(sample_idx, sample_idx + 1)
            self._pending.append(AdapterSample(self._search_features[crops].detach(),
                                               self._sample_label((centre + label_cells[1], centre + label_cells[0]),
                                                                  sample_idx), weight))
        if len(self._pending) > params.sample_delay:
            self._adapter.add(self._pending.pop(0))
            self._confident_since_training += 1
            if self._confident_since_training >= max(1, params.train_every):
                self._confident_since_training = 0
                with _record("siamot.online_train"):
                    losses = self._adapter.train(self._adapter_temperature(), params.zero_loss_threshold)
                if len(losses) > 0 and losses[0] > params.zero_loss_threshold:
                    out["trained"] = True
                    self._exemplar_features = self._adapter.exemplar_features()
                    if params.adapter_confidence == "adapted":
                        first = self._adapter.samples[0].features
                        middle = len(first) // 2  # the first frame's unscaled crop
                        self.updater.set_reference(
                            self._score_with(self._exemplar_features, first[middle:middle + 1])[0, 0])
        return out

    def _adapter_temperature(self) -> float:
        """The adapter loss's softmax temperature in score units (``adapter_temperature``, relative)."""
        relative = self.params.adapter_temperature
        return self.updater.temperature_scale if relative is None else relative * self.updater.map_scale

    def _displacement_cells(self, found: Any, sizes: list[float]) -> np.ndarray:
        """The found target displacement ``[dx, dy]`` in score-map cells of the chosen scale's crop."""
        return found.displacement_xy * self.params.instance_size / (sizes[found.scale_index] * self.net.total_stride)

    def _score_with(self, zf: torch.Tensor, xf: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.net.score(zf, xf)

    def _current_map(self, frame: np.ndarray, found: Any, responses: torch.Tensor, sizes: list[float]
                     ) -> tuple[torch.Tensor, Any, torch.Tensor | None]:
        """``R_c`` (exemplar against the search image centred on the new position, chosen scale) as
        ``params.current_map`` says, its assessment, and the recropped search image (``None`` when
        ``R_c`` came from the shifted response alone)."""
        params = self.params
        current_search: torch.Tensor | None = None
        assessment = None
        if params.current_map in ("shifted", "gated"):
            with _record("siamot.current_map"):
                cells = self._displacement_cells(found, sizes)
                current_map = shift_map(responses[found.scale_index, 0], (cells[0], cells[1]))
                assessment = self.updater.assess(current_map)
        if params.current_map == "recrop" or (
                params.current_map == "gated" and assessment.jcpp > params.confidence_threshold):
            _, current_search = self._crop_batch(frame, [self._search_size], params.instance_size)
            current_map = self._score(current_search)[0, 0]
            assessment = self.updater.assess(current_map)
        return current_map, assessment, current_search

    def track(self, image: np.ndarray, info: dict[str, Any] | None = None) -> dict[str, Any]:
        """Track one frame; see the class docstring for the output keys."""
        if self._exemplar_features is None:
            raise RuntimeError("SiamOT.track called before initialize")
        start = time.perf_counter()
        params = self.params
        debug = int(params.debug or 0)
        frame = normalize_image(image)

        search_size = self._search_size
        sizes = [search_size * f for f in self.search.factors]
        crops, search = self._crop_batch(frame, sizes, params.instance_size)
        responses = self._score(search)
        base_responses = None
        if params.online_training and self._adapter is not None and params.scale_choice == "first_frame_template":
            with _record("siamot.xcorr"), _torch_threads(self._small_op_threads):
                base_responses = self._score_with(self._adapter.base_features, self._search_features)
        with _record("siamot.upsample_peak"), _torch_threads(self._small_op_threads):
            found = self.search.locate(responses, search_size, base_responses)
        search_area_center = self._center_xy.copy()
        self._center_xy = self._center_xy + found.displacement_xy
        self._size_wh = self._size_wh * found.size_factor
        self._clamp_size()

        out: dict[str, Any] = {"peak": math.nan, "psr": math.nan, "jcpp": math.nan, "loss": math.nan,
                               "apce": math.nan, "trained": False, "template_updated": False}
        current_map = None
        template_map = self.updater.template_map
        if params.online_training and self._adapter is not None:
            with _torch_threads(self._small_op_threads):
                step = self._adapter_step(found, responses, sizes, base_responses)
            current_map = step.pop("current_map")
            out.update(step)
        elif params.online_training or debug >= 1:
            current_map, assessment, current_search = self._current_map(frame, found, responses, sizes)
            out.update(peak=assessment.peak, psr=assessment.psr, jcpp=assessment.jcpp, loss=assessment.loss,
                       apce=assessment.apce)
            if params.online_training:
                if current_search is None and self.updater.should_train(assessment):
                    _, current_search = self._crop_batch(frame, [self._search_size], params.instance_size)
                result = self.updater.update(assessment, current_map, self._exemplar, current_search)
                out.update(trained=result.trained, template_updated=result.template_updated)
                if result.trained:
                    self._refresh_exemplar_features()

        bbox_xywh = cxcywh_to_xywh(np.concatenate([self._center_xy, self._size_wh]))
        out["target_bbox"] = [float(v) for v in bbox_xywh]
        if debug >= 1:
            chosen_size = sizes[found.scale_index]
            out.update(
                search_crop=np.clip(crops[found.scale_index], 0, 255).astype(np.uint8),
                score_map=found.response,
                current_score_map=current_map.detach().cpu().numpy().astype(np.float32),
                template_score_map=template_map.detach().cpu().numpy().astype(np.float32),
                search_area_xywh=[float(v) for v in cxcywh_to_xywh(
                    np.array([*search_area_center, chosen_size, chosen_size]))],
            )
        out["time"] = time.perf_counter() - start
        return out
