"""Training: mini-batch gradient descent with Adam, and the history of every epoch."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import network
from . import validation as check
from .network import Params, checked_labels, checked_params, init_params

# train checks its arguments on entry; its steps then pass forward and backward values it
# made or checked, and call their bodies (as forward calls the layers': see network.py)
forward, backward = check.body(network.forward), check.body(network.backward)

OPTIMIZERS = ("sgd", "momentum", "adam")


@dataclass
class History:
    """Per-epoch record of a training run: the loss and accuracy on the training set (and on
    the validation set when one was given), and the learning rate used in that epoch."""

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    restart_losses: list[float] = field(default_factory=list)
    chosen_restart: int = 0


def _grad_vector(grads) -> np.ndarray:
    """The four parameter gradients as one (15,) vector, in the order of Params.to_vector."""
    g = np.empty(15)  # filled in place: faster than concatenating four pieces
    g[:9] = grads.kernel.ravel()
    g[9] = grads.conv_bias
    g[10:14] = grads.weights
    g[14] = grads.fc_bias
    return g


def _evaluate(params, X, y, activation) -> tuple[float, float]:
    trace = forward(params, X, y, activation)
    return trace.loss, float(np.mean((trace.z4 > 0) == (y == 1)))


def _train_args(
    params,
    X,
    y,
    *,
    rng,
    lr=0.02,
    epochs=30,
    batch_size=32,
    optimizer="adam",
    momentum=0.9,
    final_lr_fraction=0.05,
    activation="relu",
    restarts=4,
    restart_epochs=4,
    validation=None,
) -> dict:
    params = checked_params(params)
    X = check.array(X, "X", (3,), tail=(6, 6))
    y = checked_labels(y, X)
    rng = check.rng(rng)
    lr = check.real(lr, "lr", low=0.0, low_open=True)
    epochs = check.integer(epochs, "epochs", low=1)
    batch_size = check.integer(batch_size, "batch_size", low=1)
    if not isinstance(optimizer, str) or optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer: expected one of {OPTIMIZERS}, got {optimizer!r}")
    momentum = check.real(momentum, "momentum", low=0.0, high=1.0, high_open=True)
    final_lr_fraction = check.real(
        final_lr_fraction, "final_lr_fraction", low=0.0, low_open=True, high=1.0
    )
    activation = check.activation(activation)
    if validation is not None:
        if not (isinstance(validation, tuple) and len(validation) == 2):
            raise TypeError("validation: expected a tuple (X_val, y_val)")
        X_val = check.array(validation[0], "validation[0]", (3,), tail=(6, 6))
        validation = (X_val, checked_labels(validation[1], X_val, "validation[1]"))

    restarts = check.integer(restarts, "restarts", low=1)
    restart_epochs = check.integer(restart_epochs, "restart_epochs", low=1)
    if restarts > 1 and restart_epochs >= epochs:
        raise ValueError(
            f"restart_epochs: expected fewer than epochs={epochs} when restarts > 1, "
            f"got {restart_epochs}"
        )
    return dict(
        params=params,
        X=X,
        y=y,
        rng=rng,
        lr=lr,
        epochs=epochs,
        batch_size=batch_size,
        optimizer=optimizer,
        momentum=momentum,
        final_lr_fraction=final_lr_fraction,
        activation=activation,
        restarts=restarts,
        restart_epochs=restart_epochs,
        validation=validation,
    )


@check.on_entry(_train_args)
def train(
    params,
    X,
    y,
    *,
    rng,
    lr=0.02,
    epochs=30,
    batch_size=32,
    optimizer="adam",
    momentum=0.9,
    final_lr_fraction=0.05,
    activation="relu",
    restarts=4,
    restart_epochs=4,
    validation=None,
):
    """Train ``params`` on images ``X`` (n, 6, 6) with labels ``y`` (n,); return (params, history).

    Each epoch visits the images once in a random order (drawn from ``rng``), in
    mini-batches of ``batch_size``; after each batch the parameters move against the
    gradient of the batch's mean loss:
      - "sgd":      θ ← θ - lr g
      - "momentum": v ← momentum v + g;  θ ← θ - lr v
      - "adam":     Adam (β1 = 0.9, β2 = 0.999, ε = 1e-8), with ``momentum`` as β1.
    The learning rate decays geometrically from ``lr`` in the first epoch to
    ``lr * final_lr_fraction`` in the last (1.0 keeps it constant).

    validation: optional (X_val, y_val) whose loss and accuracy are recorded every epoch.
    Returns the trained :class:`Params` and a :class:`History` of per-epoch figures.
    """
    settings = dict(
        lr=lr,
        epochs=epochs,
        batch_size=batch_size,
        optimizer=optimizer,
        momentum=momentum,
        final_lr_fraction=final_lr_fraction,
        activation=activation,
    )
    if restarts == 1:
        run = Run(params, settings, rng)
        run.fit(X, y, epochs, validation)
        return run.params, run.history

    # Restarts: hold out a tenth of the images, give each start a few epochs on the rest,
    # keep the start with the lowest held-out loss, and train it on all images to the end.
    order = rng.permutation(X.shape[0])
    held = order[: max(1, X.shape[0] // 10)]
    kept = order[max(1, X.shape[0] // 10) :]
    runs = []
    for attempt in range(restarts):
        start = params if attempt == 0 else init_params(rng)
        run = Run(start, settings, rng)
        run.fit(X[kept], y[kept], restart_epochs, validation)
        run.history.restart_losses = []
        runs.append((_evaluate(run.params, X[held], y[held], activation)[0], attempt, run))
    best_loss, best, run = min(runs, key=lambda r: (r[0], r[1]))
    run.fit(X, y, epochs - restart_epochs, validation)
    run.history.restart_losses = [r[0] for r in runs]
    run.history.chosen_restart = best
    return run.params, run.history


class Run:
    """One training run: the parameters as a 15-vector, the optimizer's state, the history.

    What :func:`train` drives: ``fit`` visits the images epoch by epoch in mini-batches, and
    ``update`` is the step on one mini-batch (the training chapter shows both).
    """

    def __init__(self, params, settings, rng):
        self.theta = params.to_vector()
        self.velocity = np.zeros_like(self.theta)  # momentum, or Adam's first moment
        self.second = np.zeros_like(self.theta)  # Adam's second moment
        self.steps = 0
        self.epoch = 0
        self.settings = settings
        self.rng = rng
        self.history = History()

    @property
    def params(self) -> Params:
        return Params.from_vector(self.theta)

    def fit(self, X, y, epochs, validation):
        s = self.settings
        decay = s["final_lr_fraction"] ** (1.0 / max(s["epochs"] - 1, 1))
        for _ in range(epochs):
            rate = s["lr"] * decay**self.epoch
            order = self.rng.permutation(X.shape[0])
            X_epoch, y_epoch = X[order], y[order]  # this epoch's order; each batch is a slice
            for start in range(0, X.shape[0], s["batch_size"]):
                end = start + s["batch_size"]
                self.update(X_epoch[start:end], y_epoch[start:end], rate)
            self.epoch += 1
            self.record(X, y, rate, validation)

    def update(self, X, y, rate):
        """One step on one mini-batch: forward, backward, move θ against the gradient."""
        s = self.settings
        # Views into θ, without from_vector's checks and copies: θ is valid (we made it)
        # and never changed in place (each step below builds a new θ).
        t = self.theta
        current = Params(t[:9].reshape(3, 3), float(t[9]), t[10:14], float(t[14]))
        trace = forward(current, X, None, s["activation"])
        g = _grad_vector(backward(current, trace, y))
        self.steps += 1
        beta = s["momentum"]
        if s["optimizer"] == "sgd":
            self.theta = self.theta - rate * g
        elif s["optimizer"] == "momentum":
            self.velocity = beta * self.velocity + g
            self.theta = self.theta - rate * self.velocity
        else:
            self.velocity = beta * self.velocity + (1 - beta) * g
            self.second = 0.999 * self.second + 0.001 * g * g
            m_hat = self.velocity / (1 - beta**self.steps)
            v_hat = self.second / (1 - 0.999**self.steps)
            self.theta = self.theta - rate * m_hat / (np.sqrt(v_hat) + 1e-8)

    def record(self, X, y, rate, validation):
        params = self.params
        loss, acc = _evaluate(params, X, y, self.settings["activation"])
        self.history.loss.append(loss)
        self.history.accuracy.append(acc)
        self.history.lr.append(rate)
        if validation is not None:
            val_loss, val_acc = _evaluate(params, *validation, self.settings["activation"])
            self.history.val_loss.append(val_loss)
            self.history.val_accuracy.append(val_acc)
