"""A small ensemble of feed-forward regressors trained side by side (NASLib's ``MLPPredictor``
ensemble, as BANANAS uses it). Used by the BANANAS/NPENAS baselines and by AG-Net's candidate
ranker (``predictor_input="generated+encoding"``). Knows arrays, not search spaces."""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

#: NASLib's ``MLPPredictor``: ``default_hyperparams`` plus ``fit(epochs=500, loss="mae")``
MLP_DEFAULTS: dict[str, Any] = {"num_layers": 20, "layer_width": 20, "batch_size": 32, "lr": 0.001,
                                "regularization": 0.2, "epochs": 500, "loss": "mae"}
ACQ_FN_TYPES = ("its", "ucb", "ei", "exploit_only")
EXPLORE_FACTOR = 0.5  # NASLib's ``acquisition_function`` defaults
EI_CALIBRATION_FACTOR = 5.0


class MLPEnsemble:
    """``num_ensemble`` independent copies of NASLib's ``FeedforwardNet`` trained side by side.

    Each member is ``num_layers`` ReLU layers of ``layer_width`` units and a linear
    output, Xavier-uniform weights and zero biases, trained with Adam
    (``betas=(0.9, 0.99)``) on the raw targets with the L1 (``mae``) or MSE loss plus
    ``regularization * ||out.weight||_1``, in shuffled mini-batches. The members share
    no parameters; stacking them into batched matrix products only runs them together
    (Adam is element-wise, so this equals training them one after another).
    """

    #: train the first layer on the input columns that are not zero throughout (the same training, faster)
    reduce_inputs = True

    def __init__(self, num_ensemble: int = 3, **hyperparams: Any):
        unknown = set(hyperparams) - set(MLP_DEFAULTS)
        if unknown:
            raise ValueError(f"unknown MLP hyperparameters {sorted(unknown)}; known: {sorted(MLP_DEFAULTS)}")
        self.num_ensemble = int(num_ensemble)
        self.hyperparams = {**MLP_DEFAULTS, **hyperparams}
        if self.hyperparams["loss"] not in ("mae", "mse"):
            raise ValueError(f"MLP loss must be 'mae' or 'mse', got {self.hyperparams['loss']!r}")
        if self.num_ensemble < 1:
            raise ValueError(f"num_ensemble must be >= 1, got {num_ensemble}")
        self.flat: torch.Tensor | None = None
        self._params: np.ndarray | None = None  # NumPy view of ``flat``
        self._shapes: list[tuple[int, ...]] = []
        self.weights: list[torch.Tensor] = []
        self.biases: list[torch.Tensor] = []

    def _init(self, input_dims: int) -> None:
        hp = self.hyperparams
        units = [input_dims] + [int(hp["layer_width"])] * int(hp["num_layers"]) + [1]
        members = self.num_ensemble
        self._shapes = []
        for fan_in, fan_out in zip(units[:-1], units[1:]):
            self._shapes += [(members, fan_in, fan_out), (members, 1, fan_out)]
        # all parameters live in one flat tensor: Adam updates it with a few ops per step, and one
        # split (whose backward is a single cat) hands the layers their views
        self.flat = torch.zeros(sum(math.prod(shape) for shape in self._shapes))
        with torch.no_grad():
            for w, (_, fan_in, fan_out) in zip(self._split()[0], self._shapes[::2]):
                bound = math.sqrt(6.0 / (fan_in + fan_out))  # xavier_uniform_, one draw per member
                for member in range(members):
                    w[member].uniform_(-bound, bound)  # biases stay zero
        self.flat.requires_grad_()

    def _split(self) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """(weights, biases) as views of ``flat``: (members, in, out) and (members, 1, out)."""
        chunks = self.flat.split([math.prod(shape) for shape in self._shapes])
        views = [chunk.view(shape) for chunk, shape in zip(chunks, self._shapes)]
        return views[::2], views[1::2]

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: (members, batch, dims) -> (members, batch); the autograd reference of :meth:`_loss_and_grad`."""
        self.weights, self.biases = self._split()
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            x = torch.baddbmm(b, x, w)
            if i < last:
                x = torch.relu(x)
        return x.squeeze(-1)

    def _torch_loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The training loss of one batch (x: members, batch, dims; y: members, batch), in torch."""
        error = self._forward(x) - y
        per_member = error.abs().mean(1) if self.hyperparams["loss"] == "mae" else error.pow(2).mean(1)
        # summing the members' losses keeps their gradients separate
        return per_member.sum() + float(self.hyperparams["regularization"]) * self.weights[-1].abs().sum()

    def _views(self, flat: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """(weights, biases) as NumPy views of a flat parameter (or gradient) vector."""
        views, offset = [], 0
        for shape in self._shapes:
            size = math.prod(shape)
            views.append(flat[offset:offset + size].reshape(shape))
            offset += size
        return views[::2], views[1::2]

    def _np_forward(self, x: np.ndarray, keep: list | None = None) -> np.ndarray:
        """NumPy forward, (members, batch, dims) -> (members, batch, 1); ``keep`` collects the layer inputs."""
        weights, biases = self._views(self._params)
        last = len(weights) - 1
        for i, (w, b) in enumerate(zip(weights, biases)):
            if keep is not None:
                keep.append(x)
            x = np.matmul(x, w)
            x += b
            if i < last:
                np.maximum(x, 0, out=x)
        return x

    def _loss_and_grad(self, x: np.ndarray, y: np.ndarray, grad: np.ndarray) -> float:
        """Loss of one batch and its gradient, written into ``grad`` (same layout as the parameters).

        Hand-derived backward of :meth:`_torch_loss` (L1/L2 error per member, L1 penalty on the
        output layer's weights); ReLU and |.| have derivative 0 at 0, as in torch."""
        hp = self.hyperparams
        inputs: list[np.ndarray] = []
        out = self._np_forward(x, inputs)
        error = out[..., 0] - y
        batch = error.shape[1]
        reg = float(hp["regularization"])
        weights, _ = self._views(self._params)
        if hp["loss"] == "mae":
            loss = float(np.abs(error).mean(1).sum())
            d = np.sign(error) / batch
        else:
            loss = float((error ** 2).mean(1).sum())
            d = 2.0 * error / batch
        loss += reg * float(np.abs(weights[-1]).sum())
        gw, gb = self._views(grad)
        dh = d[..., None].astype(np.float32)
        for i in range(len(weights) - 1, -1, -1):
            np.matmul(inputs[i].transpose(0, 2, 1), dh, out=gw[i])
            gb[i][...] = dh.sum(axis=1, keepdims=True)
            if i > 0:
                dh = np.matmul(dh, weights[i].transpose(0, 2, 1))
                dh *= inputs[i] > 0  # inputs[i] = relu output of layer i-1
        gw[-1] += reg * np.sign(weights[-1])
        return loss

    def fit(self, xtrain: np.ndarray, ytrain: np.ndarray) -> np.ndarray:
        """Train fresh members on encoded ``xtrain`` (N, D) and targets ``ytrain``; returns each member's train MAE.

        Initialisation and batch orders come from torch's global RNG; the training itself
        runs in NumPy (hand-written backward, Adam as ``torch.optim.Adam`` with betas (0.9, 0.99)),
        several times faster than autograd for these tiny layers."""
        hp = self.hyperparams
        x = np.asarray(xtrain, dtype=np.float32)
        y = np.asarray(ytrain, dtype=np.float32)
        if x.ndim != 2 or len(x) != len(y) or len(x) == 0:
            raise ValueError(f"fit needs xtrain (N, D) and ytrain (N,) with N >= 1, got {x.shape}, {y.shape}")
        self._init(x.shape[1])
        full_params, full_shapes = self.flat.detach().numpy(), self._shapes  # shares memory with self.flat
        # An input column that is zero in every training row gets an exactly zero gradient in the first
        # layer, so Adam leaves its weights at their initial values: training on the other columns alone is
        # the same training (sparse encodings such as DARTS' 11,204 path bits use a few hundred), and the
        # trained weights are written back into the full first layer below.
        active = np.flatnonzero(x.any(axis=0))
        first = math.prod(full_shapes[0])
        w0 = full_params[:first].reshape(full_shapes[0])
        reduced = self.reduce_inputs and len(active) < x.shape[1]
        if reduced:
            x = np.ascontiguousarray(x[:, active])
            self._shapes = [(full_shapes[0][0], len(active), full_shapes[0][2]), *full_shapes[1:]]
            params = np.concatenate([w0[:, active, :].ravel(), full_params[first:]])
        else:
            params = full_params
        self._params = params
        grad, m, v = np.zeros_like(params), np.zeros_like(params), np.zeros_like(params)
        lr, beta1, beta2, eps = float(hp["lr"]), 0.9, 0.99, 1e-8
        n, batch_size, members = len(x), int(hp["batch_size"]), self.num_ensemble
        step = 0
        for _ in range(int(hp["epochs"])):
            perms = torch.stack([torch.randperm(n) for _ in range(members)]).numpy()  # each member its own order
            for start in range(0, n, batch_size):
                idx = perms[:, start:start + batch_size]
                self._loss_and_grad(x[idx], y[idx], grad)
                step += 1
                m *= beta1
                m += (1 - beta1) * grad
                v *= beta2
                v += (1 - beta2) * grad * grad
                denom = np.sqrt(v / (1 - beta2 ** step)) + eps
                params -= (lr / (1 - beta1 ** step)) * m / denom
        if reduced:
            kept = math.prod(self._shapes[0])
            w0[:, active, :] = params[:kept].reshape(self._shapes[0])
            full_params[first:] = params[kept:]
            self._shapes, self._params = full_shapes, full_params
        return np.abs(self.predict(xtrain) - np.asarray(ytrain, dtype=np.float64)).mean(axis=1)

    def predict(self, xtest: np.ndarray) -> np.ndarray:
        """Predictions of every member: shape (num_ensemble, M)."""
        if self.flat is None:
            raise RuntimeError("call fit before predict")
        x = np.asarray(xtest, dtype=np.float32)
        out = self._np_forward(np.broadcast_to(x, (self.num_ensemble, *x.shape)))
        return out[..., 0].astype(np.float64)


def acquisition_values(predictions: np.ndarray, ytrain: np.ndarray | None, acq_fn_type: str, *,
                       explore: float = EXPLORE_FACTOR, rng: Any = None) -> np.ndarray:
    """NASLib's ``acquisition_function`` for every candidate at once; ``predictions`` is (members, M).

    ``explore`` is the ``ucb`` factor; ``rng`` (a ``numpy.random.Generator``) gives the ``its``
    draws, by default numpy's global RNG, as NASLib; ``ytrain`` is only read by ``ei``."""
    mean = predictions.mean(axis=0)
    std = predictions.std(axis=0)  # np.std, ddof=0, as NASLib
    if acq_fn_type == "its":
        return (np.random if rng is None else rng).normal(mean, std)  # one draw per candidate, in order
    if acq_fn_type == "ucb":
        return mean + explore * std
    if acq_fn_type == "exploit_only":
        return mean
    if acq_fn_type == "ei":
        factored_std = std / EI_CALIBRATION_FACTOR
        improvement = mean - np.max(ytrain)
        with np.errstate(divide="ignore", invalid="ignore"):
            gam = improvement / factored_std
            cdf = 0.5 * (1.0 + np.vectorize(math.erf, otypes=[float])(gam / math.sqrt(2.0)))
            pdf = np.exp(-0.5 * gam ** 2) / math.sqrt(2.0 * math.pi)
            ei = factored_std * (gam * cdf + pdf)
        # zero spread: EI is the plain improvement (NASLib would divide by zero)
        return np.where(factored_std > 0, ei, np.maximum(improvement, 0.0))
    raise ValueError(f"acq_fn_type must be one of {ACQ_FN_TYPES}, got {acq_fn_type!r}")
