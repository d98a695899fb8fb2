"""Backprop as an algorithm: reverse-mode automatic differentiation for single numbers.

A :class:`Scalar` remembers the scalars it was computed from (its parents) and the local
derivative of itself with respect to each of them. ``loss.backward()`` visits the graph from
the loss back to the leaves and applies one rule, the chain rule: every parent receives the
local derivative times the child's gradient, added to what it already has.

Pure Python (no numpy): the whole algorithm is in the first half of this file. The second half,
:func:`network_of_scalars`, builds the book's network from such scalars.
"""

from __future__ import annotations

import math
import numbers


def _number(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a real number or a Scalar, got {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"{name}: expected a finite number, got {value}")
    return float(value)


def _lift(value, name):
    return value if isinstance(value, Scalar) else Scalar(_number(value, name))


class Scalar:
    """One number of a computation: its value ``data``, its gradient ``grad`` (dL/d itself,
    filled by :meth:`backward`) and its ``parents``, pairs (parent, local derivative)."""

    def __init__(self, data, parents=(), op=""):
        self.data = _number(data, "data")
        self.grad = 0.0
        self.parents = tuple(parents)
        self.op = op

    def __add__(self, other):  # add distributes: local derivative 1 to both
        other = _lift(other, "other")
        return Scalar(self.data + other.data, ((self, 1.0), (other, 1.0)), "+")

    def __mul__(self, other):  # multiply swaps: each gets the other's value
        other = _lift(other, "other")
        return Scalar(self.data * other.data, ((self, other.data), (other, self.data)), "×")

    def exp(self):
        e = math.exp(self.data)
        return Scalar(e, ((self, e),), "exp")

    def log(self):
        if self.data <= 0.0:
            raise ValueError(f"log: expected a positive value, got {self.data}")
        return Scalar(math.log(self.data), ((self, 1.0 / self.data),), "log")

    __radd__, __rmul__ = __add__, __mul__

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-_lift(other, "other"))

    def __rsub__(self, other):
        return _lift(other, "other") + (-self)

    def backward(self):
        """Fill ``grad`` of every scalar this one depends on, for L = this scalar."""
        order = graph(self)
        for node in order:
            node.grad = 0.0
        self.grad = 1.0
        for node in reversed(order):  # each node is done before any of its parents
            for parent, local in node.parents:
                parent.grad += local * node.grad  # chain rule; a shared parent sums

    def __repr__(self):
        return f"Scalar(data={self.data:.4f}, grad={self.grad:.4f})"


def maximum(a, b):
    """max(a, b); the larger one gets derivative 1, the other 0 (a tie goes to ``a``)."""
    a, b = _lift(a, "a"), _lift(b, "b")
    first = a.data >= b.data
    return Scalar(max(a.data, b.data), ((a, float(first)), (b, float(not first))), "max")


def graph(root):
    """Every scalar ``root`` depends on (itself included), parents before children."""
    if not isinstance(root, Scalar):
        raise TypeError(f"root: expected a Scalar, got {type(root).__name__}")
    order, seen, stack = [], set(), [(root, False)]
    while stack:  # depth first, without recursion: a deep graph cannot overflow the stack
        node, done = stack.pop()
        if done:
            order.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((parent, False) for parent, _ in node.parents)
    return order


# --------------------------------------------------------------------------- the network
def network_of_scalars(params, x, y):
    """The network of the book, one :class:`Scalar` per number, built with +, ×, max, exp, log.

    params: a cnn6.Params; x: one image (6, 6), nested lists or an array; y: its label 0 or 1.
    Returns a dict of nested lists of scalars: the parameters ("kernel" 3x3, "conv_bias",
    "weights" 4, "fc_bias") and every step ("x" 6x6, "z1" and "a1" 4x4, "a2" 2x2, "a3" 4, "z4",
    "a4", "loss"). Call ``net["loss"].backward()`` and read each scalar's ``grad``.
    """
    from . import validation as check  # the core's argument checks (numpy)
    from .network import Params

    if not isinstance(params, Params):
        raise TypeError(f"params: expected a cnn6.Params, got {type(params).__name__}")
    theta = check.array(params.to_vector(), "params", (1,)).tolist()  # 15 finite numbers
    if len(theta) != 15 or check.array(params.kernel, "params.kernel", (2,)).shape != (3, 3):
        raise ValueError(f"params: expected kernel (3, 3) and weights (4,), got {params!r}")
    x = check.array(x, "x", (2,), tail=(6, 6)).tolist()
    if isinstance(y, bool) or y not in (0, 1):
        raise ValueError(f"y: expected the label 0 or 1, got {y!r}")
    K = [[Scalar(k) for k in theta[3 * u : 3 * u + 3]] for u in range(3)]
    b_c, w, b_f = Scalar(theta[9]), [Scalar(v) for v in theta[10:14]], Scalar(theta[14])
    X = [[Scalar(p) for p in row] for row in x]
    # convolution: z1[i][j] = sum over u, v of x[i+u][j+v] K[u][v], plus b_c
    z1 = [
        [sum((X[i + u][j + v] * K[u][v] for u in range(3) for v in range(3)), b_c)
         for j in range(4)]
        for i in range(4)
    ]  # fmt: skip
    a1 = [[maximum(0.0, z) for z in row] for row in z1]  # ReLU: max(0, z); a tie gives 0
    # max-pool: the maximum of each 2x2 window, its cells in row-major order
    a2 = [[_max_of([a1[2 * p + r][2 * q + c] for r in (0, 1) for c in (0, 1)])
           for q in (0, 1)]
          for p in (0, 1)]  # fmt: skip
    a3 = [a2[0][0], a2[0][1], a2[1][0], a2[1][1]]  # flatten: the same four scalars
    z4 = sum((w_k * a_k for w_k, a_k in zip(w, a3, strict=True)), b_f)
    a4 = (-(1.0 + (-z4).exp()).log()).exp()  # sigmoid: 1 / (1 + e^-z) = exp(-log(1 + e^-z))
    loss = -(a4.log() if y == 1 else (1.0 - a4).log())  # binary cross-entropy
    return {"kernel": K, "conv_bias": b_c, "weights": w, "fc_bias": b_f,
            "x": X, "z1": z1, "a1": a1, "a2": a2, "a3": a3, "z4": z4, "a4": a4,
            "loss": loss}  # fmt: skip


def _max_of(values):
    out = values[0]
    for v in values[1:]:
        out = maximum(out, v)  # the first maximum keeps the tie, as in the engine's max-pool
    return out
