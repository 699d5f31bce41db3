"""Realistic mistakes in the 01_neuron solutions; every one must lose points."""
MUTANTS = [
    # sigmoid
    ("sigmoid", "naive formula that overflows for large negative z",
     "return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
     "return 1.0 / (1.0 + np.exp(-z))"),
    ("sigmoid", "np.where over two unguarded branches (both are computed, one overflows)",
     "return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
     "return np.where(z >= 0, 1.0 / (1.0 + np.exp(-z)), np.exp(z) / (1.0 + np.exp(z)))"),
    ("sigmoid", "the two branches swapped",
     "return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
     "return np.where(z >= 0, e / (1.0 + e), 1.0 / (1.0 + e))"),
    ("sigmoid", "sign error: exp(+|z|) instead of exp(-|z|)",
     "e = np.exp(-np.abs(z))", "e = np.exp(np.abs(z))"),
    ("sigmoid", "forgot the absolute value: exp(-z) overflows for z << 0",
     "e = np.exp(-np.abs(z))", "e = np.exp(-z)"),
    ("sigmoid", "negative side as 1 - sigmoid(|z|): the tiny value is lost to cancellation",
     "return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
     "return np.where(z >= 0, 1.0 / (1.0 + e), 1.0 - 1.0 / (1.0 + e))"),
    ("sigmoid", "stable but inexact tanh identity (0 instead of 4e-18 at z = -40)",
     "return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
     "return 0.5 * (1.0 + np.tanh(0.5 * z))"),
    # relu
    ("relu", "absolute value instead of ReLU", "return np.maximum(z, 0.0)", "return np.abs(z)"),
    ("relu", "np.max (a reduction over axis 0) instead of np.maximum",
     "return np.maximum(z, 0.0)", "return np.max(z, 0)"),
    ("relu", "clips the input array in place",
     "return np.maximum(z, 0.0)", "z[z < 0] = 0.0\n    return z"),
    ("relu", "leaky ReLU instead of ReLU",
     "return np.maximum(z, 0.0)", "return np.maximum(z, 0.01 * z)"),
    # neuron_forward
    ("neuron_forward", "missing bias", "z = x @ w[:-1] + w[-1]", "z = x @ w[:-1]"),
    ("neuron_forward", "bias read from the first entry instead of the last",
     "z = x @ w[:-1] + w[-1]", "z = x @ w[1:] + w[0]"),
    ("neuron_forward", "activation applied before adding the bias",
     "z = x @ w[:-1] + w[-1]  # (n, d) @ (d,) -> (n,); the last weight meets the constant input 1\n"
     "    return activation(z)",
     "return activation(x @ w[:-1]) + w[-1]"),
    ("neuron_forward", "forgot the activation", "return activation(z)", "return z"),
    ("neuron_forward", "sums over the whole batch instead of per example",
     "z = x @ w[:-1] + w[-1]", "z = np.sum(x * w[:-1]) + w[-1]"),
    # dense_forward (the first one is the partial submission of tests/test_grader.py)
    ("dense_forward", "missing bias", "return X @ W.T + b", "return X @ W.T"),
    ("dense_forward", "the chapter's (d_in, d_out) layout: W not transposed",
     "return X @ W.T + b", "return X @ W + b"),
    ("dense_forward", "result transposed: (d_out, n) instead of (n, d_out)",
     "return X @ W.T + b", "return W @ X.T + b[:, None]"),
    ("dense_forward", "bias on the wrong axis (one bias per example)",
     "return X @ W.T + b", "return X @ W.T + b[:, None]"),
    ("dense_forward", "bias summed into one number", "return X @ W.T + b", "return X @ W.T + b.sum()"),
    # mlp_forward
    ("mlp_forward", "hidden activation forgotten",
     "H = hidden_activation(dense_forward(H, W, b))", "H = dense_forward(H, W, b)"),
    ("mlp_forward", "output activation forgotten",
     "return output_activation(dense_forward(H, W, b))", "return dense_forward(H, W, b)"),
    ("mlp_forward", "output activation after every layer",
     "H = hidden_activation(dense_forward(H, W, b))", "H = output_activation(dense_forward(H, W, b))"),
    ("mlp_forward", "hidden activation after the last layer too",
     "return output_activation(dense_forward(H, W, b))",
     "return output_activation(hidden_activation(dense_forward(H, W, b)))"),
    ("mlp_forward", "written for two layers: only the first hidden layer is applied",
     "for W, b in layers[:-1]:", "for W, b in layers[:1]:"),
    ("mlp_forward", "the last layer applied twice (loop over all layers)",
     "for W, b in layers[:-1]:", "for W, b in layers:"),
    # predict_leaf_or_flower
    ("predict_leaf_or_flower", "argmax over the examples (axis 0) instead of the outputs",
     "np.argmax(scores, axis=1)", "np.argmax(scores, axis=0)"),
    ("predict_leaf_or_flower", "the lower score wins",
     "np.argmax(scores, axis=1)", "np.argmin(scores, axis=1)"),
    ("predict_leaf_or_flower", "a tie goes to flower",
     "np.argmax(scores, axis=1)", "(scores[:, 1] >= scores[:, 0]).astype(int)"),
    ("predict_leaf_or_flower", "reads only the flower output, as if it were one sigmoid unit",
     "np.argmax(scores, axis=1)", "(scores[:, 1] >= 0).astype(int)"),
    ("predict_leaf_or_flower", "returns booleans instead of integers",
     "np.argmax(scores, axis=1)", "scores[:, 1] > scores[:, 0]"),
    ("predict_leaf_or_flower", "ReLU hidden layer instead of tanh",
     "mlp_forward(X, layers, np.tanh, lambda z: z)", "mlp_forward(X, layers, relu, lambda z: z)"),
    # predict_salary
    ("predict_salary", "columns in the wrong order",
     "np.column_stack([age, years])", "np.column_stack([years, age])"),
    ("predict_salary", "stacked along the wrong axis: (2, n) instead of (n, 2)",
     "np.column_stack([age, years])", "np.stack([age, years])"),
    ("predict_salary", "sigmoid output, as for a classifier",
     "mlp_forward(X, layers, np.tanh, lambda z: z)", "mlp_forward(X, layers, np.tanh, sigmoid)"),
    ("predict_salary", "keeps the (n, 1) column", "lambda z: z)[:, 0]", "lambda z: z)"),
    ("predict_salary", "hidden activation forgotten",
     "mlp_forward(X, layers, np.tanh, lambda z: z)", "mlp_forward(X, layers, lambda z: z, lambda z: z)"),
]

# Parts 1 to 5 are NumPy only: PyTorch is what the tests check against.
RULE_BREAKERS = [
    ("sigmoid", "torch.sigmoid on a tensor view of z",
     "return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
     "return torch.sigmoid(torch.from_numpy(z)).numpy()"),
    ("sigmoid", "an nn.Sigmoid module",
     "return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))",
     "return torch.nn.Sigmoid()(torch.tensor(z)).numpy()"),
    ("relu", "torch.relu", "return np.maximum(z, 0.0)",
     "return torch.relu(torch.tensor(z)).numpy()"),
    ("relu", "F.relu", "return np.maximum(z, 0.0)",
     "return torch.nn.functional.relu(torch.tensor(z)).numpy()"),
    ("neuron_forward", "F.linear with the bias split off",
     "z = x @ w[:-1] + w[-1]",
     "z = torch.nn.functional.linear(torch.tensor(x), torch.tensor(w[None, :-1]),"
     " torch.tensor(w[-1:]))[:, 0].numpy()"),
    ("neuron_forward", "torch.mv", "z = x @ w[:-1] + w[-1]",
     "z = torch.mv(torch.tensor(x), torch.tensor(w[:-1])).numpy() + w[-1]"),
    ("dense_forward", "F.linear, which takes PyTorch's layout as it is",
     "return X @ W.T + b",
     "return torch.nn.functional.linear(torch.tensor(X), torch.tensor(W), torch.tensor(b)).numpy()"),
    ("dense_forward", "an nn.Linear with the weights copied in",
     "return X @ W.T + b",
     "layer = torch.nn.Linear(W.shape[1], W.shape[0]).double()\n"
     "    with torch.no_grad():\n"
     "        layer.weight.copy_(torch.tensor(W))\n"
     "        layer.bias.copy_(torch.tensor(b))\n"
     "        return layer(torch.tensor(X)).numpy()"),
    ("mlp_forward", "the test's nn.Sequential rebuilt",
     "H = X\n    for W, b in layers[:-1]:\n        H = hidden_activation(dense_forward(H, W, b))\n"
     "    W, b = layers[-1]\n    return output_activation(dense_forward(H, W, b))",
     "net = torch.nn.Sequential(*[torch.nn.Linear(W.shape[1], W.shape[0]).double() for W, b in layers])\n"
     "    with torch.no_grad():\n"
     "        for linear, (W, b) in zip(net, layers):\n"
     "            linear.weight.copy_(torch.tensor(W))\n"
     "            linear.bias.copy_(torch.tensor(b))\n"
     "        H = X\n"
     "        for linear in net[:-1]:\n"
     "            H = hidden_activation(linear(torch.tensor(H)).numpy())\n"
     "        return output_activation(net[-1](torch.tensor(H)).numpy())"),
    ("mlp_forward", "each layer through F.linear",
     "H = hidden_activation(dense_forward(H, W, b))",
     "H = hidden_activation(torch.nn.functional.linear(*map(torch.tensor, (H, W, b))).numpy())"),
]

# The chapter's sigmoid, dense_forward and mlp_forward are pasted automatically
# (harness.chapter_copies); these are the chapter's code written outside a function of that name.
CHAPTER_COPIES = [
    ("neuron_forward", "the chapter's z = x @ w + b, bias kept apart",
     "z = x @ w[:-1] + w[-1]", "z = x @ w + b"),
    ("neuron_forward", "the chapter's weighted sum over the full weight vector, bias forgotten",
     "z = x @ w[:-1] + w[-1]", "z = x @ w[: x.shape[1]]"),
]
