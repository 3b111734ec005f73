"""Where a predictor fitted on a run's queries ranks the NB201 optimum (the trap diagnostic).

Runs an optimizer (as ``bench/sample_efficiency.py``: fitness = 200-epoch validation accuracy)
for ``--budget`` queries, fits a fresh MLP ensemble (default settings, ``--model-seed``) on its
queries with quantile targets, once per predictor encoding, and prints for each: the rank of the
table's optimum among the unseen cells by the ensemble's mean (0 = ranked first; "found" when it
was queried), its mean and spread in target units, and the Spearman correlation of the mean with
the table over the unseen cells. ``docs/ednag.md`` ("Why the trap holds") quotes this output for
the trapped cifar10 seeds. Ends with ``found=<seeds that queried the optimum>`` and
``<encoding>_median_rank=`` over the others.

    PYTHONPATH=. python bench/predictor_ranks.py --optimizer ednag_guided \\
        --seeds 104,110,115,117,120 --budget 100 [--dataset cifar10] [--prior-scale 0]

Encodings: ``onehot`` (the default), ``path`` (NB201's), ``onehot+counts`` (one-hot plus how
often each operation appears over the six edges) and ``onehot+path``.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import sys  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from scipy.stats import spearmanr  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ednag_nb201 import DATA, DATASETS, load_dataset  # noqa: E402

from ednag.predictors import MLPEnsemble, make_encoder, transform_targets  # noqa: E402
from ednag.predictors.encodings import nb201_path_encode, onehot_encode  # noqa: E402
from ednag.registry import OPTIMIZERS  # noqa: E402
from ednag.spaces import make_space  # noqa: E402
from ednag.spaces.base import SearchSpace  # noqa: E402


@dataclass(frozen=True)
class Landscape:
    """One NB201 dataset, read and encoded once: every cell's key index, validation accuracy
    and the four encodings compared."""

    space: SearchSpace
    data: dict[str, tuple[float, float]]
    index: dict[str, int]
    values: np.ndarray
    encodings: dict[str, np.ndarray]

    @classmethod
    def load(cls, dataset: str) -> Landscape:
        space = make_space("nb201")
        data = load_dataset(DATA, dataset)
        cells = list(space.enumerate())
        keys = [space.key(c) for c in cells]
        onehot, path = onehot_encode(space, cells), nb201_path_encode(cells)
        return cls(space, data, {k: i for i, k in enumerate(keys)},
                   np.array([data[k][0] for k in keys]),
                   {"onehot": onehot, "path": path,
                    "onehot+counts": make_encoder(space, "onehot+counts")(cells),
                    "onehot+path": np.hstack([onehot, path])})


def optimum_ranks(land: Landscape, optimizer: str, seed: int, budget: int,
                  model_seed: int = 123, prior_scale: float = 0.0) -> dict[str, dict[str, float]]:
    """For each encoding: the optimum's rank by mean among unseen cells (``-1``: queried),
    its mean and spread, and the mean's Spearman correlation with the table (unseen cells)."""
    space, values = land.space, land.values
    best = int(values.argmax())
    opt = OPTIMIZERS.get(optimizer).target.load()(space, seed=seed, max_queries=budget)
    asked: set[int] = set()
    while not opt.finished:
        batch = opt.ask()
        asked |= {land.index[space.key(a)] for a in batch}
        opt.tell([(a, land.data[space.key(a)][0]) for a in batch])
    queried = np.array(sorted(asked))
    unseen = np.ones(len(values), dtype=bool)
    unseen[queried] = False
    targets = transform_targets(values[queried], "quantile")
    out: dict[str, dict[str, float]] = {}
    for name, X in land.encodings.items():
        model = MLPEnsemble(seed=model_seed, prior_scale=prior_scale)
        model.fit(X[queried], targets)
        mean, std = model.predict(X)
        rank = -1 if not unseen[best] else int((mean[unseen] > mean[best]).sum())
        out[name] = {"rank": rank, "mean": float(mean[best]), "std": float(std[best]),
                     "rho": float(spearmanr(mean[unseen], values[unseen])[0])}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--optimizer", default="ednag_guided")
    parser.add_argument("--seeds", default="104,110,115,117,120")
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--dataset", default="cifar10", choices=DATASETS)
    parser.add_argument("--model-seed", type=int, default=123)
    parser.add_argument("--prior-scale", type=float, default=0.0)
    args = parser.parse_args(argv)
    if not DATA.is_dir():
        print(f"NB201 table not found at {DATA}", file=sys.stderr)
        return 2
    land = Landscape.load(args.dataset)
    per_encoding: dict[str, list[int]] = {}
    for seed in [int(s) for s in args.seeds.split(",")]:
        ranks = optimum_ranks(land, args.optimizer, seed, args.budget, args.model_seed,
                              args.prior_scale)
        for name, r in ranks.items():
            per_encoding.setdefault(name, []).append(int(r["rank"]))
        cells = " | ".join(
            f"{name}: {'found' if r['rank'] < 0 else r['rank']} "
            f"(mean {r['mean']:+.2f}, std {r['std']:.2f}, rho {r['rho']:.2f})"
            for name, r in ranks.items())
        print(f"{args.optimizer} {args.dataset} seed {seed} @{args.budget}: {cells}", flush=True)
    found = sum(r < 0 for r in next(iter(per_encoding.values())))
    missed = {name: [r for r in rs if r >= 0] for name, rs in per_encoding.items()}
    print(" ".join([f"found={found}"] + [
        f"{name}_median_rank={int(np.median(rs)) if rs else 'none'}"
        for name, rs in missed.items()]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
