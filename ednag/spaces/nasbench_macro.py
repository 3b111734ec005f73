"""NAS-Bench-Macro (Su et al., CVPR 2021): eight searchable layers of a MobileNetV2-like CIFAR-10
network, each an identity, an MBConv k3 e3 or an MBConv k5 e6 block.

Native form: the benchmark's own 8-digit encoding (``0`` identity, ``1`` MB3_K3, ``2`` MB6_K5);
all 6,561 encodings are rows of the table. The layers form three stages of 2, 3 and 3 layers.
The first layer of a stage is always its own (it may change the resolution or the width), but
an identity later in a stage only shortens the stage, so where it sits does not matter: the
benchmark trained each such network once and copied its result to every encoding of it. There
are 3,969 networks. :meth:`NasBenchMacroSpace.key` is the network (its canonical encoding, the
identities of each stage moved to the stage's end), so the encodings of one network are one
query, as the benchmark counts them.
"""

from __future__ import annotations

import re

from ednag.spaces.base import Choices, Decision, SearchSpace, SpaceError

MACRO_LAYER_OPS: tuple[str, ...] = ("identity", "mb3_k3", "mb6_k5")
#: layers per stage
STAGES: tuple[int, ...] = (2, 3, 3)
NUM_LAYERS = sum(STAGES)
NBM_DATASETS: tuple[str, ...] = ("cifar10",)
_NATIVE_RE = re.compile(rf"^[0-2]{{{NUM_LAYERS}}}$")


def canonical_encoding(choices: Choices) -> Choices:
    """The canonical encoding of a network: within each stage, the layers after the first keep
    their order with the identities moved to the end."""
    out: list[int] = []
    start = 0
    for size in STAGES:
        stage = list(choices[start:start + size])
        rest = stage[1:]
        blocks = [c for c in rest if c != 0]
        out += [stage[0], *blocks, *([0] * (len(rest) - len(blocks)))]
        start += size
    return tuple(out)


class NasBenchMacroSpace(SearchSpace):
    """The 6,561 encodings (3,969 networks) of NAS-Bench-Macro."""

    name = "nasbench_macro"
    decisions = tuple(Decision(f"layer{i}", MACRO_LAYER_OPS) for i in range(NUM_LAYERS))

    def to_native(self, choices: Choices) -> str:
        return "".join(str(c) for c in self.check(choices))

    def from_native(self, native: str) -> Choices:
        if not isinstance(native, str) or _NATIVE_RE.match(native) is None:
            raise SpaceError(
                f"nasbench_macro: malformed encoding {native!r}; expected {NUM_LAYERS} digits "
                "0-2 (0 identity, 1 mb3_k3, 2 mb6_k5), such as '01212100'"
            )
        return tuple(int(d) for d in native)

    def key(self, choices: Choices) -> str:
        """The network: the encoding of :func:`canonical_encoding` (one query per network)."""
        return self.to_native(canonical_encoding(self.check(choices)))


def space_for(dataset: str | None = None) -> NasBenchMacroSpace:
    """The NAS-Bench-Macro space (CIFAR-10 is its only dataset)."""
    dataset = dataset or NBM_DATASETS[0]
    if dataset not in NBM_DATASETS:
        raise SpaceError(
            f"nasbench_macro: unknown dataset {dataset!r}; allowed: {', '.join(NBM_DATASETS)}"
        )
    return NasBenchMacroSpace()
