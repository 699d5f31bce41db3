"""Realistic mistakes in the 02_learning solutions; each must lose points."""
MUTANTS = [
    # softmax (with a temperature, over any axis)
    ("softmax", "no max subtraction: exp overflows to inf/nan on large logits",
     "shifted = scaled - scaled.max(axis=axis, keepdims=True)", "shifted = scaled"),
    ("softmax", "normalizes over a fixed axis 0 instead of the given axis",
     "return exps / exps.sum(axis=axis, keepdims=True)", "return exps / exps.sum(axis=0, keepdims=True)"),
    ("softmax", "subtracts one global maximum instead of each slice's own",
     "shifted = scaled - scaled.max(axis=axis, keepdims=True)", "shifted = scaled - scaled.max()"),
    ("softmax", "divides the logits by the temperature in place, changing the caller's array",
     "scaled = logits / temperature  # a new array: the caller's logits stay as they are",
     "logits /= temperature\n    scaled = logits"),
    ("softmax", "forgets keepdims, so the maxima broadcast along the wrong axis",
     "scaled.max(axis=axis, keepdims=True)", "scaled.max(axis=axis)"),
    ("softmax", "multiplies by the temperature instead of dividing",
     "scaled = logits / temperature", "scaled = logits * temperature"),
    ("softmax", "ignores axis: always the last axis",
     "shifted = scaled - scaled.max(axis=axis, keepdims=True)\n    exps = np.exp(shifted)\n"
     "    return exps / exps.sum(axis=axis, keepdims=True)",
     "shifted = scaled - scaled.max(axis=-1, keepdims=True)\n    exps = np.exp(shifted)\n"
     "    return exps / exps.sum(axis=-1, keepdims=True)"),
    # cross_entropy (label smoothing)
    ("cross_entropy", "sums over the batch instead of averaging",
     "return float(-((1.0 - smoothing) * picked + smoothing * uniform).mean())",
     "return float(-((1.0 - smoothing) * picked + smoothing * uniform).sum())"),
    ("cross_entropy", "forgets the minus sign",
     "return float(-((1.0 - smoothing) * picked + smoothing * uniform).mean())",
     "return float(((1.0 - smoothing) * picked + smoothing * uniform).mean())"),
    ("cross_entropy", "takes log of the probabilities: log(0) = -inf for large logits",
     "log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))",
     "log_probs = np.log(np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True))"),
    ("cross_entropy", "indexes every row with every label (log_probs[:, labels])",
     "picked = log_probs[np.arange(len(labels)), labels]", "picked = log_probs[:, labels]"),
    ("cross_entropy", "keeps the full weight 1 on the true class (adds the smoothing term on top)",
     "(1.0 - smoothing) * picked", "picked"),
    ("cross_entropy", "spreads the smoothing over the C - 1 wrong classes only",
     "uniform = log_probs.mean(axis=1)",
     "uniform = (log_probs.sum(axis=1) - picked) / (log_probs.shape[1] - 1)"),
    # huber_loss
    ("huber_loss", "sums instead of averaging",
     "return float(np.mean(np.where(error <= delta, quadratic, linear)))",
     "return float(np.sum(np.where(error <= delta, quadratic, linear)))"),
    ("huber_loss", "forgets the 1/2 of the quadratic piece",
     "quadratic = 0.5 * error**2", "quadratic = error**2"),
    ("huber_loss", "linear piece without the -delta/2 (the two pieces do not meet)",
     "linear = delta * (error - 0.5 * delta)", "linear = delta * error"),
    ("huber_loss", "signed error: large negative errors take the quadratic piece",
     "error = np.abs(pred - target)", "error = pred - target"),
    ("huber_loss", "plain MSE: no linear piece",
     "return float(np.mean(np.where(error <= delta, quadratic, linear)))",
     "return float(np.mean(error**2))"),
    # numerical_gradient (dict of parameters)
    ("numerical_gradient", "one-sided (forward) difference instead of central",
     "grad[index] = (f_plus - f_minus) / (2 * eps)", "grad[index] = (f_plus - f(params)) / eps"),
    ("numerical_gradient", "divides by eps instead of 2 eps",
     "grad[index] = (f_plus - f_minus) / (2 * eps)", "grad[index] = (f_plus - f_minus) / eps"),
    ("numerical_gradient", "never restores the entry after the second evaluation",
     "            x[index] = original\n", ""),
    ("numerical_gradient", "second nudge subtracts eps from the raised value, so f is evaluated at x, not x - eps",
     "x[index] = original - eps", "x[index] = x[index] - eps"),
    ("numerical_gradient", "returns only the gradient of the last array, not a dict",
     "    return grads\n", "    return grad\n"),
    # mlp_backward (any depth, weight decay)
    ("mlp_backward", "forgets the 1/B of the mean over the batch",
     "    dZ /= batch_size  # the 1/B of the mean over the batch\n", ""),
    ("mlp_backward", "flips the sign of the output gradient (Y - P)",
     "dZ /= batch_size", "dZ /= -batch_size"),
    ("mlp_backward", "no ReLU mask: gradient flows through inactive units",
     'dZ = dA * (cache[f"Z{layer - 1}"] > 0)', "dZ = dA"),
    ("mlp_backward", "multiplies by the post-activation A instead of the ReLU derivative",
     'dZ = dA * (cache[f"Z{layer - 1}"] > 0)', 'dZ = dA * cache[f"A{layer - 1}"]'),
    ("mlp_backward", "dW = A_in @ dZ instead of A_in.T @ dZ",
     "A_in.T @ dZ", "A_in @ dZ"),
    ("mlp_backward", "does not sum the bias gradient over the batch",
     'grads[f"b{layer}"] = dZ.sum(axis=0)', 'grads[f"b{layer}"] = dZ.mean(axis=0)'),
    ("mlp_backward", "forgets to transpose W when propagating to the layer below",
     'dA = dZ @ params[f"W{layer}"].T', 'dA = dZ @ params[f"W{layer}"]'),
    ("mlp_backward", "forgets the weight-decay term",
     ' + weight_decay * params[f"W{layer}"]', ""),
    ("mlp_backward", "weight-decay gradient 2*lambda*W (the penalty is lambda/2 * |W|^2)",
     'weight_decay * params[f"W{layer}"]', '2 * weight_decay * params[f"W{layer}"]'),
    ("mlp_backward", "decays the biases too",
     'grads[f"b{layer}"] = dZ.sum(axis=0)',
     'grads[f"b{layer}"] = dZ.sum(axis=0) + weight_decay * params[f"b{layer}"]'),
    ("mlp_backward", "subtracts 1 from the cached probabilities in place, changing the cache",
     'dZ = cache["probs"].copy()  # a copy: the cache stays as it was', 'dZ = cache["probs"]'),
    ("mlp_backward", "masks by the sign of the incoming gradient instead of the pre-activation",
     'dZ = dA * (cache[f"Z{layer - 1}"] > 0)', 'dZ = dA * (dA > 0)'),
    ("mlp_backward", "written for one hidden layer only: the loop stops before the first layer",
     "for layer in range(n_layers, 0, -1):", "for layer in range(n_layers, max(n_layers - 2, 0), -1):"),
    # sgd_step
    ("sgd_step", "gradient ascent: adds the gradient",
     "params[name] -= lr * grads[name]", "params[name] += lr * grads[name]"),
    ("sgd_step", "ignores the learning rate",
     "params[name] -= lr * grads[name]", "params[name] -= grads[name]"),
    ("sgd_step", "updates only the weights, not the biases",
     "for name in params:", 'for name in ("W1", "W2"):'),
    ("sgd_step", "rebinds a new array instead of updating in place",
     "params[name] -= lr * grads[name]", "params[name] = params[name] - lr * grads[name]"),
    ("sgd_step", "divides by the learning rate",
     "params[name] -= lr * grads[name]", "params[name] -= grads[name] / lr"),
    # train_digits
    ("train_digits", "never shuffles: walks the (sorted) data in the same order every epoch",
     "order = rng.permutation(len(X))", "order = np.arange(len(X))"),
    ("train_digits", "labels not shuffled with the inputs",
     "grads = mlp_backward(params, cache, y[batch])",
     "grads = mlp_backward(params, cache, y[start:start + batch_size])"),
    ("train_digits", "uses the same first minibatch for every step",
     "batch = order[start:start + batch_size]", "batch = order[:batch_size]"),
    ("train_digits", "averages twice: divides the learning rate by the batch size",
     "sgd_step(params, grads, lr)", "sgd_step(params, grads, lr / batch_size)"),
    ("train_digits", "returns inside the epoch loop (indentation), so it trains for one epoch only",
     "            sgd_step(params, grads, lr)\n    return params",
     "            sgd_step(params, grads, lr)\n        return params"),
    ("train_digits", "skips the last, smaller minibatch of every epoch",
     "for start in range(0, len(X), batch_size):",
     "for start in range(0, len(X) - batch_size + 1, batch_size):"),
]

# Answers that give the right numbers the way the exercise forbids (Parts 1-5 are NumPy only,
# mlp_backward by hand): each must lose the points of its own part with "Rule broken".
_AUTOGRAD_BACKWARD = '''### BEGIN SOLUTION
    tensors = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    out = torch.tensor(cache["A0"])
    for layer in range(1, len(params) // 2 + 1):
        out = out @ tensors[f"W{layer}"] + tensors[f"b{layer}"]
        if layer < len(params) // 2:
            out = torch.relu(out)
    loss = F.cross_entropy(out, torch.tensor(labels))
    loss = loss + 0.5 * weight_decay * sum((t**2).sum() for k, t in tensors.items() if k.startswith("W"))
    loss.backward()
    return {k: t.grad.numpy() for k, t in tensors.items()}
'''

_FUNCTIONAL_BACKWARD = '''### BEGIN SOLUTION
    def loss_of(p):
        out = torch.from_numpy(cache["A0"])
        for layer in range(1, len(p) // 2 + 1):
            out = out @ p[f"W{layer}"] + p[f"b{layer}"]
            if layer < len(p) // 2:
                out = out.clamp(min=0)
        decay = sum((w**2).sum() for k, w in p.items() if k.startswith("W"))
        return F.cross_entropy(out, torch.from_numpy(labels)) + 0.5 * weight_decay * decay

    grads = torch.func.grad(loss_of)({k: torch.from_numpy(v) for k, v in params.items()})
    return {k: g.numpy() for k, g in grads.items()}
'''

RULE_BREAKERS = [
    ("softmax", "torch.softmax on a tensor view of the array",
     "### BEGIN SOLUTION\n",
     "### BEGIN SOLUTION\n    return torch.softmax(torch.from_numpy(logits) / temperature, dim=axis).numpy()\n"),
    ("softmax", "exp of torch's log_softmax",
     "### BEGIN SOLUTION\n",
     "### BEGIN SOLUTION\n    return np.exp(F.log_softmax(torch.tensor(logits / temperature), dim=axis).numpy())\n"),
    ("cross_entropy", "F.cross_entropy with label_smoothing",
     "### BEGIN SOLUTION\n",
     "### BEGIN SOLUTION\n    return F.cross_entropy(torch.tensor(logits), torch.tensor(labels),"
     " label_smoothing=smoothing).item()\n"),
    ("cross_entropy", "torch.logsumexp for the log-softmax, the rest in NumPy",
     "log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))",
     "log_probs = shifted - torch.logsumexp(torch.from_numpy(shifted), dim=1, keepdim=True).numpy()"),
    ("huber_loss", "F.huber_loss",
     "### BEGIN SOLUTION\n",
     "### BEGIN SOLUTION\n    return F.huber_loss(torch.tensor(pred), torch.tensor(target), delta=delta).item()\n"),
    ("huber_loss", "delta times F.smooth_l1_loss with beta = delta",
     "### BEGIN SOLUTION\n",
     "### BEGIN SOLUTION\n    return delta * F.smooth_l1_loss(torch.tensor(pred), torch.tensor(target), beta=delta).item()\n"),
    ("mlp_backward", "autograd: the forward pass in PyTorch, then loss.backward()",
     "### BEGIN SOLUTION\n", _AUTOGRAD_BACKWARD),
    ("mlp_backward", "torch.func.grad of the loss as a function of the parameter dict",
     "### BEGIN SOLUTION\n", _FUNCTIONAL_BACKWARD),
]

# The chapter's code under the exercise's signatures, a copy a student might try: each must lose points.
CHAPTER_COPIES = [
    ("softmax", "the chapter's softmax body, ignoring temperature and axis",
     "### BEGIN SOLUTION\n",
     "### BEGIN SOLUTION\n    shifted = logits - logits.max(axis=-1, keepdims=True)\n    exps = np.exp(shifted)\n"
     "    return exps / exps.sum(axis=-1, keepdims=True)\n"),
    ("cross_entropy", "the chapter's cross_entropy body, ignoring smoothing",
     "### BEGIN SOLUTION\n",
     "### BEGIN SOLUTION\n    shifted = logits - logits.max(axis=-1, keepdims=True)\n"
     "    log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))\n"
     "    picked = log_probs[np.arange(len(labels)), labels]\n    return float(-picked.mean())\n"),
    ("huber_loss", "the chapter's mse under the name huber_loss",
     "### BEGIN SOLUTION\n",
     "### BEGIN SOLUTION\n    return float(np.mean((pred - target) ** 2))\n"),
    ("mlp_backward", "the chapter's two-layer backward pass with the ReLU mask: no loop over layers, no weight decay",
     "### BEGIN SOLUTION\n",
     '''### BEGIN SOLUTION
    X, A1 = cache["A0"], cache["A1"]
    batch = X.shape[0]
    dZ2 = cache["probs"].copy()
    dZ2[np.arange(batch), labels] -= 1.0
    dZ2 /= batch
    dA1 = dZ2 @ params["W2"].T
    dZ1 = dA1 * (cache["Z1"] > 0)
    return {
        "W1": X.T @ dZ1, "b1": dZ1.sum(axis=0),
        "W2": A1.T @ dZ2, "b2": dZ2.sum(axis=0),
    }
'''),
]
