"""cnn6: a 15-parameter convolutional network on 6x6 images, forward and backward, in numpy.

Reading order: ``naive`` (the whole network in plain loops, straight from the book's
formulas), then ``layers`` (each operation once, its body the math, on one image or a batch),
``network`` (forward, backward, the update), ``training``; ``data`` draws the images and
``validation`` holds the argument checks, run once where a user's data enters.

The numerical core (these modules) imports numpy alone. The view, ``cnn6.view`` (display,
animations, explorers and the kit they share; the ``view`` extra: matplotlib, ipywidgets), sits
on top of it and only reads what it returns.
"""

import importlib

from . import naive
from .data import make_dataset
from .example import running_example
from .layers import (
    activation_backward,
    activation_forward,
    bce_backward,
    bce_forward,
    conv2d_backward,
    conv2d_forward,
    conv_matrix,
    dense_backward,
    dense_forward,
    elu_backward,
    elu_forward,
    flatten_backward,
    flatten_forward,
    leaky_relu_backward,
    leaky_relu_forward,
    maxpool2d_backward,
    maxpool2d_forward,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    window_indices,
)
from .network import (
    Grads,
    Params,
    Trace,
    accuracy,
    backward,
    forward,
    init_params,
    numerical_gradient,
    predict_proba,
    relative_error,
    sgd_step,
)
from .training import History, train

__version__ = "0.1.0"

__all__ = [
    "History",
    "Grads",
    "Params",
    "Trace",
    "accuracy",
    "activation_backward",
    "activation_forward",
    "backward",
    "bce_backward",
    "bce_forward",
    "conv2d_backward",
    "conv2d_forward",
    "conv_matrix",
    "dense_backward",
    "dense_forward",
    "elu_backward",
    "elu_forward",
    "flatten_backward",
    "flatten_forward",
    "forward",
    "init_params",
    "leaky_relu_backward",
    "leaky_relu_forward",
    "make_dataset",
    "naive",
    "maxpool2d_backward",
    "maxpool2d_forward",
    "numerical_gradient",
    "predict_proba",
    "relative_error",
    "relu_backward",
    "relu_forward",
    "running_example",
    "sgd_step",
    "sigmoid_backward",
    "sigmoid_forward",
    "train",
    "window_indices",
]

# The display helpers (cnn6.view.display) need matplotlib and IPython; load them on first use
# so that the numerical core stays importable with numpy alone.
_DISPLAY_NAMES = (
    "display",
    "fmt",
    "show_figure",
    "show_matrix",
    "show_row",
    "show_trace",
    "pipeline",
    "show_source",
    "plot_matrix",
    "plot_images",
    "Matrix",
)


def __getattr__(name):
    if name in _DISPLAY_NAMES:
        display = importlib.import_module(".view.display", __name__)
        return display if name == "display" else getattr(display, name)
    raise AttributeError(f"module 'cnn6' has no attribute {name!r}")
