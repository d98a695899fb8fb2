"""Training-step throughput of the cnn6 engine, a naive per-sample loop, and PyTorch.

One training step = forward, backward and parameter update on one mini-batch. All of them
take the same step, plain gradient descent (the update of the book's chapter on the update,
``cnn6.sgd_step``), so that their figures compare like with like:
  public  the loop a reader writes after chapter 11: ``cnn6.forward``, ``cnn6.backward``,
          ``cnn6.sgd_step``, each checking its arguments as any call from outside does (the
          Params that sgd_step returns is sealed: forward takes it without a second check);
  engine  ``cnn6.training.Run.update``, the step ``cnn6.train`` runs, with optimizer="sgd",
          timed as ``train`` runs it (inside a checked call: the calls it makes skip checks);
          a second column times the same step with Adam, ``cnn6.train``'s default optimizer;
  naive   ``cnn6.naive``: the network in Python loops over the samples, windows and pixels,
          straight from the book's formulas; same gradients, same update;
  torch   the same 15-parameter network in PyTorch on the CPU (conv2d, relu, max_pool2d,
          linear, binary_cross_entropy_with_logits, torch.optim.SGD), float64 like the engine,
          ``torch.set_num_threads(1)``; skipped when torch is not installed.
Before timing, the script checks on one batch that the naive loop's and torch's gradients
equal the engine's, that one SGD step lands all of them on the same parameters, and that one
Adam step of the engine equals the naive loop's. The process runs on one core (the first of
those it may use: ``taskset -c 1`` picks core 1) with one BLAS thread. Each figure is the
median of several repeats (samples per second, wall clock; ``--clock cpu`` for CPU time); the
public loop's, the engine's and torch's repeats at every batch size take turns,
so that a change in the machine's speed (a virtual machine's varies with its host's load)
falls on them alike. Each "x PyTorch" column is the median, over the repeats, of the ratio of
two runs that follow each other (``ratio``): the machine's drift, which moves the samples/s
figures from one run of the script to the next, cancels in it. Run it on an otherwise idle
machine: another process on the same core (a test run, a build) lowers every figure.

    .venv/bin/python benchmarks/bench_engine.py
    .venv/bin/python benchmarks/bench_engine.py --repeats 9 --seconds 0.5

torch is not a dependency of the book; for this comparison install the CPU build in the venv:
``.venv/bin/pip install torch==2.13.0``.
"""

from __future__ import annotations

import os

# One core and one thread: the thread counts must be set before numpy (and its BLAS) loads.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"
PINNED = None
if hasattr(os, "sched_setaffinity"):
    try:  # the first core we may use (core 0 unless taskset said otherwise)
        PINNED = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {PINNED})
    except OSError:
        PINNED = None

import argparse  # noqa: E402
import datetime  # noqa: E402
import functools  # noqa: E402
import inspect  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from _cli import positive  # noqa: E402

import cnn6  # noqa: E402
from cnn6 import naive  # noqa: E402
from cnn6 import validation as check  # noqa: E402
from cnn6.training import Run  # noqa: E402

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    torch = None

BATCH_SIZES = (1, 32, 1024)
# cnn6.train's defaults, as Run receives them (read from its signature, so they cannot drift)
_DEFAULTS = {k: v.default for k, v in inspect.signature(cnn6.train).parameters.items()}
SETTINGS = {
    k: _DEFAULTS[k]
    for k in (
        "lr",
        "epochs",
        "batch_size",
        "optimizer",
        "momentum",
        "final_lr_fraction",
        "activation",
    )
}
RATE = SETTINGS["lr"]
OPTIMIZERS = ("sgd", SETTINGS["optimizer"])  # the like-for-like step, and train's default


# --------------------------------------------------------------------------- the loops
def naive_gradients(params, X, y):
    """Gradients of the mean loss over the batch, from ``cnn6.naive`` (loops, one sample at a
    time)."""
    grads = naive.backward(params, naive.forward(params, X, y), y)
    return grads["kernel"], grads["conv_bias"], grads["weights"], grads["fc_bias"]


class PublicRun:
    """The loop a reader writes with the public API: forward, backward, sgd_step."""

    def __init__(self, params):
        self.params = params

    def update(self, X, y, rate):
        trace = cnn6.forward(self.params, X, y)
        self.params = cnn6.sgd_step(self.params, cnn6.backward(self.params, trace, y), rate)


class NaiveRun:
    """The naive step: the gradients above, then "sgd" or "adam" on the 15 numbers."""

    def __init__(self, params, optimizer="sgd"):
        self.params = params
        self.optimizer = optimizer
        self.m = np.zeros(15)
        self.v = np.zeros(15)
        self.steps = 0

    def update(self, X, y, rate):
        dK, db_c, dw, db_f = naive_gradients(self.params, X, y)
        g = np.concatenate([dK.ravel(), [db_c], dw, [db_f]])
        if self.optimizer == "sgd":
            theta = self.params.to_vector() - rate * g
        else:  # Adam as cnn6 runs it: beta1 0.9, beta2 0.999, eps 1e-8
            self.steps += 1
            self.m = 0.9 * self.m + 0.1 * g
            self.v = 0.999 * self.v + 0.001 * g * g
            m_hat = self.m / (1 - 0.9**self.steps)
            v_hat = self.v / (1 - 0.999**self.steps)
            theta = self.params.to_vector() - rate * m_hat / (np.sqrt(v_hat) + 1e-8)
        self.params = cnn6.Params.from_vector(theta)


# --------------------------------------------------------------------------- PyTorch
class TorchRun:
    """The same network in PyTorch: float64 tensors, an SGD step."""

    def __init__(self, params, lr=RATE):
        def leaf(values, shape):
            array = np.asarray(values, dtype=np.float64).reshape(shape)
            return torch.tensor(array).requires_grad_()

        self.kernel = leaf(params.kernel, (1, 1, 3, 3))  # (out channels, in channels, kh, kw)
        self.conv_bias = leaf(params.conv_bias, (1,))
        self.weights = leaf(params.weights, (1, 4))
        self.fc_bias = leaf(params.fc_bias, (1,))
        self.leaves = [self.kernel, self.conv_bias, self.weights, self.fc_bias]
        self.optimizer = torch.optim.SGD(self.leaves, lr=lr)

    @staticmethod
    def batch(X, y):
        return torch.from_numpy(X[:, None]), torch.from_numpy(np.asarray(y, dtype=np.float64))

    def loss(self, X, y):
        z1 = F.conv2d(X, self.kernel, self.conv_bias)
        a2 = F.max_pool2d(F.relu(z1), 2)
        z4 = F.linear(a2.flatten(1), self.weights, self.fc_bias)[:, 0]
        return F.binary_cross_entropy_with_logits(z4, y)

    def update(self, X, y):
        self.optimizer.zero_grad()
        self.loss(X, y).backward()
        self.optimizer.step()


# --------------------------------------------------------------------------- checks
def engine_run(params, optimizer):
    """The engine's training run with ``cnn6.train``'s settings and the given optimizer."""
    return Run(params, SETTINGS | {"optimizer": optimizer}, np.random.default_rng(1))


def as_in_train(run):
    """``run.update`` as ``cnn6.train`` calls it: inside a checked call, so that the public
    functions it calls skip their argument checks (the cost of entering that state, about a
    microsecond per step, is counted; train pays it once)."""

    def step(X, y, rate):
        with check.trusted():
            run.update(X, y, rate)

    return step


def check_agreement(params, X, y, with_torch):
    """Assert that the naive loop and torch compute the engine's gradients and steps."""
    same = functools.partial(np.allclose, rtol=1e-10, atol=1e-14)
    grads = cnn6.backward(params, cnn6.forward(params, X), y)
    want = np.concatenate([grads.kernel.ravel(), [grads.conv_bias], grads.weights, [grads.fc_bias]])
    dK, db_c, dw, db_f = naive_gradients(params, X, y)
    naive = np.concatenate([dK.ravel(), [db_c], dw, [db_f]])
    assert same(naive, want), (naive, want)
    # one step of each optimizer from the same start lands on the same parameters
    steps = {}
    for optimizer in OPTIMIZERS:
        engine, naive_run = engine_run(params, optimizer), NaiveRun(params, optimizer)
        engine.update(X, np.asarray(y, dtype=np.float64), RATE)
        naive_run.update(X, y, RATE)
        assert same(engine.theta, naive_run.params.to_vector()), optimizer
        steps[optimizer] = engine.theta
    public = PublicRun(params)
    public.update(X, y, RATE)
    assert same(public.params.to_vector(), steps["sgd"]), "public loop"
    if with_torch:
        run = TorchRun(params)
        run.loss(*TorchRun.batch(X, y)).backward()
        got = np.concatenate([leaf.grad.numpy().ravel() for leaf in run.leaves])
        assert same(got, want), (got, want)
        run.optimizer.step()
        moved = np.concatenate([leaf.detach().numpy().ravel() for leaf in run.leaves])
        assert same(moved, steps["sgd"]), (moved, steps["sgd"])


# --------------------------------------------------------------------------- timing
def throughputs(jobs, repeats, seconds, clock=time.perf_counter):
    """Samples per second of each job in each of ``repeats`` runs of about ``seconds`` each.

    jobs: {(batch_size, name): (step, batches)}, ``step(*batch)`` being one training step.
    Returns {(batch_size, name): [rate of repeat 1, rate of repeat 2, ...]}. The jobs' runs
    take turns (every job once, in the order given, then every job again, ...), so that a
    change in the machine's speed during the measurement (other processes, other virtual
    machines on the host) falls on all of them alike, and most alike on neighbours in the order.
    """
    plans = {}
    for key, (step, batches) in jobs.items():
        for i in range(min(len(batches), 3)):  # warm up
            step(*batches[i])
        steps = 1  # how many steps fill about `seconds`
        while True:
            elapsed = _run_steps(step, batches, steps, clock)
            if elapsed >= seconds / 4 or steps >= 1_000_000:
                break
            steps *= 4
        plans[key] = max(1, round(steps * seconds / max(elapsed, 1e-9)))
    rates = {key: [] for key in jobs}
    for _ in range(repeats):
        for key, (step, batches) in jobs.items():
            elapsed = _run_steps(step, batches, plans[key], clock)
            rates[key].append(plans[key] * key[0] / elapsed)
    return rates


def ratio(rates, key, against):
    """How many times faster job ``key`` is than job ``against``: the median over the repeats
    of the two jobs' ratio in the same repeat. The jobs' order puts torch right after the public
    loop and right before the engine, so that each ratio compares two runs that follow each
    other, and a drift of the machine's speed over the minute the measurement takes cancels
    in it; a ratio of the two medians would compare runs far apart."""
    return statistics.median(a / b for a, b in zip(rates[key], rates[against], strict=True))


def _run_steps(step, batches, steps, clock):
    count = len(batches)
    start = clock()
    for i in range(steps):
        step(*batches[i % count])
    return clock() - start


def machine_description():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    lines = [
        f"CPU: {cpu}; {os.cpu_count()} logical cores, "
        + (f"pinned to core {PINNED}" if PINNED is not None else "not pinned"),
        f"Python {platform.python_version()}, numpy {np.__version__}, "
        + (f"torch {torch.__version__}" if torch is not None else "torch not installed"),
    ]
    try:
        from threadpoolctl import threadpool_info

        blas = [
            f"{i['internal_api']} {i['version']} ({i.get('architecture', '?')}, "
            f"{i['num_threads']} thread{'s' if i['num_threads'] != 1 else ''})"
            for i in threadpool_info()
            if i["user_api"] == "blas"
        ]
        lines.append("BLAS: " + ("; ".join(blas) or "none found by threadpoolctl"))
    except ImportError:
        lines.append("BLAS: unknown (threadpoolctl not installed)")
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if var in os.environ:
            lines.append(f"note: {var}={os.environ[var]} is set")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=positive(int), default=7, help="timed repeats per figure")
    parser.add_argument("--seconds", type=positive(float), default=0.3, help="length of one repeat")
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="wall: elapsed time (default); cpu: this process's CPU time, which leaves out the "
        "time other processes take from the core on a busy machine",
    )
    args = parser.parse_args(argv)
    clock = time.perf_counter if args.clock == "wall" else time.process_time
    with_torch = torch is not None
    if with_torch:
        torch.set_num_threads(1)

    print(f"bench_engine, {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    for line in machine_description():
        print(line)
    print("load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))

    rng = np.random.default_rng(0)
    X, y = cnn6.make_dataset(8192, rng)
    params = cnn6.init_params(rng)
    check_agreement(params, X[:64], y[:64], with_torch)
    print(
        "gradients and steps agree: naive loop and engine, public loop and engine"
        + (", torch and engine" if with_torch else "")
    )
    if not with_torch:
        print("torch column skipped: torch is not installed")
    what = "wall-clock" if args.clock == "wall" else "CPU-time"
    print(
        f"median of {args.repeats} repeats of about {args.seconds} s, all engine and torch "
        f"repeats taking turns; {what} samples/s\n"
    )
    y_float = y.astype(np.float64)
    jobs, naive_jobs = {}, {}
    for batch_size in BATCH_SIZES:
        # 8 different batches, cut from the data set as cnn6.train cuts them (copies)
        order = rng.permutation(len(X))
        cuts = [order[i : i + batch_size] for i in range(0, 8 * batch_size, batch_size)]
        batches = [(X[c], y_float[c]) for c in cuts]
        public = PublicRun(params)  # takes the labels as make_dataset gives them, int64
        public_batches = [(X[c], y[c]) for c in cuts]
        jobs[batch_size, "public"] = (functools.partial(public.update, rate=RATE), public_batches)
        if with_torch:  # between the two steps it is compared with, in the order of the turns
            torch_batches = [TorchRun.batch(Xb, yb) for Xb, yb in batches]
            jobs[batch_size, "torch"] = (TorchRun(params).update, torch_batches)
        for optimizer in OPTIMIZERS:
            step = functools.partial(as_in_train(engine_run(params, optimizer)), rate=RATE)
            jobs[batch_size, f"engine {optimizer}"] = (step, batches)
        naive = NaiveRun(params, "sgd")
        naive_jobs[batch_size, "naive"] = (functools.partial(naive.update, rate=RATE), batches)
    runs = throughputs(jobs, args.repeats, args.seconds, clock)
    runs |= throughputs(naive_jobs, min(args.repeats, 3), args.seconds, clock)
    rates = {key: statistics.median(r) for key, r in runs.items()}

    default = OPTIMIZERS[1]  # cnn6.train's optimizer
    print(
        f"| batch | public loop, SGD | engine, SGD | engine, {default.capitalize()} "
        "| naive loop, SGD | PyTorch, SGD | public loop / PyTorch | engine / PyTorch (SGD) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    columns = ("public", "engine sgd", f"engine {default}", "naive")
    for b in BATCH_SIZES:
        cells = [f"{b}"] + [f"{rates[b, key]:,.0f}" for key in columns]
        if with_torch:
            cells.append(f"{rates[b, 'torch']:,.0f}")
            cells += [f"{ratio(runs, (b, key), (b, 'torch')):.2f}x" for key in columns[:2]]
        else:
            cells += ["-", "-", "-"]
        print("| " + " | ".join(cells) + " |")
    print("\nload average at end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print(
        f"samples/s; every column takes an SGD step but the third ({default}, cnn6.train's "
        "default). naive: median of at most 3 repeats."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
