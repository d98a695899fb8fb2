"""The hints of the coursework feedback, as data: one text per usual mistake, named so that the
checks, the tests and a teacher can refer to each one. A few hold ``{fields}`` that the check
fills in (shapes). Which mistake a student made is found by the assignment modules; this file
only says what to tell them.
"""

HINTS = {
    # convolution forward
    "conv_no_sum": (
        "you multiply element-wise but never sum the window: each z[i, j] is ONE number, the "
        "sum of the kh * kw products x[i*stride + u, j*stride + v] * K[u, v] (np.sum(window * "
        "kernel)), plus the bias."
    ),
    "conv_flip": (
        "did you flip the kernel? The network uses cross-correlation: the kernel is laid on "
        "the window as it is, K[0, 0] on the window's top-left pixel, not rotated by 180 degrees."
    ),
    "conv_kernel_transposed": (
        "you used K[v, u] instead of K[u, v]: the kernel's rows go down the window and its "
        "columns across, like the image's."
    ),
    "conv_no_bias": "you forgot the bias: add it once to every window's sum.",
    "conv_bias_per_product": (
        "you added the bias to each of the kh * kw products; add it once per window, after the sum."
    ),
    "conv_mean": "you averaged the window (np.mean); the convolution sums the products.",
    "conv_ignore_stride": (
        "you ignored stride: window (i, j) starts at row i * stride and column j * stride, "
        "and there are (H - kh) // stride + 1 windows down and (W - kw) // stride + 1 across."
    ),
    "conv_no_stride_offset": (
        "your windows are one pixel apart: window (i, j) starts at row i * stride and column "
        "j * stride, not at (i, j)."
    ),
    "conv_transposed": (
        "rows and columns of your output are swapped: z[i, j] is the window starting at row "
        "i * stride and column j * stride."
    ),
    "conv_output_size": (
        "your output has shape {got}: the output size is (H - kh) // stride + 1 = {oh} rows by "
        "(W - kw) // stride + 1 = {ow} columns, so expected {want}."
    ),
    "batch": (
        "this case is a batch of images, shape (n, H, W), and should give (n, ...): work on the "
        "last two axes (x[..., r:r + kh, c:c + kw], sums over axis=(-2, -1)) so that one image "
        "and a batch both work."
    ),
    "conv_window_shape": (
        "your window has shape {got} but the kernel {want}: the window starting at row r and "
        "column c is x[r:r + kh, c:c + kw] (a slice stops just before its end, so no - 1)."
    ),
    # max-pool forward
    "pool_batch": (
        "this case is a batch of images, shape (n, H, W), and should give (n, ...): max-pool "
        "works on each image on its own. Loop over the images (for s, image in "
        "enumerate(a.reshape(-1, H, W))), pool each one, and reshape the result back "
        "(out.reshape(a.shape[:-2] + (OH, OW))), so that one image and a batch both work."
    ),
    "pool_step_by_size": (
        "you step windows by size, not stride: window (i, j) starts at row i * stride and "
        "column j * stride, and there are (H - size) // stride + 1 windows per column."
    ),
    "pool_ignore_stride": (
        "you ignored stride: your windows are one pixel apart (that is the 3x3 of the original "
        "notebook's table); with size 2 and stride 2 a 4x4 input gives 2x2."
    ),
    "pool_output_size": (
        "your output has shape {got}: the output size is (H - size) // stride + 1 = {oh} rows "
        "by (W - size) // stride + 1 = {ow} columns, so expected {want}."
    ),
    "pool_abs": (
        "you took the largest absolute value; max-pool keeps the largest value, and a negative "
        "maximum stays negative."
    ),
    "pool_start_at_zero": (
        "you started the running maximum at 0: when every value of a window is negative the "
        "maximum is negative too. Start from the window's first value, or use np.max."
    ),
    "pool_min": "you took the smallest value of each window; max-pool keeps the largest.",
    "pool_mean": "you averaged each window (average pooling); max-pool keeps the largest value.",
    "pool_transposed": (
        "rows and columns of your output are swapped: out[i, j] is the window starting at row "
        "i * stride and column j * stride."
    ),
    "pool_idx_last_tie": (
        "your pool_idx points to the last maximum of a tied window; the book's rule is the "
        "first in row-major order (np.argmax does that; in a loop, replace the best only on a "
        "strictly greater value)."
    ),
    "pool_idx_local": (
        "your pool_idx holds the position inside the window (0 to size * size - 1); the book's "
        "pool_idx is the position in the whole input flattened row-major: row * W + column."
    ),
    "pool_idx_uses_h": (
        "you computed row * H + column; the flat index is row * W + column, W being the number "
        "of columns (they differ when the input is not square)."
    ),
    "pool_idx_column_major": (
        "you flattened column by column (column * H + row); the book flattens row-major: "
        "row * W + column."
    ),
    "pool_idx_batch_offset": (
        "your pool_idx counts across the whole batch; it counts within each image, from 0 to "
        "H * W - 1: row * W + column."
    ),
    "pool_idx_shape": (
        "pool_idx holds ONE integer per window (the shape of out), the flat index "
        "row * W + column of the window's maximum, not a (row, column) pair."
    ),
    "pool_idx_dtype": (
        "pool_idx must hold integers (they index an array): create it with "
        "np.zeros(shape, dtype=int), or convert with .astype(int)."
    ),
    "tuple_out_idx": "return a tuple (out, pool_idx): the pooled values and where each came from.",
    # max-pool backward
    "route_last_tie": (
        "your gradient goes to the last maximum of a tied window; the book's rule is the first "
        "in row-major order (the one np.argmax picks)."
    ),
    "route_spread": (
        "you sent dout to every position of the window; max-pool sends each window's gradient "
        "only to the position of its maximum, and zeros elsewhere."
    ),
    "route_average": (
        "you spread dout / (size * size) over the window: that is average-pool's gradient. "
        "Max-pool sends all of it to the window's maximum."
    ),
    "route_ones": (
        "you put 1 at each maximum: put the window's incoming gradient dout[i, j] there "
        "(the max passes its input through with slope 1, times dout)."
    ),
    "route_overwrite": (
        "two overlapping windows chose the same position and you kept only one of their "
        "gradients: add them (da[r, c] += dout[i, j]), do not overwrite (=)."
    ),
    "route_top_left": (
        "the gradient went to the top-left of each window; it goes to the position of the "
        "window's maximum."
    ),
    "route_not_max": (
        "the gradient went to a position that is not the window's maximum: da is zero "
        "everywhere except at the position each window's maximum came from."
    ),
    "route_batch_mixed": (
        "in a batch every image received the gradients of every image: each image's maximum is "
        "in its own place, so route image by image, da[s, r + u, c + v] += dout[s, i, j] for "
        "image s (da[..., r + u, c + v] += dout[..., i, j] adds all the images' dout at one "
        "image's maximum)."
    ),
    "route_shape": "da has the shape of the forward input a, {want}; got {got}.",
    # ReLU backward
    "relu_times_activation": (
        "you multiplied by the activation a1 = max(0, z1) instead of the indicator [z1 > 0]: "
        "the ReLU's slope is 1 wherever z > 0, however large z is."
    ),
    "relu_indicator_only": "you returned the indicator [z > 0] alone: multiply it by dout.",
    "relu_at_zero": ("at z = 0 the book takes the ReLU's derivative as 0: test z > 0, not z >= 0."),
    "relu_gate_on_dout": (
        "you tested the sign of dout; the ReLU lets the gradient through where its forward "
        "input z was positive, whatever the sign of dout."
    ),
    "relu_pass_all": "the gradient passed everywhere: set it to zero where z <= 0.",
    "relu_forward": (
        "you returned max(0, z), the forward pass; the backward pass is dout * [z > 0]."
    ),
    "relu_sign": "the sign is wrong: dz = +dout * [z > 0].",
    "relu_inverted": (
        "the gate is inverted: the gradient passes where z > 0 and stops where z <= 0."
    ),
    # kernel gradient
    "kgrad_flip": (
        "did you flip dz? dK = x ⋆ dz is a cross-correlation, the same operation as the "
        "forward pass: dK[u, v] = sum over i, j of x[i + u, j + v] * dz[i, j]."
    ),
    "kgrad_transposed": (
        "rows and columns of dK are swapped: dK[u, v] pairs x[i + u, j + v] with dz[i, j]."
    ),
    "kgrad_no_batch_sum": (
        "the kernel is shared by every image of the batch: sum the per-image gradients, so that "
        "dK has the kernel's shape."
    ),
    "kgrad_batch_mean": (
        "you averaged over the batch; the deltas dz already carry the 1/n of the mean loss, "
        "so sum the per-image gradients."
    ),
    "kgrad_no_slide": (
        "you multiplied x by dz entry by entry but did not slide dz over x: dK has the kernel's "
        "shape (H - OH + 1, W - OW + 1), one entry per offset (u, v)."
    ),
    "kgrad_shape": ("dK has the kernel's shape (H - OH + 1, W - OW + 1) = {want}; got {got}."),
    "bgrad_sum_input": (
        "you summed the input instead of the delta (the original notebook's mistake): the "
        "bias is added to every window, so its gradient is the sum of dz."
    ),
    "bgrad_mean": "you averaged dz; the bias is added once per window, so its gradient is the sum.",
    "bgrad_no_batch_sum": "the bias is one number: sum dz over the whole batch too.",
    "bgrad_not_scalar": "the bias is one number: its gradient is dz summed over all its entries.",
    "tuple_dk_db": "return a tuple (dkernel, dbias): the kernel's gradient and the bias's.",
    # training step
    "step_ascent": (
        "the loss went up: you added the gradient (ascent). Gradient descent moves against it: "
        "new = params - lr * grad (or dz4 has the wrong sign: it is a4 - y)."
    ),
    "step_unchanged": "the parameters did not change: new = params - lr * grad.",
    "step_overwrite": (
        "you overwrote the parameters with the (scaled) gradient; the step changes them: "
        "new = params - lr * grad."
    ),
    "step_no_mean": (
        "your step is n times too large: the loss is the mean over the batch, so "
        "dz4 = (a4 - y) / n."
    ),
    "step_no_lr": "you forgot the learning rate: new = params - lr * grad.",
    "step_lr_twice": "you multiplied by the learning rate twice: new = params - lr * grad.",
    "dz4_bce": (
        "dz4 should be a4 - y (divided by n for a batch): the derivative of the loss through "
        "the sigmoid, not the loss times the sigmoid's slope."
    ),
    "dw_a4": "dw uses a4 instead of a3: dL/dw = dz4 * a3 (summed over the batch).",
    "dw_w": "dL/dw = dz4 * a3; dz4 * w is da3, the gradient passed down to the max-pool.",
    "dk_skip_gate": (
        "dK uses da1 instead of dz1: you skipped the ReLU's gate, dz1 = da1 * [z1 > 0], "
        "before correlating with x."
    ),
    "dk_times_activation": (
        "you multiplied da1 by the activation a1 instead of the indicator [z1 > 0] (the "
        "original notebook's mistake): dz1 = da1 * [z1 > 0]."
    ),
    "dk_with_a1": "you correlated x with a1 instead of dz1: dK = x ⋆ dz1.",
    "dk_flip": "dK = x ⋆ dz1 is a cross-correlation, as in the forward pass; you flipped dz1.",
    "dk_route_spread": (
        "max-pool's backward sends da2 only to the position of each window's maximum; you "
        "spread it over the whole window."
    ),
    "db_sum_input": (
        "the conv-bias gradient summed the input instead of the delta (the original notebook's "
        "mistake): dL/db_c = sum of dz1."
    ),
    "step_frozen": (
        "cnn6.Params is frozen: its fields cannot be assigned (params.kernel = ... or "
        "params.kernel -= ... both fail). Compute the new values and return a new one: "
        "cnn6.Params(params.kernel - lr * dkernel, params.conv_bias - lr * dconv_bias, ...)."
    ),
    "step_in_place": (
        "your step changed the arrays of the params it was given (params.kernel[...] -= ... or "
        "np.subtract(..., out=params.kernel)): whoever called it loses the old parameters, and "
        "the network's trace no longer matches them. Compute new arrays, "
        "params.kernel - lr * dkernel, and return them in a new cnn6.Params."
    ),
    "step_tie_first": (
        "on a tie inside a pooling window the gradient goes to the first maximum in row-major "
        "order (np.argmax's choice, the one trace.pool_idx records), not the last."
    ),
    "step_gate_at_zero": (
        "at z1 = 0 the ReLU's derivative is 0: the gate is [z1 > 0], not [z1 >= 0]."
    ),
    "step_tuple": "return only the new cnn6.Params (not a tuple).",
    "not_params": (
        "return a cnn6.Params with the new parameters, e.g. "
        "cnn6.Params(kernel, conv_bias, weights, fc_bias)."
    ),
}
