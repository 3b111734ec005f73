"""An ensemble of small ReLU MLPs in plain numpy, trained together with Adam.

The ``M`` members share the architecture and the data and differ by their random
initialisation (as in BANANAS); their weights are stacked, (M, fan_in, fan_out) per layer, so
one batched matmul trains or evaluates the whole ensemble. The ensemble mean is the
prediction and the spread of the members its uncertainty.

``prior_scale`` > 0 gives every member a randomized prior function (Osband et al., NeurIPS
2018): a second network of the same shape, randomly initialised and never trained, whose
output times ``prior_scale`` is added to the member's; the trained network fits the targets
minus that prior. Near the data the members still agree; away from it they keep their priors'
disagreement, so the spread grows with the distance from what was evaluated instead of
collapsing as it does for members that differ only by their initialisation.
"""

from __future__ import annotations

import numpy as np

from ednag.checks import finite_at_least, int_at_least
from ednag.predictors.base import PredictorError, training_set

Params = list[tuple[np.ndarray, np.ndarray]]

#: the floating-point types an ensemble may train in: ``float32`` halves the time of every
#: step (the matmuls run at the BLAS's peak either way) at single precision
DTYPES: tuple[str, ...] = ("float64", "float32")


def init_params(rng: np.random.Generator, num_models: int, sizes: list[int],
                dtype: np.dtype | type = np.float64) -> Params:
    """He-initialised weights ``(M, fan_in, fan_out)`` and zero biases ``(M, 1, fan_out)`` of
    type ``dtype`` (drawn in double precision, so every type takes the same draws)."""
    params: Params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        w = rng.standard_normal((num_models, fan_in, fan_out)) * np.sqrt(2.0 / fan_in)
        params.append((w.astype(dtype, copy=False), np.zeros((num_models, 1, fan_out), dtype)))
    return params


def layers_forward(params: Params, h: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """A ReLU MLP's outputs for inputs ``h`` (``(..., n, d_in)``: one network's 2-D weights or
    an ensemble's ``(M, ...)`` weights) and the layer inputs for :func:`layer_gradients`."""
    inputs = []
    last = len(params) - 1
    for i, (w, b) in enumerate(params):
        inputs.append(h)
        h = h @ w
        h += b
        if i < last:
            np.maximum(h, 0.0, out=h)
    return h, inputs


def layer_gradients(params: Params, inputs: list[np.ndarray], g: np.ndarray) -> Params:
    """Gradients of every weight and bias given ``g``, the loss gradient at the outputs
    (shaped as :func:`layers_forward`'s output)."""
    grads: Params = []
    for i in range(len(params) - 1, -1, -1):
        w, _ = params[i]
        h = inputs[i]
        # contiguous transposes: a strided operand sends numpy's matmul off its BLAS path,
        # which made this step 50x slower on a busy machine
        gw = np.ascontiguousarray(np.swapaxes(h, -1, -2)) @ g
        gb = g.sum(axis=-2, keepdims=True)
        grads.append((gw, gb))
        if i:
            g = back_through(w, g) * (h > 0.0)
    return grads[::-1]


def back_through(w: np.ndarray, g: np.ndarray) -> np.ndarray:
    """``g @ w.T`` over the last two axes: the gradient ``g`` at a layer's outputs carried to
    its inputs. A one-output layer's is an outer product, one product per entry: computed so
    (numpy's matmul takes a slow loop for it), with ``+ 0.0`` as matmul's ``0 + a * b`` does
    (a -0.0 product becomes 0.0), so the values are matmul's bit for bit."""
    wt = np.swapaxes(w, -1, -2)
    if w.shape[-1] == 1:
        out = g * wt
        out += 0.0
        return out
    # a contiguous transpose: a strided operand sends numpy's matmul off its BLAS path
    return g @ np.ascontiguousarray(wt)


def input_gradient(params: Params, inputs: list[np.ndarray], g: np.ndarray) -> np.ndarray:
    """The gradient (M, n, d) of the members' outputs weighted by ``g`` (M, n, 1) with respect
    to their inputs, by backprop through ``params`` (ReLU kinks take the side they are on)."""
    for i in range(len(params) - 1, -1, -1):
        g = back_through(params[i][0], g)
        if i:
            g = g * (inputs[i] > 0.0)
    return g


def forward(params: Params, X: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Outputs (M, n) of every member for ``X`` (n, d), and the layer inputs for backprop."""
    out, inputs = layers_forward(params, X[None, :, :])
    return out[..., 0], inputs


def mse_gradients(params: Params, inputs: list[np.ndarray], err: np.ndarray) -> Params:
    """Gradients of ``mean((out - y)^2)`` per member, given ``err = out - y`` (M, n)."""
    return layer_gradients(params, inputs, (2.0 / err.shape[1]) * err[..., None])


class Adam:
    """Adam with L2 weight decay on the weights (not the biases), stepping a model's
    ``(weight, bias)`` pairs in place.

    The pairs are moved into one flat buffer (every weight, then every bias) and
    :attr:`params` holds views of it in their shapes, so a step is a dozen numpy calls on
    three buffers, whatever the depth, instead of a dozen per array. Every element is
    computed as ``p -= lr * (m / c1) / (sqrt(v / c2) + eps)`` would compute it, so the steps
    are those of the per-array update bit for bit.

    >>> w, b = np.ones((2, 3)), np.zeros((1, 3))
    >>> opt = Adam([(w, b)], weight_decay=0.0)
    >>> opt.step([(np.ones((2, 3)), -np.ones((1, 3)))], lr=0.1)
    >>> opt.params[0][0][0, 0].round(6), opt.params[0][1][0, 0].round(6)
    (np.float64(0.9), np.float64(0.1))
    """

    def __init__(self, params: Params, weight_decay: float = 0.0, beta1: float = 0.9,
                 beta2: float = 0.999, eps: float = 1e-8) -> None:
        arrays = [w for w, _ in params] + [b for _, b in params]
        bounds = np.cumsum([0, *(a.size for a in arrays)])
        self._flat = np.concatenate([a.ravel() for a in arrays])  # a copy, in their common type
        views = [self._flat[lo:hi].reshape(a.shape)
                 for a, lo, hi in zip(arrays, bounds[:-1], bounds[1:], strict=True)]
        k = len(params)
        #: the model's pairs, now views of the flat buffer the steps update
        self.params: Params = list(zip(views[:k], views[k:], strict=True))
        self._num_weights = int(bounds[k])
        self._grad = np.empty_like(self._flat)
        self._m = np.zeros_like(self._flat)
        self._v = np.zeros_like(self._flat)
        self._tmp = np.empty_like(self._flat)
        self._tmp2 = np.empty_like(self._flat)
        self.weight_decay = float(weight_decay)
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)
        #: steps taken so far
        self.t = 0

    def step(self, grads: Params, lr: float) -> None:
        """One update from ``grads`` (shaped as :attr:`params`) at learning rate ``lr``."""
        g, m, v, tmp, tmp2, p = self._grad, self._m, self._v, self._tmp, self._tmp2, self._flat
        np.concatenate([gw.ravel() for gw, _ in grads] + [gb.ravel() for _, gb in grads],
                       out=g)
        self.t += 1
        lr, b1, b2 = float(lr), self.beta1, self.beta2
        c1, c2 = 1.0 - b1**self.t, 1.0 - b2**self.t
        nw = self._num_weights
        np.multiply(p[:nw], self.weight_decay, out=tmp[:nw])
        np.add(g[:nw], tmp[:nw], out=g[:nw])
        m *= b1
        np.multiply(g, 1.0 - b1, out=tmp)
        m += tmp
        v *= b2
        np.multiply(g, 1.0 - b2, out=tmp)
        tmp *= g
        v += tmp
        np.divide(m, c1, out=tmp)
        tmp *= lr
        np.divide(v, c2, out=tmp2)
        np.sqrt(tmp2, out=tmp2)
        tmp2 += self.eps
        tmp /= tmp2
        p -= tmp


class MLPEnsemble:
    """``num_models`` MLPs with hidden layers ``hidden``, full-batch Adam for ``steps`` steps
    on standardised targets; seeded and deterministic.

    >>> rng = np.random.default_rng(0)
    >>> X = rng.integers(0, 2, (60, 8)).astype(float)
    >>> model = MLPEnsemble(seed=0, steps=200)
    >>> model.fit(X, X @ np.arange(8.0))
    >>> mean, std = model.predict(X[:3])
    >>> mean.shape, std.shape
    ((3,), (3,))
    """

    def __init__(
        self,
        seed: int = 0,
        num_models: int = 5,
        hidden: tuple[int, ...] = (64, 64),
        steps: int = 300,
        lr: float = 3e-3,
        weight_decay: float = 1e-4,
        batch_size: int = 256,
        prior_scale: float = 0.0,
        dtype: str = "float64",
    ) -> None:
        for name, value, low in (("num_models", num_models, 1), ("steps", steps, 1),
                                 ("batch_size", batch_size, 1)):
            int_at_least(name, value, low, PredictorError)
        if not hidden or any(not isinstance(h, int) or h < 1 for h in hidden):
            raise PredictorError(f"hidden must be a tuple of positive ints, got {hidden!r}")
        if not lr > 0 or not weight_decay >= 0:
            raise PredictorError(f"lr must be > 0 and weight_decay >= 0, got {lr!r}, "
                                 f"{weight_decay!r}")
        finite_at_least("prior_scale", prior_scale, 0, PredictorError)
        if dtype not in DTYPES:
            raise PredictorError(f"dtype must be one of {', '.join(DTYPES)}; got {dtype!r}")
        self.rng = np.random.default_rng(seed)
        self.num_models = num_models
        self.hidden = tuple(hidden)
        self.steps = steps
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.batch_size = batch_size
        self.prior_scale = float(prior_scale)
        #: the floating-point type of the weights and of every training step
        self.dtype = np.dtype(dtype)
        self.params: Params | None = None
        #: the untrained prior networks (``prior_scale`` > 0 only)
        self.prior: Params | None = None
        self._y_mean = 0.0
        self._y_std = 1.0

    def fit(self, X: np.ndarray, y: np.ndarray) -> None:
        """Train every member from a fresh initialisation; failed rows (see
        :func:`~ednag.predictors.base.usable`) are dropped. Needs one usable row."""
        X, z, self._y_mean, self._y_std = training_set(X, y)
        n = z.size
        target = z.astype(self.dtype, copy=False)
        X = X.astype(self.dtype, copy=False)
        sizes = [X.shape[1], *self.hidden, 1]
        params = init_params(self.rng, self.num_models, sizes, self.dtype)
        # drawn after the trained weights, so prior_scale=0 leaves every draw as it was
        self.prior = (init_params(self.rng, self.num_models, sizes, self.dtype)
                      if self.prior_scale else None)
        target = target[None, :]  # (1, n), or (M, n): each member fits the targets minus its prior
        if self.prior is not None:
            target = target - self.prior_scale * forward(self.prior, X)[0]
        adam = Adam(params, self.weight_decay)
        params = adam.params
        for _ in range(self.steps):
            if n > self.batch_size:
                rows = self.rng.choice(n, self.batch_size, replace=False)
                xb, yb = X[rows], target[:, rows]
            else:
                xb, yb = X, target
            out, inputs = forward(params, xb)
            grads = mse_gradients(params, inputs, out - yb)
            adam.step(grads, self.lr)
        self.params = params

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Ensemble mean and member standard deviation, in the units of the fitted ``y``."""
        if self.params is None:
            raise PredictorError("predict() called before fit()")
        out = self._members(X)[0] * self._y_std + self._y_mean
        return out.mean(axis=0), out.std(axis=0)

    def _members(self, X: np.ndarray) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
        """Every member's standardised output (M, n) in double precision, prior included, and
        the layer inputs of the trained and of the prior networks (the latter empty without
        priors); the networks run in the ensemble's ``dtype``."""
        assert self.params is not None
        X = np.asarray(X, dtype=self.dtype)
        out, inputs = forward(self.params, X)
        if self.prior is not None:
            prior_out, prior_inputs = forward(self.prior, X)
            out = out + self.prior_scale * prior_out
        else:
            prior_inputs = []
        return out.astype(np.float64, copy=False), inputs, prior_inputs

    def predict_grad(self, X: np.ndarray, kappa: float = 0.0
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(mean, std, grad)``: :meth:`predict` and the gradient (m, d) of
        ``mean + kappa * std`` with respect to the encodings ``X`` (m, d), by backprop through
        every member (ReLU kinks take the derivative of the side they are on)."""
        if self.params is None:
            raise PredictorError("predict_grad() called before fit()")
        out, inputs, prior_inputs = self._members(X)
        out = out * self._y_std + self._y_mean
        mean, std = out.mean(axis=0), out.std(axis=0)
        # d(mean + kappa std)/d(out_m) per member, (M, n): 1/M + kappa (out_m - mean) / (M std)
        safe = np.where(std > 0, std, 1.0)
        weight = (1.0 + kappa * np.where(std > 0, (out - mean) / safe, 0.0)) / out.shape[0]
        g = (weight * self._y_std)[..., None]
        grad = input_gradient(self.params, inputs, g)
        if self.prior is not None:
            grad = grad + input_gradient(self.prior, prior_inputs, self.prior_scale * g)
        return mean, std, grad.sum(axis=0)
