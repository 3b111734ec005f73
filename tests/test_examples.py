"""The examples run as a user runs them (shortened)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ednag.data import make_synthetic_images

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.slow
@pytest.mark.ray
def test_tune_your_model_runs_quick(tmp_path):
    done = subprocess.run([sys.executable, str(EXAMPLES / "tune_your_model.py"), "--quick"],
                          capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "best accuracy" in done.stdout


@pytest.mark.slow
@pytest.mark.ray
def test_sklearn_gbm_config_runs_from_another_folder(tmp_path):
    """``ednag run`` on a user's trainable beside its config, from another working directory
    (the module is found beside the config and shipped to the workers by value)."""
    pytest.importorskip("sklearn", reason="the example needs scikit-learn (pip install .[test])")
    done = subprocess.run(
        ["ednag", "run", str(EXAMPLES / "sklearn-gbm.yaml"), "--set", "seeds=1",
         "--set", "budget.queries=4", "--set", "optimizers=[ednag]",
         "--out", str(tmp_path / "out")],
        capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "test logloss at query budgets" in done.stdout
    assert "shown negated" in done.stdout


def test_sklearn_gbm_scores_are_deterministic():
    pytest.importorskip("sklearn", reason="the example needs scikit-learn (pip install .[test])")
    sys.path.insert(0, str(EXAMPLES))
    try:
        import sklearn_gbm
    finally:
        sys.path.remove(str(EXAMPLES))
    good = {"learning_rate": 0.1, "max_depth": 3, "max_leaf_nodes": 15, "l2": 0.01,
            "max_iter": 100}
    bad = {**good, "learning_rate": 0.001}
    first, again = sklearn_gbm.score(good), sklearn_gbm.score(good)
    assert first == again and first["valid_logloss"] < sklearn_gbm.score(bad)["valid_logloss"]


def test_synthetic_images_are_seeded_and_not_linearly_easy():
    a, b = make_synthetic_images(300, seed=5), make_synthetic_images(300, seed=5)
    assert (a.images == b.images).all() and (a.labels == b.labels).all()
    assert not (make_synthetic_images(300, seed=6).images == a.images).all()
    train, valid = make_synthetic_images(3000, seed=0).split((0.8, 0.2))
    import numpy as np

    x = np.c_[train.images.reshape(len(train.labels), -1), np.ones(len(train.labels))]
    w = np.linalg.lstsq(x, np.eye(10)[train.labels], rcond=None)[0]
    xv = np.c_[valid.images.reshape(len(valid.labels), -1), np.ones(len(valid.labels))]
    linear = ((xv @ w).argmax(1) == valid.labels).mean()
    assert linear < 0.5  # a linear model on pixels is far from solving it (measured: 0.15)
