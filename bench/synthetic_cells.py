"""How much NB201 cells differ on ednag's synthetic image task at the default training budget.

Trains ``--cells`` cells drawn uniformly from NAS-Bench-201 (seeded) with the default
``training:`` settings (:class:`ednag.experiment.training.TrainingConfig`: C=16, N=5, 12
epochs, 5,000 training images) and prints each cell's validation and test accuracy, then the
best cell, the worst cell that is not disconnected (a cell whose output is always zero cannot
learn; ``NB201Space.isomorphism_key`` says ``zero``), their spread (target: at least 10 points)
and the seconds per epoch and per architecture on the device used.

    python bench/synthetic_cells.py [--cells 50] [--seed 0] [--device cuda] [--workers 8]

Ends with one line of ``key=value`` pairs.
"""

from __future__ import annotations

import argparse
import concurrent.futures as futures
import multiprocessing
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # this checkout's ednag, not another installed copy
    sys.path.insert(0, str(ROOT))

from ednag.experiment.training import TrainingConfig  # noqa: E402
from ednag.spaces import make_space  # noqa: E402

TARGET_SPREAD = 10.0


def train_one(arch: str, training: TrainingConfig, seed: int, device: str) -> dict[str, float]:
    """One cell trained to the end: final accuracies, seconds per epoch and in all."""
    from trainables.nb201_training import pick_device, train_epochs

    began = time.perf_counter()
    *_, last = train_epochs(arch, training, seed, pick_device(device))
    return {"valid": last.valid_acc, "test": last.test_acc,
            "epoch_s": last.seconds / training.epochs, "arch_s": time.perf_counter() - began}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cells", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0, help="draws the cells")
    parser.add_argument("--device", default=None, help="cpu, cuda (default: cuda if present)")
    parser.add_argument("--workers", type=int, default=1, help="cells trained at once")
    parser.add_argument("--epochs", type=int, default=None, help="override the default 12")
    args = parser.parse_args(argv)
    import torch

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    card = torch.cuda.get_device_name(0) if device.startswith("cuda") else "cpu"
    training = TrainingConfig()
    if args.epochs:
        training = replace(training, epochs=args.epochs)
    space = make_space("nb201")
    rng = np.random.default_rng(args.seed)
    cells = [space.to_native(space.sample(rng)) for _ in range(args.cells)]
    dead = {a for a in cells if space.isomorphism_key(space.from_native(a)) == "zero"}
    print(f"{len(cells)} cells (seed {args.seed}), {len(dead)} disconnected, on {card}, "
          f"{args.workers} at once; training {training}", flush=True)
    began = time.perf_counter()
    results: dict[str, dict[str, float]] = {}
    context = multiprocessing.get_context("spawn")
    with futures.ProcessPoolExecutor(args.workers, mp_context=context) as pool:
        jobs = {pool.submit(train_one, a, training, i, device): a for i, a in enumerate(cells)}
        for job in futures.as_completed(jobs):
            arch = jobs[job]
            results[arch] = job.result()
            r = results[arch]
            print(f"  valid {r['valid']:6.2f}  test {r['test']:6.2f}  {r['arch_s']:6.1f} s  "
                  f"{arch}{'  (disconnected)' if arch in dead else ''}", flush=True)
    wall = time.perf_counter() - began
    live = [a for a in cells if a not in dead]
    best = max(cells, key=lambda a: results[a]["valid"])
    worst = min(live, key=lambda a: results[a]["valid"])
    spread = results[best]["valid"] - results[worst]["valid"]
    print(f"best {results[best]['valid']:.2f} ({best}); worst connected "
          f"{results[worst]['valid']:.2f} ({worst}); spread {spread:.2f} points")
    epoch_s = float(np.median([r["epoch_s"] for r in results.values()]))
    arch_s = float(np.median([r["arch_s"] for r in results.values()]))
    print(f"best_valid={results[best]['valid']:.2f} worst_connected_valid="
          f"{results[worst]['valid']:.2f} spread={spread:.2f} spread_ok="
          f"{int(spread >= TARGET_SPREAD)} disconnected={len(dead)} cells={len(cells)} "
          f"epoch_s_median={epoch_s:.3f} arch_s_median={arch_s:.2f} wall_s={wall:.1f} "
          f"workers={args.workers} device={card.replace(' ', '_')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
