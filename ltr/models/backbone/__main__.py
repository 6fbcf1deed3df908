"""``python -m ltr.models.backbone``: manage weight files and print the backbone table.

    python -m ltr.models.backbone install-offline   # copy offline ImageNet files into $TORCH_HOME
    python -m ltr.models.backbone where             # where each backbone's weights are expected
    python -m ltr.models.backbone table             # feature size, channels, GFLOPs per search image
"""
from __future__ import annotations

import argparse
import sys

import torch
from torch.utils.flop_counter import FlopCounterMode

from ltr.models.backbone import BACKBONES, build_backbone, expected_weight_file
from ltr.models.backbone.weights import install_offline


def backbone_table() -> list[dict[str, object]]:
    """Measure every backbone (random init, CPU): feature sizes, channels, GFLOPs per 255x255 image."""
    rows: list[dict[str, object]] = []
    for name in BACKBONES:
        net = build_backbone(name).eval()
        with torch.no_grad():
            zf = net(torch.zeros(1, 3, 127, 127))
            counter = FlopCounterMode(display=False)
            with counter:
                xf = net(torch.zeros(1, 3, 255, 255))
        rows.append({
            "backbone": name,
            "exemplar_feature": f"{zf.shape[-2]}x{zf.shape[-1]}",
            "search_feature": f"{xf.shape[-2]}x{xf.shape[-1]}",
            "channels": int(xf.shape[1]),
            "score_map": f"{xf.shape[-2] - zf.shape[-2] + 1}x{xf.shape[-1] - zf.shape[-1] + 1}",
            "gflops_search": counter.get_total_flops() / 1e9,
            "params_m": sum(p.numel() for p in net.parameters()) / 1e6,
            "modification": net.spec.modification,
        })
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ltr.models.backbone",
                                     description=__doc__.replace("``", ""),  # reST literals as plain text
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("install-offline", help="copy the offline-available ImageNet files into $TORCH_HOME/hub/checkpoints")
    sub.add_parser("where", help="print where pretrained=True looks for each backbone's weights")
    sub.add_parser("table", help="print feature size, channels and GFLOPs (FLOPs = 2 x MACs) per 255x255 search image")
    args = parser.parse_args(argv)
    if args.command == "install-offline":
        for line in install_offline():
            print(f"weights: {line}")
    elif args.command == "where":
        for name in BACKBONES:
            path = expected_weight_file(name)
            print(f"{name:20s} {'present' if path.is_file() else 'missing'}  {path}")
    else:
        print("| backbone | exemplar feat. | search feat. | channels | score map | GFLOPs / search image | params (M) | cut |")
        print("|---|---|---|---|---|---|---|---|")
        for r in backbone_table():
            print(f"| {r['backbone']} | {r['exemplar_feature']} | {r['search_feature']} | {r['channels']} | "
                  f"{r['score_map']} | {r['gflops_search']:.2f} | {r['params_m']:.2f} | {r['modification']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
