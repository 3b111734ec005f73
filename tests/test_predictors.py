"""The predictors: they learn, are deterministic, ignore failures and name bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
from toy import ToySpace

from ednag.optimizers import WORST_FITNESS
from ednag.predictors import (
    PREDICTORS,
    GaussianProcess,
    MLPEnsemble,
    PredictorError,
    default_encoding,
    make_encoder,
    make_predictor,
    transform_targets,
    usable,
)
from ednag.predictors.encodings import nb201_path_encode, option_counts, shared_options
from ednag.spaces import make_space


def _data(seed: int = 0, n: int = 200, d: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """Binary inputs and a smooth nonlinear function of them (additive + one interaction)."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 2, (n, d)).astype(float)
    w = np.linspace(-1.0, 2.0, d)
    return X, X @ w + 1.5 * X[:, 0] * X[:, 1] - np.tanh(X[:, 2:5].sum(axis=1))


@pytest.mark.parametrize("name", PREDICTORS)
def test_fits_a_known_function_better_than_the_mean(name):
    X, y = _data()
    model = make_predictor(name, seed=0)
    model.fit(X[:150], y[:150])
    mean, std = model.predict(X[150:])
    assert mean.shape == std.shape == (50,)
    assert (std >= 0).all()
    mse = float(((mean - y[150:]) ** 2).mean())
    baseline = float(((y[:150].mean() - y[150:]) ** 2).mean())
    assert mse < 0.2 * baseline, (mse, baseline)


def test_same_seed_same_predictions_other_seed_differs():
    X, y = _data()

    def predictions(seed: int) -> np.ndarray:
        model = make_predictor(seed=seed, steps=50)
        model.fit(X[:100], y[:100])
        return model.predict(X[100:])[0]

    assert np.array_equal(predictions(3), predictions(3))
    assert not np.array_equal(predictions(3), predictions(4))


@pytest.mark.parametrize(("name", "params"), [("mlp_ensemble", {"steps": 50}), ("gp", {})])
def test_failed_rows_never_train_it(name, params):
    X, y = _data(n=80)
    bad_X = np.random.default_rng(1).integers(0, 2, (6, X.shape[1])).astype(float)
    bad_y = np.array([WORST_FITNESS, np.nan, np.inf, -np.inf, WORST_FITNESS, np.nan])
    clean, dirty = (make_predictor(name, 0, **params), make_predictor(name, 0, **params))
    clean.fit(X, y)
    dirty.fit(np.vstack([bad_X[:3], X, bad_X[3:]]),
              np.concatenate([bad_y[:3], y, bad_y[3:]]))
    assert np.array_equal(clean.predict(X)[0], dirty.predict(X)[0])
    assert usable(bad_y).sum() == 0
    with pytest.raises(PredictorError, match="usable"):
        make_predictor(name, seed=0).fit(bad_X, bad_y)


@pytest.mark.parametrize(("name", "params", "kappa"), [
    ("mlp_ensemble", {"steps": 200}, 0.0),
    ("mlp_ensemble", {"steps": 200}, 1.5),
    ("mlp_ensemble", {"steps": 200, "prior_scale": 2.0}, 1.5),
    ("gp", {}, 0.0),
    ("gp", {}, 1.5),
])
def test_input_gradient_matches_finite_differences(name, params, kappa):
    """``predict_grad`` is the gradient of ``mean + kappa * std`` (for the ensemble off the
    ReLU kinks, the randomized priors' share included; for the Gaussian process exactly)."""
    rng = np.random.default_rng(0)
    X = rng.integers(0, 2, (80, 8)).astype(float)
    model = make_predictor(name, 0, **params)
    model.fit(X, X @ np.arange(8.0) + np.sin(X.sum(axis=1)))
    Z = rng.uniform(0.0, 1.0, (5, 8))
    mean, std, grad = model.predict_grad(Z, kappa)
    assert np.allclose((mean, std), model.predict(Z))

    def f(points: np.ndarray) -> np.ndarray:
        m, s = model.predict(points)
        return m + kappa * s

    h = 1e-6
    numeric = np.stack([(f(Z + h * e) - f(Z - h * e)) / (2 * h) for e in np.eye(8)], axis=1)
    assert grad.shape == Z.shape and np.abs(grad).max() > 0.1
    assert np.allclose(grad, numeric, atol=1e-6 if name == "mlp_ensemble" else 1e-5)


def test_randomized_priors_keep_the_fit_and_widen_the_spread_away_from_the_data():
    """With ``prior_scale`` the members still agree on the training rows (each fits the
    targets minus its own untrained prior), and disagree more than plain members far from
    them; ``prior_scale=0`` is the plain ensemble, draw for draw."""
    rng = np.random.default_rng(0)
    X = np.zeros((60, 12))
    X[:, :6] = rng.integers(0, 2, (60, 6))  # the data never switches on the last six inputs
    y = X @ np.linspace(-1.0, 2.0, 12)
    far = np.hstack([rng.integers(0, 2, (40, 6)), np.ones((40, 6))])
    plain, zero = MLPEnsemble(seed=0, steps=400), MLPEnsemble(seed=0, steps=400, prior_scale=0)
    prior = MLPEnsemble(seed=0, steps=400, prior_scale=3.0)
    for model in (plain, zero, prior):
        model.fit(X, y)
    assert np.array_equal(plain.predict(far)[1], zero.predict(far)[1]) and zero.prior is None
    mean, std = prior.predict(X)
    assert float(np.abs(mean - y).mean()) < 0.15 * float(y.std())
    assert prior.predict(far)[1].mean() > 3 * plain.predict(far)[1].mean()
    assert prior.predict(far)[1].mean() > 3 * std.mean()
    for bad in (-1.0, float("nan"), True, "1"):
        with pytest.raises(PredictorError, match="prior_scale must be a finite number >= 0"):
            MLPEnsemble(prior_scale=bad)


def test_single_precision_trains_in_float32_and_predicts_like_double():
    """``dtype="float32"`` keeps the weights and every step in single precision, draws the
    same initial weights (so it predicts what ``float64`` does, to single-precision noise), and
    still answers in double precision; an unknown type names the allowed ones."""
    X, y = _data(n=120)
    double, single = MLPEnsemble(seed=5, steps=100), MLPEnsemble(seed=5, steps=100,
                                                                 dtype="float32")
    for model in (double, single):
        model.fit(X[:100], y[:100])
    assert all(w.dtype == b.dtype == np.float32 for w, b in single.params)
    assert all(w.dtype == np.float64 for w, _ in double.params)
    (m64, s64), (m32, s32) = double.predict(X[100:]), single.predict(X[100:])
    assert m32.dtype == s32.dtype == np.float64
    assert not np.array_equal(m32, m64)
    assert np.allclose(m32, m64, atol=1e-3 * float(y.std()))
    assert np.allclose(s32, s64, atol=1e-3 * float(y.std()))
    with pytest.raises(PredictorError, match="dtype must be one of float64, float32; got 'half'"):
        MLPEnsemble(dtype="half")


def test_unknown_names_list_the_allowed_ones():
    with pytest.raises(PredictorError, match="predictor must be one of mlp_ensemble, gp; "
                                             "got 'gaussian_process'"):
        make_predictor("gaussian_process")
    with pytest.raises(PredictorError, match=r"unknown gp parameter\(s\) 'steps'; "
                                             r"allowed: prior_scale"):
        make_predictor("gp", steps=10)
    with pytest.raises(PredictorError, match="predict"):
        make_predictor("gp").predict(np.zeros((1, 3)))
    with pytest.raises(PredictorError, match="onehot, path"):
        make_encoder(make_space("nb201"), "adjacency")
    with pytest.raises(PredictorError, match="nb201"):
        make_encoder(ToySpace(), "path")
    with pytest.raises(PredictorError, match="quantile, raw"):
        transform_targets(np.zeros(3), "log")
    with pytest.raises(PredictorError, match="predict"):
        make_predictor().predict(np.zeros((1, 3)))
    with pytest.raises(PredictorError, match="num_models"):
        make_predictor(num_models=0)
    with pytest.raises(PredictorError, match=r"unknown mlp_ensemble parameter\(s\) "
                                             r"'dtype:float64'; allowed: num_models, .*dtype"):
        make_predictor(**{"dtype:float64": None})  # YAML's {dtype:float64}: no space, one key


def test_quantile_targets_keep_order_and_ties():
    y = np.array([3.0, WORST_FITNESS / 1e6, 7.0, 3.0, 100.0])
    t = transform_targets(y)
    assert t[0] == t[3]
    assert list(np.argsort(t, kind="stable")) == list(np.argsort(y, kind="stable"))
    assert abs(transform_targets(np.array([5.0, 1.0, 9.0, 2.0])).sum()) < 1e-12  # symmetric
    assert np.array_equal(transform_targets(y, "raw"), y)


def test_onehot_encoding_is_the_flattened_matrix():
    space = make_space("nb201")
    archs = [(0, 1, 2, 3, 4, 0), (4, 4, 4, 4, 4, 4)]
    X = make_encoder(space, "onehot")(archs)
    assert X.shape == (2, 30)
    for row, arch in zip(X, archs, strict=True):
        assert np.array_equal(row, space.encode_matrix(arch).reshape(-1))


def test_nb201_path_encoding_by_hand():
    conv3 = 3
    X = nb201_path_encode([(conv3,) * 6, (0,) * 6, (conv3, conv3, conv3, 0, conv3, conv3)])
    assert X.shape == (3, 84)
    # all conv3x3: paths 0->3 (conv3), 0->1->3 and 0->2->3 (conv3, conv3), 0->1->2->3
    assert X[0].sum() == 4 and sorted(X[0][X[0] > 0]) == [1, 1, 2]
    assert X[1].sum() == 0  # every edge is "none": no path carries anything
    assert X[2].sum() == 3  # the direct edge 3<-0 is "none"
    path = make_encoder(make_space("nb201"), "path")
    assert np.array_equal(path([(conv3,) * 6]), X[:1])


def test_onehot_plus_counts_by_hand():
    """NB201's optimum on cifar10 (four conv3x3, one skip, one conv1x1): the one-hot code,
    then how many of the six edges take each operation, in the space's option order."""
    space = make_space("nb201")
    assert shared_options(space) == ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3",
                                     "avg_pool_3x3")
    archs = [(3, 3, 3, 1, 3, 2), (0,) * 6]
    X = make_encoder(space, "onehot+counts")(archs)
    assert X.shape == (2, 35)
    assert np.array_equal(X[:, :30], make_encoder(space, "onehot")(archs))
    assert X[0, 30:].tolist() == [0, 1, 1, 4, 0] and X[1, 30:].tolist() == [6, 0, 0, 0, 0]
    assert default_encoding(space) == "onehot+counts"


def test_counts_take_only_the_options_that_decisions_share():
    """NAS-Bench-Graph: the link decision's options are its own, the four op slots share
    nine operations; TransNAS macro: 'absent' is offered by the last two modules only."""
    graph = make_space("nasbench_graph")
    assert shared_options(graph) == graph.decisions[1].options
    arch = (5, 0, 0, 3, 8)  # any link; gat, gat, cheb, skip
    assert option_counts(graph, [arch])[0].tolist() == [2, 0, 0, 1, 0, 0, 0, 0, 1]
    macro = make_space("transnas_macro")
    assert shared_options(macro)[-1] == "absent"
    absent = len(macro.decisions[-1].options) - 1
    assert option_counts(macro, [(0, 1, 2, 3, absent, absent)])[0].tolist() == [1, 1, 1, 1, 2]


def test_a_param_space_counts_its_categorical_labels_only():
    """Of a param_space, categorical parameters that share labels are counted; ordinal levels
    never are (an ordinal space keeps the one-hot code by default); with nothing shared the
    encoding names the fix."""
    from ednag.spaces import MixedSpace, Param

    acts = MixedSpace([Param("act1", "categorical", ("relu", "gelu")),
                       Param("act2", "categorical", ("gelu", "tanh", "relu"))])
    assert shared_options(acts) == ("relu", "gelu") and default_encoding(acts) == "onehot+counts"
    X = make_encoder(acts, "onehot+counts")([(0, 2), (1, 1)])  # relu relu; gelu tanh
    assert X[:, 5:].tolist() == [[2, 0], [0, 1]]
    levels = MixedSpace([Param("act", "categorical", ("relu", "gelu")),
                         Param("depth", "ordinal", (1, 2, 3)),
                         Param("width", "ordinal", (1, 2, 3))])
    assert shared_options(levels) == () and default_encoding(levels) == "onehot"
    with pytest.raises(PredictorError, match="encoding 'onehot\\+counts' needs a space whose "
                                             "decisions share options"):
        make_encoder(levels, "onehot+counts")
    mixed = MixedSpace([*acts.params, Param("lr", "ordinal", (0.1, 0.2))])
    assert default_encoding(mixed) == "onehot"  # an ordinal parameter: the GP's one-hot code
    with pytest.raises(PredictorError, match="onehot, path, onehot\\+counts"):
        make_encoder(make_space("nb201"), "adjacency")
    assert default_encoding(ToySpace()) == "onehot+counts"  # its decisions share w, x, y, z


def test_a_param_space_is_encoded_compactly_one_coordinate_per_ordinal():
    from ednag.spaces import MixedSpace, Param

    space = MixedSpace([Param("lr", "ordinal", tuple(np.linspace(0.0, 1.0, 1025))),
                        Param("act", "categorical", ("relu", "gelu", "tanh")),
                        Param("depth", "ordinal", (1, 2, 3, 4, 5))])
    X = make_encoder(space)([(0, 2, 4), (512, 0, 1), (1024, 1, 0)])
    assert X.shape == (3, 5)  # 1 + 3 + 1 inputs, not 1025 + 3 + 5
    assert np.allclose(X, [[0.0, 0, 0, 1, 1.0], [0.5, 1, 0, 0, 0.25], [1.0, 0, 1, 0, 0.0]])


def _reference_adam(params, grads_per_step, lr, weight_decay, beta1=0.9, beta2=0.999, eps=1e-8):
    """Adam written array by array, the textbook way, for :class:`Adam` to match bit for bit."""
    params = [(w.copy(), b.copy()) for w, b in params]
    m = [(np.zeros_like(w), np.zeros_like(b)) for w, b in params]
    v = [(np.zeros_like(w), np.zeros_like(b)) for w, b in params]
    for t, grads in enumerate(grads_per_step, start=1):
        c1, c2 = 1.0 - beta1**t, 1.0 - beta2**t
        for (p_w, p_b), (g_w, g_b), (m_w, m_b), (v_w, v_b) in zip(params, grads, m, v, strict=True):
            g_w = g_w + weight_decay * p_w
            for p, g, mm, vv in ((p_w, g_w, m_w, v_w), (p_b, g_b, m_b, v_b)):
                mm *= beta1
                mm += (1.0 - beta1) * g
                vv *= beta2
                vv += (1.0 - beta2) * g * g
                p -= lr * (mm / c1) / (np.sqrt(vv / c2) + eps)
    return params


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_flat_adam_steps_exactly_as_the_per_array_update(dtype):
    from ednag.predictors.mlp import Adam

    rng = np.random.default_rng(3)
    shapes = [((4, 6, 5), (4, 1, 5)), ((4, 5, 1), (4, 1, 1))]
    params = [(rng.standard_normal(ws).astype(dtype), rng.standard_normal(bs).astype(dtype))
              for ws, bs in shapes]
    steps = [[(rng.standard_normal(ws).astype(dtype), rng.standard_normal(bs).astype(dtype))
              for ws, bs in shapes] for _ in range(7)]
    steps[2][0][0][0, 0, :] = 0.0  # zero and negative-zero gradients take the same path
    steps[3][1][1][...] = -0.0
    expected = _reference_adam(params, steps, lr=3e-3, weight_decay=1e-2)
    adam = Adam([(w.copy(), b.copy()) for w, b in params], weight_decay=1e-2)
    for grads in steps:
        adam.step(grads, lr=3e-3)
    assert adam.t == 7
    for (w, b), (ew, eb) in zip(adam.params, expected, strict=True):
        assert w.dtype == ew.dtype and w.shape == ew.shape and b.shape == eb.shape
        assert w.tobytes() == ew.tobytes() and b.tobytes() == eb.tobytes()


def test_one_output_layers_back_propagate_as_matmul_does_bit_for_bit():
    from ednag.predictors.mlp import back_through

    rng = np.random.default_rng(4)
    for dtype in (np.float32, np.float64):
        w = rng.standard_normal((3, 7, 1)).astype(dtype)
        g = rng.standard_normal((3, 11, 1)).astype(dtype)
        w[0, 0, 0], g[1, 2, 0] = 0.0, -0.0  # products of -0.0 come out as 0.0, as in matmul
        g[0, 3, 0] = -1.0
        expected = g @ np.ascontiguousarray(np.swapaxes(w, -1, -2))
        got = back_through(w, g)
        assert got.dtype == expected.dtype and got.tobytes() == expected.tobytes()
        wide = rng.standard_normal((3, 7, 4)).astype(dtype)  # the matmul path
        g4 = rng.standard_normal((3, 11, 4)).astype(dtype)
        assert np.array_equal(back_through(wide, g4), g4 @ np.swapaxes(wide, -1, -2).copy())


def test_gp_is_deterministic_and_interpolates_with_little_noise():
    """The Gaussian process draws nothing (any seed, the same fit), predicts the training
    targets closely where they are noise-free, and is least sure far from them."""
    X, y = _data(n=120)
    a, b = GaussianProcess(seed=1), GaussianProcess(seed=2)
    for model in (a, b):
        model.fit(X[:100], y[:100])
    assert np.array_equal(a.predict(X[100:])[0], b.predict(X[100:])[0])
    mean, std = a.predict(X[:100])
    assert float(np.abs(mean - y[:100]).max()) < 0.1 * float(y.std())
    far = np.full((1, X.shape[1]), 50.0)
    far_mean, far_std = a.predict(far)
    assert far_std[0] > 5 * std.mean()
    assert abs(far_mean[0] - y[:100].mean()) < 1e-6 * float(y.std())  # back to the prior mean


def test_gp_prior_scale_sets_the_far_spread_and_keeps_the_mean():
    """``prior_scale`` is the kernel's amplitude in standardised units: the mean is the
    fitted one, the spread far from the data ``prior_scale`` target standard deviations."""
    X, y = _data(n=80)
    plain, wide = GaussianProcess(), GaussianProcess(prior_scale=10.0)
    for model in (plain, wide):
        model.fit(X, y)
    Z = np.vstack([X[:5], np.full((1, X.shape[1]), 50.0)])
    (m0, s0), (m1, s1) = plain.predict(Z), wide.predict(Z)
    assert np.allclose(m0, m1)
    assert np.allclose(s1, s0 * 10.0 / np.sqrt(plain.amplitude))
    assert s1[-1] == pytest.approx(10.0 * float(y.std()), rel=1e-6)
    with pytest.raises(PredictorError, match="prior_scale must be a finite number >= 0"):
        GaussianProcess(prior_scale=-1.0)


def test_a_space_with_numeric_ranges_defaults_to_the_gaussian_process():
    """``default_predictor``: the process where a space has an ordinal parameter, the ensemble
    on the tabular spaces and on an all-categorical param_space; the predictor-based
    optimizers take it unless told (``ednag_guided`` with Thompson draws there)."""
    from ednag.optimizers.bananas import Bananas
    from ednag.optimizers.diffusionnag import DiffusionNAG
    from ednag.optimizers.ednag_guided import GuidedEDNAG
    from ednag.optimizers.multi_objective.mo_ednag_guided import MOGuidedEDNAG
    from ednag.predictors import default_predictor, has_ordinal
    from ednag.spaces import MixedSpace
    from ednag.spaces.mixed import Param

    numeric = MixedSpace([Param("lr", "ordinal", (0.001, 0.01, 0.1)),
                          Param("act", "categorical", ("relu", "gelu"))])
    choices = MixedSpace([Param("act", "categorical", ("relu", "gelu", "tanh"))])
    nb201 = make_space("nb201")
    assert [has_ordinal(s) for s in (numeric, choices, nb201)] == [True, False, False]
    assert [default_predictor(s) for s in (numeric, choices, nb201)] == [
        "gp", "mlp_ensemble", "mlp_ensemble"]
    guided = GuidedEDNAG(numeric)
    assert (guided.predictor, guided.acquisition, guided.predictor_params) == ("gp", "its", {})
    assert (GuidedEDNAG(nb201).predictor, GuidedEDNAG(nb201).acquisition) == (
        "mlp_ensemble", "ucb")
    told = GuidedEDNAG(numeric, predictor="mlp_ensemble", acquisition="ucb")
    assert (told.predictor, told.acquisition) == ("mlp_ensemble", "ucb")
    assert Bananas(numeric).predictor == DiffusionNAG(numeric).predictor == "gp"
    assert Bananas(nb201).predictor == DiffusionNAG(nb201).predictor == "mlp_ensemble"
    multi = MOGuidedEDNAG(numeric, num_objectives=2)  # keeps the settings it was measured with
    assert (multi.predictor, multi.acquisition) == ("mlp_ensemble", "ucb")
