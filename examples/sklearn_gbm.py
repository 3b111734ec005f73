"""A user's own trainable for ``ednag run``: scikit-learn's histogram gradient boosting on the
breast-cancer data bundled with scikit-learn (no download), tuned over learning rate, depth,
leaves and L2 (see ``sklearn-gbm.yaml`` beside this file).

Fitness is the validation log loss (``fitness_mode: min``); the test log loss and accuracy are
only reported. The splits and the model's seed are fixed, so a configuration always scores the
same: the optimizers differ only in which configurations they try.

    pip install scikit-learn
    ednag run examples/sklearn-gbm.yaml
"""

from __future__ import annotations

from typing import Any

SPLIT_SEED = 0


def _splits() -> tuple[Any, ...]:
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    x, y = load_breast_cancer(return_X_y=True)
    x_rest, x_test, y_rest, y_test = train_test_split(x, y, test_size=0.3, stratify=y,
                                                      random_state=SPLIT_SEED)
    x_train, x_valid, y_train, y_valid = train_test_split(x_rest, y_rest, test_size=0.3,
                                                          stratify=y_rest,
                                                          random_state=SPLIT_SEED)
    return x_train, y_train, x_valid, y_valid, x_test, y_test


def score(config: dict[str, Any]) -> dict[str, float]:
    """Train one configuration; its validation and test log loss and accuracy."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import accuracy_score, log_loss
    from threadpoolctl import threadpool_limits

    x_train, y_train, x_valid, y_valid, x_test, y_test = _splits()
    model = HistGradientBoostingClassifier(
        learning_rate=config["learning_rate"], max_depth=config["max_depth"],
        max_leaf_nodes=config["max_leaf_nodes"], l2_regularization=config["l2"],
        max_iter=config["max_iter"], early_stopping=False, random_state=SPLIT_SEED)
    with threadpool_limits(1):  # one core per trial, as Tune's resources say
        model.fit(x_train, y_train)
        p_valid, p_test = model.predict_proba(x_valid), model.predict_proba(x_test)
    return {"valid_logloss": float(log_loss(y_valid, p_valid)),
            "test_logloss": float(log_loss(y_test, p_test)),
            "valid_acc": 100.0 * float(accuracy_score(y_valid, p_valid.argmax(1))),
            "test_acc": 100.0 * float(accuracy_score(y_test, p_test.argmax(1)))}


def fit(config: dict[str, Any]) -> None:
    """Tune function trainable: one report with every metric."""
    from ray import tune

    tune.report(score(config))
