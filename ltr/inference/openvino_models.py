"""OpenVINO models of a backbone's frozen prefix, converted or quantised once and kept on disk.

Two kinds of model, both with a dynamic input ``(?, 3, ?, ?)`` (float32 RGB in [0, 255]), so one
model serves every input shape: :func:`compile_for_shape` reshapes a copy and compiles it for the
CPU (a fraction of a second), where converting the prefix from torch costs seconds.

* ``converted``: ``openvino.convert_model`` of the prefix (float32 weights; compiled with the
  bf16 or f32 precision hint).
* ``int8``: that model quantised after training with NNCF (``nncf.quantize``, mixed preset:
  symmetric weights, asymmetric activations; NNCF's full bias correction; the first convolution,
  whose error reaches every later layer, kept float where it is a small share of the work
  (:data:`FLOAT_FIRST_CONVOLUTION_MAX_SHARE`); on
  CPUs without an int8 dot-product instruction NNCF's overflow fix on every layer, 7-bit weights, so
  AVX2's 16-bit products of int8 pairs cannot saturate), calibrated on a calibration set
  (``ltr.inference.calibration``). Its agreement with the float32 model -- the smallest cosine
  similarity of the two models' features over the calibration crops -- is measured once, when it
  is built, and kept with it.

Disk cache: one folder per kind and prefix under :func:`cache_root` (``$SIAMOT_CACHE_DIR``, else
``$XDG_CACHE_HOME/siamot/openvino``, else ``~/.cache/siamot/openvino``), holding ``model.xml``,
``model.bin`` and ``meta.json``. The metadata records what the model was built from (format
version, weights fingerprint of the prefix, torch / openvino / nncf versions, calibration set's
identity) and the SHA-1 of both model files. An entry whose metadata differs from what is asked
(stale) or whose files are missing, unreadable or do not match their checksums (corrupt) is
rebuilt and replaced, and the reason is said in one line. Entries are written to a temporary
folder beside their place and renamed into it, so a process never reads half an entry; two
processes building the same entry at once both succeed and one of the two is kept.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any, Callable, Literal

import numpy as np
import torch
from torch import nn

#: Bumped when the layout of an entry or the way a model is built changes: older entries are stale.
FORMAT_VERSION = 1
CACHE_ENV = "SIAMOT_CACHE_DIR"
Kind = Literal["converted", "int8"]
#: The int8 model keeps the first convolution float when its multiply-adds are below this share of
#: the prefix's convolutions' on a 255x255 crop (:func:`first_convolution_share`): 1.7-2.2 % for
#: MobileNetV2, EfficientNet-Lite0 and ResNet34, under 1 % for VGG19 and Inception-v3; AlexNet's
#: 11x11 first convolution is 10.5 %, and float there cost its int8 model a third of its speed on
#: an AVX2-only CPU (docs/speed.md).
FLOAT_FIRST_CONVOLUTION_MAX_SHARE = 0.05
Say = Callable[[str], None]


def cache_root() -> Path:
    """Where the models are kept: ``$SIAMOT_CACHE_DIR``, else ``$XDG_CACHE_HOME/siamot/openvino``,
    else ``~/.cache/siamot/openvino``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "siamot" / "openvino"


def _versions(kind: Kind) -> dict[str, str]:
    import openvino as ov

    versions = {"torch": torch.__version__, "openvino": ov.get_version()}
    if kind == "int8":
        import nncf

        versions["nncf"] = nncf.__version__
    return versions


def _sha1(path: Path) -> str:
    digest = hashlib.sha1()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def entry_folder(kind: Kind, fingerprint: str, root: Path | None = None) -> Path:
    """The cache folder of a ``kind`` model of the prefix with weights ``fingerprint``."""
    return (root or cache_root()) / f"{kind}-{fingerprint[:20]}"


def _load(folder: Path, key: dict[str, Any], say: Say) -> tuple[Any, dict[str, Any]] | None:
    """The cached model and its metadata, or ``None`` (missing, or stale/corrupt: said) to rebuild."""
    meta_path = folder / "meta.json"
    if not folder.exists():
        return None
    try:
        meta = json.loads(meta_path.read_text())
        stored = meta["key"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        say(f"OpenVINO model cache: {folder} is corrupt ({type(error).__name__} reading meta.json); rebuilding it")
        return None
    if stored != key:
        changed = sorted(k for k in set(stored) | set(key) if stored.get(k) != key.get(k))
        say(f"OpenVINO model cache: {folder} is stale ({', '.join(changed)} changed); rebuilding it")
        return None
    try:
        for name in ("model.xml", "model.bin"):
            if _sha1(folder / name) != meta["sha1"][name]:
                raise ValueError(f"{name} does not match its checksum")
        import openvino as ov

        model = ov.Core().read_model(str(folder / "model.xml"))
    except Exception as error:  # any failure to read the files back means: rebuild them
        say(f"OpenVINO model cache: {folder} is corrupt ({error}); rebuilding it")
        return None
    return model, meta


def _store(folder: Path, model: Any, key: dict[str, Any], extra: dict[str, Any]) -> None:
    """Write an entry atomically: a temporary folder beside ``folder``, renamed into place."""
    import openvino as ov

    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        ov.save_model(model, str(tmp / "model.xml"), compress_to_fp16=False)
        meta = {"key": key, "sha1": {name: _sha1(tmp / name) for name in ("model.xml", "model.bin")}, **extra}
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1, sort_keys=True))
        if folder.exists():  # stale or corrupt: move it aside first (a directory cannot be renamed over)
            aside = Path(tempfile.mkdtemp(prefix=f".{folder.name}.old.", dir=folder.parent))
            try:
                folder.rename(aside / "entry")
            except OSError:
                pass  # another process moved or replaced it meanwhile
            shutil.rmtree(aside, ignore_errors=True)
        try:
            tmp.rename(folder)
        except OSError:
            pass  # another process put its (equivalent) entry in place first: keep that one
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def convert(module: nn.Module) -> Any:
    """``openvino.convert_model`` of ``module`` with a dynamic ``(?, 3, ?, ?)`` float32 input."""
    import openvino as ov

    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convert_model traces with torch.jit.trace (FutureWarning)
        return ov.convert_model(module, example_input=torch.zeros(1, 3, 127, 127), input=[(-1, 3, -1, -1)])


def converted_model(module: nn.Module, fingerprint: str, say: Say, root: Path | None = None) -> Any:
    """The dynamic-input float32 OpenVINO model of ``module`` (whose weights ``fingerprint`` names),
    from the disk cache or converted and stored there."""
    key = {"format": FORMAT_VERSION, "kind": "converted", "weights": fingerprint, **_versions("converted")}
    folder = entry_folder("converted", fingerprint, root)
    cached = _load(folder, key, say)
    if cached is not None:
        return cached[0]
    model = convert(module)
    _store(folder, model, key, {})
    return model


def compile_for_shape(model: Any, shape: tuple[int, ...], config: dict[str, Any]) -> Any:
    """An infer request of a copy of ``model`` reshaped to the static input ``shape``, compiled for the CPU."""
    import openvino as ov

    static = model.clone()
    static.reshape({0: ov.PartialShape(list(shape))})
    return ov.Core().compile_model(static, "CPU", config).create_infer_request()


def kernel_types(request: Any) -> dict[str, int]:
    """How many convolutions of a compiled infer request run each primitive (OpenVINO's
    ``primitiveType``, e.g. ``brgconv_avx512_amx_1x1_I8``): the instruction set and numeric
    type the CPU plugin chose, as it ran."""
    counts: dict[str, int] = {}
    for op in request.get_compiled_model().get_runtime_model().get_ordered_ops():
        info = op.get_rt_info()
        if "primitiveType" in info and str(info["layerType"].value) in ("Convolution", "GroupConvolution"):
            name = str(info["primitiveType"].value)
            counts[name] = counts.get(name, 0) + 1
    return counts


def feature_agreement(reference: Any, candidate: Any, crops: list[np.ndarray], threads: int) -> float:
    """The smallest cosine similarity between the features of two OpenVINO models (float32 hint)
    over ``crops`` (each ``(1, 3, H, W)`` float32)."""
    config = {"INFERENCE_PRECISION_HINT": "f32", "INFERENCE_NUM_THREADS": threads}
    shapes: dict[tuple[int, ...], list[np.ndarray]] = {}
    for crop in crops:
        shapes.setdefault(tuple(crop.shape), []).append(crop)
    worst = 1.0
    for shape, group in shapes.items():
        ref_request = compile_for_shape(reference, shape, config)
        cand_request = compile_for_shape(candidate, shape, config)
        for crop in group:
            a = np.array(ref_request.infer([crop])[0], dtype=np.float64).reshape(-1)
            b = np.array(cand_request.infer([crop])[0], dtype=np.float64).reshape(-1)
            cosine = float(a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-30))
            worst = min(worst, cosine)
    return worst


def first_convolution_share(module: nn.Module, size: int = 255) -> float:
    """The first convolution's share of the multiply-adds of all of ``module``'s convolutions on a
    ``(1, 3, size, size)`` input (0.0 without convolutions)."""
    macs: list[int] = []

    def count(conv: nn.Module, inputs: Any, output: torch.Tensor) -> None:
        macs.append(output.numel() * conv.in_channels // conv.groups * int(np.prod(conv.kernel_size)))

    hooks = [m.register_forward_hook(count) for m in module.modules() if isinstance(m, nn.Conv2d)]
    try:
        with torch.no_grad():
            module(torch.zeros(1, 3, size, size))
    finally:
        for hook in hooks:
            hook.remove()
    return macs[0] / sum(macs) if macs and sum(macs) > 0 else 0.0


def first_convolution(model: Any) -> str | None:
    """The friendly name of the first convolution of an OpenVINO model in topological order, or ``None``."""
    for op in model.get_ordered_ops():
        if op.get_type_name() in ("Convolution", "GroupConvolution"):
            return op.get_friendly_name()
    return None


def quantized_model(module: nn.Module, fingerprint: str, calibration: list[np.ndarray], calibration_id: str,
                    say: Say, threads: int = 1, root: Path | None = None,
                    overflow_fix: bool = False) -> tuple[Any, float]:
    """The int8 model of ``module`` and its feature agreement with float32 (:func:`feature_agreement`
    on the calibration crops), from the disk cache or quantised with NNCF and stored there.

    ``calibration``: ``(1, 3, H, W)`` float32 crops in [0, 255] (``ltr.inference.calibration``);
    ``calibration_id`` names them in the cache key. ``overflow_fix``: 7-bit weights in every layer
    (for CPUs without VNNI/AMX; NNCF's default, the first quantised layer only, otherwise); part of
    the cache key. Needs ``nncf`` (``ImportError`` naming it).
    """
    try:
        import nncf
        from nncf.quantization.advanced_parameters import AdvancedQuantizationParameters, OverflowFix
    except ImportError as error:
        raise ImportError("precision='int8' needs the nncf package (int8 post-training quantisation): "
                          "pip install nncf") from error
    float_first = first_convolution_share(module) < FLOAT_FIRST_CONVOLUTION_MAX_SHARE
    key = {"format": FORMAT_VERSION, "kind": "int8", "weights": fingerprint, "calibration": calibration_id,
           "preset": "mixed", "bias_correction": "full",
           "float_layers": "first convolution" if float_first else "none",
           "overflow_fix": "all layers" if overflow_fix else "first layer", **_versions("int8")}
    folder = entry_folder("int8", fingerprint, root)
    cached = _load(folder, key, say)
    if cached is not None:
        model, meta = cached
        return model, float(meta["agreement"])
    float_model = converted_model(module, fingerprint, say, root)
    say(f"precision='int8': quantising the frozen backbone with NNCF on {len(calibration)} calibration crops "
        f"(once; kept in {folder})")
    first = first_convolution(float_model) if float_first else None
    ignored = nncf.IgnoredScope(names=[first]) if first is not None else None
    advanced = AdvancedQuantizationParameters(overflow_fix=OverflowFix.ENABLE if overflow_fix
                                              else OverflowFix.FIRST_LAYER)
    # NNCF's progress bars, notes and log lines would land in the tracker's output: the line above
    # says it all.
    from nncf.common.logging import nncf_logger

    level = nncf_logger.level
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        nncf_logger.setLevel(logging.ERROR)
        try:
            model = nncf.quantize(float_model, nncf.Dataset(calibration), subset_size=len(calibration),
                                  preset=nncf.QuantizationPreset.MIXED, fast_bias_correction=False,
                                  ignored_scope=ignored, advanced_parameters=advanced)
        finally:
            nncf_logger.setLevel(level)
    # Saving folds what NNCF left unfolded (the float first convolution's inputs among them), so the
    # model read back computes slightly different features: use that form here too, as later
    # processes will.
    model = _saved_and_read_back(model)
    agreement = feature_agreement(float_model, model, calibration, threads)
    _store(folder, model, key, {"agreement": agreement, "calibration_crops": len(calibration)})
    return model, agreement


def _saved_and_read_back(model: Any) -> Any:
    """``model`` as a process reading its saved files gets it (written to a temporary folder)."""
    import openvino as ov

    with tempfile.TemporaryDirectory(prefix="siamot-ov-") as tmp:
        ov.save_model(model, str(Path(tmp) / "model.xml"), compress_to_fp16=False)
        core = ov.Core()
        core.set_property({"ENABLE_MMAP": False})  # the weights are read into memory: the folder goes
        return core.read_model(str(Path(tmp) / "model.xml"))
