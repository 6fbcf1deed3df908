"""The SiamOT tracker: SiamFC tracking plus an online method, wired together.

Units: ``cropping`` (input normalisation, mean-padded crops), ``scale_search`` (SiamFC's
scale pyramid and peak -> pixel mapping), the online method (``pytracking_siamot.online``:
what is learnt from the tracked frames, chosen by ``online_method``) and the SiamFC network
from ``ltr``. The tracker crops, scores and locates; the method judges and learns.
"""
from __future__ import annotations

import dataclasses
import math
import time
from typing import Any

import numpy as np
import torch

from ltr.inference import InferenceBackbone
from ltr.models.tracking.siamfc import SiamFC, siamfc
from pytracking_siamot.boxes import cxcywh_to_xywh, validate_init_xywh, xywh_to_cxcywh
from pytracking_siamot.online.factory import online_method_class
from pytracking_siamot.online.method import FirstFrame, Frame, SiameseNetwork, torch_threads
from pytracking_siamot.parameters import TrackerParams
from pytracking_siamot.tracker.siamot.cropping import (context_size, crop_square, mean_color, normalize_image,
                                                    to_tensor_batch)
from pytracking_siamot.tracker.siamot.distractors import DistractorMemory
from pytracking_siamot.tracker.siamot.scale_search import ScaleSearch, resampled_scales
from pytracking_siamot.tracker.siamot.scale_trend import ScaleTrend

_record = torch.profiler.record_function


def resolve_device(device: str) -> torch.device:
    """``'auto'`` -> CUDA when available, else CPU; ``'cuda'`` without CUDA raises ``ValueError``."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("params.device is 'cuda' but torch has no CUDA device here; use 'auto' or 'cpu'")
    return torch.device(device)


class SiamOT:
    """SiamFC tracker with an online method (pytracking contract).

    The network is built once per object; :meth:`initialize` restores its pretrained
    weights, so one object can run many sequences. Exemplar features are cached and
    replaced when the online method changed them.

    Output of :meth:`track` (per frame): ``target_bbox`` ``[x, y, w, h]`` floats (0-based),
    ``time`` (s), ``peak``, ``psr``, ``jcpp``, ``apce``, ``loss`` (floats of the current score map
    ``R_c``; NaN where not computed: the baseline only computes them at ``debug >= 1``),
    ``trained``, ``template_updated`` (bools). At ``params.debug >= 1`` also
    ``search_crop`` (255x255x3 uint8 RGB, chosen scale), ``score_map`` (272x272 float32
    upsampled response at the chosen scale, aligned to the crop), ``current_score_map``
    and ``template_score_map`` (17x17 float32) and ``search_area_xywh``.

    After ``wide_search_after`` frames in a row in which the online method judged the target lost
    (``FrameUpdate.lost``), frames are searched in a wider crop (``wide_search_size`` pixels, one
    scale, the size kept) until one is judged found; the debug crop and map of such a frame are the
    wide ones.

    With ``search_min_size``, a unit search region smaller than that many image pixels is searched in
    larger crops at the same resolution (:meth:`_enlarged_instance`); the debug crop and map are then
    the larger ones, and ``search_area_xywh`` their region.

    With ``distractor_weight`` > 0, the normal search locates the target on its maps less the map of
    the look-alikes remembered from earlier frames (:mod:`.distractors`); the online method and the
    ``current_score_map`` still see the raw maps, the debug ``score_map`` is the suppressed one.
    With ``scale_trend_frames`` > 0, a run of that many frames choosing a larger (or smaller) scale
    changes the size at the rate ``scale_trend_damping`` (:mod:`.scale_trend`).
    With ``clamp_center``, the centre is kept inside the image after each move: the displacement
    (normal, enlarged or wide search) and the online method's relocation (:meth:`_clamp_center`).
    With ``scale_search_every`` k > 1, the normal search runs the scales on frames whose index since
    :meth:`initialize` (frame 0) is a multiple of k; the frames between search one crop at the current
    size (``unit_search``: scale index 0 for the online method, the size kept, no step of the scale
    trend); the debug crop and map are that crop's. The wide and enlarged searches are unchanged.
    With ``scale_features='resampled'`` the normal search passes the unit crop alone and resamples
    the other scales from its features (:meth:`_resampled_search`), except on the frames whose index
    is a multiple of ``resampled_crops_every`` (> 0), which crop every scale.
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
        self.net.requires_grad_(False)  # an online method that trains weights turns on its own
        self._pretrained = {k: v.detach().clone() for k, v in net.state_dict().items()}
        self.response_size = (params.instance_size - params.exemplar_size) // self.net.total_stride + 1
        self.search = ScaleSearch(params.settings, self.response_size, self.net.total_stride)
        # After a loss of the target (wide_search_after): one scale, a larger crop at the same
        # resolution, so the exemplar still matches the target's size and the map covers more image.
        self.wide_search = self._larger_search(params.wide_search_size, params.wide_search_window_influence,
                                               scale_num=1)
        # The frames between scale searches (scale_search_every > 1): the unit scale's crop alone, the
        # normal crop size and cosine window.
        self.unit_search = self._larger_search(params.instance_size, params.window_influence, scale_num=1)
        self._frame_index = 0  # frames since initialize (frame 0)
        method_class = online_method_class(params.settings)
        # Inference of the backbone (precision, engine for the blocks the online method never changes).
        self.features = InferenceBackbone(self.net.backbone,
                                          method_class.frozen_blocks(self.net.backbone.features, params.settings),
                                          params.precision, params.engine, self.device)
        # With the backbone on an engine with its own thread pool (OpenVINO), torch's small
        # operations (crops to a tensor, correlation, x16 upsampling and peak, adapter) run on one
        # thread: a multi-threaded torch region started right after an inference waits for the
        # engine's still-busy workers.
        self._small_op_threads = 1 if self.features.engine != "torch" else None
        self.network = SiameseNetwork(self.net, self.features, self._small_op_threads)
        self.method = method_class(self.network, params.settings)
        self._exemplar: torch.Tensor | None = None
        self._exemplar_features: torch.Tensor | None = None
        self._lost_frames = 0  # frames in a row the online method judged the target lost
        self._enlarged_searches: dict[int, ScaleSearch] = {}  # instance size -> its search (search_min_size)
        # Look-alikes seen beside the target, scored down in the next frames (distractor_weight > 0).
        self.distractors = (DistractorMemory(self.network.score, params.distractor_memory, params.distractor_ratio,
                                             params.distractor_radius, params.distractor_per_frame)
                            if params.distractor_weight > 0 else None)
        # Runs of frames choosing a larger (or smaller) scale adapt the size faster (scale_trend_frames > 0).
        self.scale_trend = ScaleTrend(params.scale_trend_frames, params.scale_trend_damping, params.scale_num // 2)

    # -- state helpers -------------------------------------------------------------------
    def _crop_batch(self, image: np.ndarray, sizes: list[float], out_size: int) -> tuple[list[np.ndarray], torch.Tensor]:
        with _record("siamot.crop"), torch_threads(self._small_op_threads):
            crops = [crop_square(image, self._center_xy, s, out_size, self._pad_color) for s in sizes]
            return crops, to_tensor_batch(crops).to(self.device)

    def _clamp_size(self) -> None:
        low = np.maximum(self._init_size_wh * self.params.min_scale_factor, self.params.min_target_size)
        high = np.maximum(self._init_size_wh * self.params.max_scale_factor, low)
        self._size_wh = np.clip(self._size_wh, low, high)

    def _clamp_center(self, frame: np.ndarray) -> None:
        """With ``clamp_center``, clip the centre to ``[0, width] x [0, height]`` of ``frame`` (H, W, 3).

        The centre is in the tracker's 0-based pixel coordinates (OTB's ``x + (w - 1) / 2``: pixel
        ``i`` is centred on ``i``), so the interval reaches one pixel past the last pixel's centre,
        as pysot's SiamRPN trackers clip it (``bbox_clip(cx, 0, width)``). Only the centre is
        clipped: the box may still extend past the border. Without it a centre that left the image
        makes the next search crop mostly padding.
        """
        if self.params.clamp_center:
            height, width = frame.shape[:2]
            self._center_xy = np.clip(self._center_xy, 0.0, np.array([width, height], dtype=float))

    def _context_size(self) -> float:
        """Side of the exemplar region around the current target (:func:`cropping.context_size`)."""
        return context_size(self._size_wh, self.params.context)

    @property
    def exemplar(self) -> torch.Tensor | None:
        """The first-frame exemplar image, ``(1, 3, exemplar_size, exemplar_size)`` float RGB tensor; None before
        :meth:`initialize`. Read-only: online training never changes it."""
        return self._exemplar

    def run_details(self) -> dict[str, str]:
        """What this object chose on this machine for the run records (JSON values): the backbone's
        resolved ``precision`` (``'fp32'``, ``'bf16'``, ``'int8'``), its ``engine`` and the device."""
        return {"precision": str(self.features.precision), "engine": str(self.features.engine),
                "device": str(self.device)}

    @property
    def exemplar_features(self) -> torch.Tensor | None:
        """``Zf``, the features every search image is correlated with; None before :meth:`initialize`.
        Replaced when the online method changed it (fine-tuned backbone or trained adapter)."""
        return self._exemplar_features

    @property
    def _search_size(self) -> float:
        return self._context_size() * self.params.instance_size / self.params.exemplar_size

    def _enlarged_instance(self, search_size: float) -> int:
        """The search crop's side in pixels for a unit search region of ``search_size`` image pixels:
        ``instance_size`` unless ``search_min_size`` asks for more image, else ``instance_size + 2 *
        stride * k`` with the smallest ``k`` whose region reaches ``search_min_size`` (at the unit
        scale's resolution), at most ``search_max_instance``. Steps of two feature cells keep the
        normal crop's cells at the centre of the larger map (``k`` cells in from each side)."""
        params = self.params
        if params.search_min_size <= 0 or search_size >= params.search_min_size:
            return params.instance_size
        step = 2 * self.net.total_stride
        wanted = params.instance_size * params.search_min_size / search_size
        k = math.ceil((wanted - params.instance_size) / step - 1e-9)
        k_max = (params.search_max_instance - params.instance_size) // step
        return params.instance_size + step * max(0, min(k, k_max))

    def _larger_search(self, instance: int, window_influence: float, scale_num: int | None = None) -> ScaleSearch:
        """A :class:`ScaleSearch` over crops of ``instance`` pixels at the normal crops' resolution (so the
        exemplar still matches the target's size), with its own cosine window over the larger map; the
        normal scales unless ``scale_num`` is given."""
        changes = {"scale_num": scale_num} if scale_num is not None else {}
        settings = dataclasses.replace(self.params.settings, instance_size=instance,
                                       window_influence=window_influence, **changes)
        return ScaleSearch(settings, (instance - self.params.exemplar_size) // self.net.total_stride + 1,
                           self.net.total_stride)

    def _enlarged_search(self, instance: int) -> ScaleSearch:
        """The search of an enlarged crop of ``instance`` pixels (``search_min_size``; cached per size)."""
        search = self._enlarged_searches.get(instance)
        if search is None:
            search = self._larger_search(instance, self.params.search_min_window_influence)
            self._enlarged_searches[instance] = search
        return search

    def _search_enlarged(self, frame: np.ndarray, search_size: float, instance: int):
        """The scale search in crops of ``instance`` pixels covering ``instance / instance_size`` times
        the normal regions (:meth:`_enlarged_instance`). Returns the crops, their image sizes, the
        search result, and the centre ``(S, 1, r, r)`` responses and ``(S, C, H, W)`` features that
        correspond to the normal crops (what the online method judges and learns from)."""
        params = self.params
        enlarge = instance / params.instance_size
        sizes = [search_size * f * enlarge for f in self.search.factors]
        crops, search = self._crop_batch(frame, sizes, instance)
        responses, search_features = self.network.score_images(self._exemplar_features, search)
        with _record("siamot.upsample_peak"), torch_threads(self._small_op_threads):
            found = self._enlarged_search(instance).locate(responses, search_size * enlarge)
        k = (instance - params.instance_size) // (2 * self.net.total_stride)
        r = self.response_size
        h, w = search_features.shape[-2] - 2 * k, search_features.shape[-1] - 2 * k
        return (crops, sizes, found, responses[:, :, k:k + r, k:k + r],
                search_features[:, :, k:k + h, k:k + w])

    def _search_wide(self, frame: np.ndarray):
        """The search after a loss of the target: the wide crop (``wide_search_size`` pixels, the unit
        scale's resolution) locates the target, which moves there at the same size; the method then
        judges the normal unit-scale crop centred on that position (one more backbone pass).

        Returns the wide crop (as a one-element list), its image size, the search result, and the
        ``(1, 1, r, r)`` response and ``(1, C, H, W)`` features of the recentred normal crop.
        """
        params = self.params
        wide_size = self._search_size * params.wide_search_size / params.instance_size
        crops, search = self._crop_batch(frame, [wide_size], params.wide_search_size)
        responses = self.network.score_images(self._exemplar_features, search)[0]
        with _record("siamot.upsample_peak"), torch_threads(self._small_op_threads):
            found = self.wide_search.locate(responses, wide_size)
        self._center_xy = self._center_xy + found.displacement_xy
        self._clamp_center(frame)
        _, search = self._crop_batch(frame, [self._search_size], params.instance_size)
        responses, search_features = self.network.score_images(self._exemplar_features, search)
        return crops, [wide_size], found, responses, search_features

    def _resampled_search(self, frame: np.ndarray, sizes: list[float], search: ScaleSearch, crops_wanted: bool
                          ) -> tuple[torch.Tensor, torch.Tensor, list[np.ndarray]]:
        """``scale_features='resampled'``: one backbone pass on the unit scale's crop, the other
        scales' features resampled from it (:func:`scale_search.resampled_scales`); returns the
        responses, the features and the crops (every scale's when ``crops_wanted``, for the debug
        output; else the unit crop alone, repeated)."""
        unit = len(sizes) // 2  # scale_factors: an odd number of factors, the middle one exactly 1
        crop, image = self._crop_batch(frame, [sizes[unit]], self.params.instance_size)
        unit_features = self.network.backbone(image)
        with _record("siamot.xcorr"), torch_threads(self._small_op_threads):
            search_features = resampled_scales(unit_features, search.factors)
            responses = self.network.score(self._exemplar_features, search_features)
        crops = self._crop_batch(frame, sizes, self.params.instance_size)[0] if crops_wanted else crop * len(sizes)
        return responses, search_features, crops

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

        # Before the exemplar features: nothing fine-tuned leaks from the last sequence.
        self.net.load_state_dict(self._pretrained)
        self.net.eval()
        self.features.check_frozen()
        _, self._exemplar = self._crop_batch(frame, [self._context_size()], self.params.exemplar_size)
        self._exemplar_features = self.network.backbone(self._exemplar)
        # R_t: first-frame exemplar against the first-frame search image centred on the ground truth.
        _, search = self._crop_batch(frame, [self._search_size], self.params.instance_size)
        maps, search_features = self.network.score_images(self._exemplar_features, search)
        target_wh = self._size_wh * self.params.exemplar_size / self._context_size()
        self.method.start(FirstFrame(self._exemplar, self._exemplar_features, maps[0, 0], search_features, target_wh))
        self._lost_frames = 0
        self._frame_index = 0
        self.scale_trend.reset()
        if self.distractors is not None:
            self.distractors.reset()
            centre = (self.response_size - 1) / 2.0
            self.distractors.observe(maps[0, 0], search_features, (centre, centre),
                                     tuple(self._exemplar_features.shape[-2:]))
        return {"time": time.perf_counter() - start}

    def track(self, image: np.ndarray, info: dict[str, Any] | None = None) -> dict[str, Any]:
        """Track one frame; see the class docstring for the output keys."""
        if self._exemplar_features is None:
            raise RuntimeError("SiamOT.track called before initialize")
        start = time.perf_counter()
        params = self.params
        debug = int(params.debug or 0)
        frame = normalize_image(image)
        self._frame_index += 1

        search_size = self._search_size
        search_area_center = self._center_xy.copy()
        wide = 0 < params.wide_search_after <= self._lost_frames
        if wide:
            crops, sizes, found, responses, search_features = self._search_wide(frame)
            cells = np.zeros(2)
            scale_index = 0
        else:
            instance = self._enlarged_instance(search_size)
            scales = True  # this frame's search compares the scales
            if instance != params.instance_size:
                search = self.search
                crops, sizes, found, responses, search_features = self._search_enlarged(frame, search_size, instance)
            else:
                scales = self._frame_index % params.scale_search_every == 0
                search = self.search if scales else self.unit_search
                sizes = [search_size * f for f in search.factors]
                crops_frame = (params.resampled_crops_every > 0
                               and self._frame_index % params.resampled_crops_every == 0)
                if params.scale_features == "resampled" and len(sizes) > 1 and not crops_frame:
                    responses, search_features, crops = self._resampled_search(frame, sizes, search, debug >= 1)
                else:
                    crops, images = self._crop_batch(frame, sizes, params.instance_size)
                    responses, search_features = self.network.score_images(self._exemplar_features, images)
                located = responses
                if self.distractors is not None:
                    with _record("siamot.distractors"), torch_threads(self._small_op_threads):
                        located = self.distractors.suppressed(responses, search_features, params.distractor_weight)
                with _record("siamot.upsample_peak"), torch_threads(self._small_op_threads):
                    found = search.locate(located, search_size)
            normal_sizes = [search_size * f for f in search.factors]
            self._center_xy = self._center_xy + found.displacement_xy
            self._clamp_center(frame)  # before the method's recrop at the target (crop_at_target)
            if scales:  # a one-crop frame keeps the size and says nothing of a scale trend
                self._size_wh = self._size_wh * self.scale_trend.size_factor(
                    found.scale_index, float(search.factors[found.scale_index]), found.size_factor)
                self._clamp_size()
            # The found displacement in score-map cells of the chosen scale's crop.
            cells = (found.displacement_xy * params.instance_size
                     / (normal_sizes[found.scale_index] * self.net.total_stride))
            scale_index = found.scale_index

        update = self.method.update(Frame(
            responses, search_features, scale_index, cells, self._exemplar_features, debug >= 1,
            crop_at_target=lambda: self._crop_batch(frame, [self._search_size], params.instance_size)[1]))
        if update.exemplar_features is not None:
            self._exemplar_features = update.exemplar_features
        if update.relocate_cells is not None:  # the method moves the target (the adapter's drift guard)
            crop_size = self._search_size if wide else sizes[scale_index]
            self._center_xy = self._center_xy + (np.asarray(update.relocate_cells, dtype=float) * crop_size
                                                 * self.net.total_stride / params.instance_size)
            self._clamp_center(frame)
        self._lost_frames = self._lost_frames + 1 if update.lost else 0
        if self.distractors is not None and not wide and update.relocate_cells is None:
            # Look-alikes of the map the target was found in (before suppression), around the found
            # position; the centre cells of an enlarged crop's map are the normal crop's.
            centre = (self.response_size - 1) / 2.0
            with _record("siamot.distractors"), torch_threads(self._small_op_threads):
                self.distractors.observe(responses[scale_index, 0], search_features[scale_index:scale_index + 1],
                                         (centre + cells[1], centre + cells[0]), tuple(self._exemplar_features.shape[-2:]))

        a = update.assessment
        confidence = (a.peak, a.psr, a.jcpp, a.loss, a.apce) if a is not None else (math.nan,) * 5
        out: dict[str, Any] = dict(zip(("peak", "psr", "jcpp", "loss", "apce"), confidence))
        out.update(trained=update.trained, template_updated=update.template_updated)
        bbox_xywh = cxcywh_to_xywh(np.concatenate([self._center_xy, self._size_wh]))
        out["target_bbox"] = [float(v) for v in bbox_xywh]
        if debug >= 1:
            chosen_size = sizes[found.scale_index]
            current = (update.current_map.detach().cpu().numpy().astype(np.float32) if update.current_map is not None
                       else np.full((self.response_size,) * 2, np.nan, np.float32))
            out.update(
                search_crop=np.clip(crops[found.scale_index], 0, 255).astype(np.uint8),
                score_map=found.response,
                current_score_map=current,
                template_score_map=update.template_map.detach().cpu().numpy().astype(np.float32),
                search_area_xywh=[float(v) for v in cxcywh_to_xywh(
                    np.array([*search_area_center, chosen_size, chosen_size]))],
            )
        out["time"] = time.perf_counter() - start
        return out
