"""The NAS-Bench-201 network (Dong & Yang, ICLR 2020) built from an arch string, in PyTorch.

Stem (3x3 convolution and batch norm), three stages of ``cells`` cells at ``C``, ``2C`` and
``4C`` channels joined by residual reduction blocks (a ResNet basic block with stride 2; the
shortcut is a 2x2 average pool and a 1x1 convolution), then batch norm, ReLU, global average
pooling and a linear head. A cell has four nodes; node ``j`` sums ``op(node_i)`` over its
inputs ``i < j``, with ``op`` one of ``none`` (zero), ``skip_connect`` (identity),
``nor_conv_1x1`` / ``nor_conv_3x3`` (ReLU, convolution, batch norm) and ``avg_pool_3x3``; the
cell's output is node 3. The paper's network is ``channels=16, cells=5``.
"""

from __future__ import annotations

import torch
from torch import nn

from ednag.spaces.nb201 import NB201_EDGES, NB201_OPS, NB201Space


class _Zero(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


class _ReLUConvBN(nn.Sequential):
    def __init__(self, channels: int, kernel: int) -> None:
        super().__init__(nn.ReLU(inplace=False),
                         nn.Conv2d(channels, channels, kernel, padding=kernel // 2, bias=False),
                         nn.BatchNorm2d(channels))


def make_op(name: str, channels: int) -> nn.Module:
    """One NB201 operation on ``channels`` channels (shape-preserving)."""
    if name == "none":
        return _Zero()
    if name == "skip_connect":
        return nn.Identity()
    if name == "nor_conv_1x1":
        return _ReLUConvBN(channels, 1)
    if name == "nor_conv_3x3":
        return _ReLUConvBN(channels, 3)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise ValueError(f"unknown NB201 operation {name!r}; allowed: {', '.join(NB201_OPS)}")


class NB201Cell(nn.Module):
    """A 4-node cell: six edges ``(to, from)`` in arch-string order."""

    def __init__(self, ops: tuple[str, ...], channels: int) -> None:
        super().__init__()
        self.edges = nn.ModuleList(make_op(op, channels) for op in ops)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for to in range(1, 4):
            total = None
            for k, (edge_to, frm) in enumerate(NB201_EDGES):
                if edge_to == to:
                    out = self.edges[k](nodes[frm])
                    total = out if total is None else total + out
            nodes.append(total)
        return nodes[3]


class ResidualReduction(nn.Module):
    """ResNet basic block, stride 2, ``c_in`` -> ``c_out`` channels."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.block = nn.Sequential(
            nn.ReLU(), nn.Conv2d(c_in, c_out, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(), nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out))
        self.shortcut = nn.Sequential(nn.AvgPool2d(2, stride=2),
                                      nn.Conv2d(c_in, c_out, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x) + self.shortcut(x)


class NB201Network(nn.Module):
    """The NB201 macro skeleton around one cell (see the module docstring)."""

    def __init__(self, arch: str, channels: int = 16, cells: int = 5, classes: int = 10,
                 in_channels: int = 3) -> None:
        super().__init__()
        for name, value in (("channels", channels), ("cells", cells), ("classes", classes)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        space = NB201Space()
        ops = tuple(NB201_OPS[c] for c in space.from_native(arch))
        self.arch = arch
        layers: list[nn.Module] = [nn.Conv2d(in_channels, channels, 3, padding=1, bias=False),
                                   nn.BatchNorm2d(channels)]
        c = channels
        for stage in range(3):
            if stage:
                layers.append(ResidualReduction(c, 2 * c))
                c *= 2
            layers += [NB201Cell(ops, c) for _ in range(cells)]
        layers += [nn.BatchNorm2d(c), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(c, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))
