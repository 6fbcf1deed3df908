"""Inference of the networks: precision and engine for the backbone's frozen part (``engine``)."""
from ltr.inference.engine import InferenceBackbone, cpu_has_bf16, device_has_bf16, resolve_engine, resolve_precision

__all__ = ["InferenceBackbone", "cpu_has_bf16", "device_has_bf16", "resolve_engine", "resolve_precision"]
