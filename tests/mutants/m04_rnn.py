"""Realistic mistakes in the 04_rnn solutions; each must lose points."""
MUTANTS = [
    # rnn_cell
    ("rnn_cell", "sigmoid where tanh belongs",
     "return torch.tanh(input_part + recurrent_part)", "return torch.sigmoid(input_part + recurrent_part)"),
    ("rnn_cell", "adds the input bias twice (copy-paste of the input term)",
     "recurrent_part = h_prev @ W_hh.T + b_hh", "recurrent_part = h_prev @ W_hh.T + b_ih + b_hh"),
    ("rnn_cell", "W_hh not transposed",
     "recurrent_part = h_prev @ W_hh.T + b_hh", "recurrent_part = h_prev @ W_hh + b_hh"),
    ("rnn_cell", "forgets the recurrent bias b_hh",
     "recurrent_part = h_prev @ W_hh.T + b_hh", "recurrent_part = h_prev @ W_hh.T"),
    ("rnn_cell", "applies tanh to the input term only, adding the recurrent term afterwards",
     "return torch.tanh(input_part + recurrent_part)", "return torch.tanh(input_part) + recurrent_part"),
    # rnn_layer
    ("rnn_layer", "hidden state not carried between steps (h_prev reset to h0 every step)",
     'h = rnn_cell(x[:, t], h, params', 'h = rnn_cell(x[:, t], h0, params'),
    ("rnn_layer", "stacks the outputs along the batch axis (time first)",
     "return torch.stack(outputs, dim=1), h", "return torch.stack(outputs, dim=0), h"),
    ("rnn_layer", "off by one: skips the last time step",
     "for t in range(x.shape[1]):", "for t in range(x.shape[1] - 1):"),
    ("rnn_layer", "returns the first state as h_n",
     "return torch.stack(outputs, dim=1), h", "return torch.stack(outputs, dim=1), outputs[0]"),
    ("rnn_layer", "includes h0 in the outputs and drops the last state",
     "    h = h0\n    outputs = []", "    h = h0\n    outputs = [h0]"),
    # rnn_backward
    ("rnn_backward", "BPTT missing the (1 - h^2) tanh derivative",
     "da = dh * (1.0 - hs[t + 1] ** 2)", "da = dh"),
    ("rnn_backward", "tanh derivative taken at the previous state instead of this step's output",
     "da = dh * (1.0 - hs[t + 1] ** 2)", "da = dh * (1.0 - hs[t] ** 2)"),
    ("rnn_backward", "dW_hh uses the state after the step instead of the one that went into it",
     'grads["W_hh"] += np.outer(da, hs[t])', 'grads["W_hh"] += np.outer(da, hs[t + 1])'),
    ("rnn_backward", "W_hh not transposed when going back to the previous state",
     'dh = da @ params["W_hh"]', 'dh = params["W_hh"] @ da'),
    ("rnn_backward", "drops the gradient from later steps (truncates BPTT to one step)",
     "dh = dh + G[t]", "dh = G[t]"),
    ("rnn_backward", "overwrites the shared-weight gradient at every step instead of summing",
     'grads["W_hh"] += np.outer(da, hs[t])', 'grads["W_hh"] = np.outer(da, hs[t])'),
    ("rnn_backward", "h0 gradient taken before the last step back (one step too early)",
     '        dh = da @ params["W_hh"]                # W_hh^T da: back to the previous state\n'
     '    grads["h0"] = dh',
     '        grads["h0"] = dh\n        dh = da @ params["W_hh"]'),
    # clip_gradients
    ("clip_gradients", "clips each parameter by its own norm instead of the total norm",
     "p.grad.mul_(scale)", "p.grad.mul_(max_norm / (p.grad.norm() + 1e-6))"),
    ("clip_gradients", "clips always, even below max_norm",
     "if total_norm > max_norm:", "if True:"),
    ("clip_gradients", "total norm as the sum of the parameters' norms",
     "total_norm = torch.sqrt(sum((p.grad.detach() ** 2).sum() for p in params))",
     "total_norm = sum(p.grad.detach().norm() for p in params)"),
    ("clip_gradients", "keeps a generator: it is used up computing the norm, nothing is scaled",
     "params = [p for p in params if p.grad is not None]",
     "params = (p for p in params if p.grad is not None)"),
    ("clip_gradients", "returns the norm after clipping",
     "return float(total_norm)", "return float(min(total_norm, max_norm))"),
    # SentimentRNN
    ("SentimentRNN", "reads the last time step (padding included), as the chapter's left-padded model did",
     "return self.output(states[rows, lengths - 1])", "return self.output(states[:, -1])"),
    ("SentimentRNN", "off by one: reads the step after the last word (lengths instead of lengths - 1)",
     "return self.output(states[rows, lengths - 1])",
     "return self.output(states[rows, torch.clamp(lengths, max=ids.shape[1] - 1)])"),
    ("SentimentRNN", "averages the states over all steps, padding included",
     "return self.output(states[rows, lengths - 1])", "return self.output(states.mean(dim=1))"),
    ("SentimentRNN", "indexes the time axis only: (B, B, H) states, one row per length",
     "return self.output(states[rows, lengths - 1])", "return self.output(states[:, lengths - 1])"),
    ("SentimentRNN", "forgets batch_first=True: the RNN runs over the batch axis",
     "self.rnn = nn.RNN(embed_dim, hidden_size, batch_first=True)",
     "self.rnn = nn.RNN(embed_dim, hidden_size)"),
    # train_sentiment
    ("train_sentiment", "never clears the gradients",
     "            optimizer.zero_grad()\n", ""),
    ("train_sentiment", "clips after the optimizer step (too late to matter)",
     "            norm = clip_gradients(model.parameters(), max_norm)\n            optimizer.step()",
     "            optimizer.step()\n            norm = clip_gradients(model.parameters(), max_norm)"),
    ("train_sentiment", "labels not taken from the same rows as the inputs",
     "lengths[rows]), y[rows])\n", "lengths[rows]), y[start:start + batch_size])\n"),
    ("train_sentiment", "never shuffles: the same (possibly sorted) order every epoch",
     "order = torch.randperm(len(X), generator=generator).to(X.device)",
     "order = torch.arange(len(X), device=X.device)"),
    ("train_sentiment", "forgets to clip (records the norm without clipping)",
     "norm = clip_gradients(model.parameters(), max_norm)",
     "norm = float(torch.sqrt(sum((p.grad ** 2).sum() for p in model.parameters())))"),
    ("train_sentiment", "records the loss tensor instead of a float",
     "losses.append(loss.item())", "losses.append(loss)"),
    ("train_sentiment", "keeps the learning rate constant (no decay)",
     'group["lr"] = lr * (1 - len(losses) / total_steps)', 'group["lr"] = lr'),
    ("train_sentiment", "decays per epoch instead of per step",
     'group["lr"] = lr * (1 - len(losses) / total_steps)', 'group["lr"] = lr * (1 - _ / epochs)'),
    ("train_sentiment", "counts the step from 1: the first step already has a smaller learning rate",
     'group["lr"] = lr * (1 - len(losses) / total_steps)', 'group["lr"] = lr * (1 - (len(losses) + 1) / total_steps)'),
    ("train_sentiment", "counts only full minibatches in total_steps",
     "total_steps = epochs * ((len(X) + batch_size - 1) // batch_size)", "total_steps = epochs * (len(X) // batch_size)"),
]

# Answers that give the right numbers the forbidden way; each must lose the points of its own part
# with a message that says "Rule broken".
_BPTT_BODY = '''    grads = {name: np.zeros_like(value) for name, value in params.items()}
    dh = np.zeros_like(hs[0])  # gradient reaching the current state from the steps after it
    for t in reversed(range(x.shape[0])):
        dh = dh + G[t]                          # plus what the loss sends into this state directly
        da = dh * (1.0 - hs[t + 1] ** 2)        # back through tanh
        grads["W_ih"] += np.outer(da, x[t])
        grads["W_hh"] += np.outer(da, hs[t])    # the state that went into step t
        grads["b_ih"] += da
        grads["b_hh"] += da
        dh = da @ params["W_hh"]                # W_hh^T da: back to the previous state
    grads["h0"] = dh
    return grads
'''
_CLIP_BODY = '''    params = [p for p in params if p.grad is not None]
    total_norm = torch.sqrt(sum((p.grad.detach() ** 2).sum() for p in params))
    if total_norm > max_norm:
        scale = max_norm / (total_norm + 1e-6)
        for p in params:
            p.grad.mul_(scale)
    return float(total_norm)
'''
RULE_BREAKERS = [
    ("rnn_backward", "autograd instead of BPTT by hand (the forward pass redone in PyTorch, then backward)",
     _BPTT_BODY, '''    leaves = {name: torch.tensor(value, requires_grad=True) for name, value in params.items()}
    leaves["h0"] = torch.tensor(hs[0], requires_grad=True)
    h, states = leaves["h0"], []
    for t in range(x.shape[0]):
        h = torch.tanh(leaves["W_ih"] @ torch.tensor(x[t]) + leaves["b_ih"] + leaves["W_hh"] @ h + leaves["b_hh"])
        states.append(h)
    (torch.tensor(G) * torch.stack(states)).sum().backward()
    return {name: leaf.grad.numpy() for name, leaf in leaves.items()}
'''),
    ("rnn_backward", "torch.autograd.grad on the loss, the gradients returned as NumPy arrays",
     _BPTT_BODY, '''    names = ["W_ih", "W_hh", "b_ih", "b_hh", "h0"]
    leaves = [torch.from_numpy(params[n] if n != "h0" else hs[0]).requires_grad_() for n in names]
    W_ih, W_hh, b_ih, b_hh, h = leaves
    loss = 0.0
    for t in range(x.shape[0]):
        h = torch.tanh(W_ih @ torch.from_numpy(x[t]) + b_ih + W_hh @ h + b_hh)
        loss = loss + (torch.from_numpy(G[t]) * h).sum()
    return {n: g.numpy() for n, g in zip(names, torch.autograd.grad(loss, leaves))}
'''),
    ("clip_gradients", "one call to torch.nn.utils.clip_grad_norm_",
     _CLIP_BODY, "    return float(torch.nn.utils.clip_grad_norm_(params, max_norm))\n"),
    ("clip_gradients", "PyTorch's two halves of clip_grad_norm_: get_total_norm, then clip_grads_with_norm_",
     _CLIP_BODY, '''    params = [p for p in params if p.grad is not None]
    total_norm = torch.nn.utils.get_total_norm([p.grad for p in params])
    torch.nn.utils.clip_grads_with_norm_(params, max_norm, total_norm)
    return float(total_norm)
'''),
    ("clip_gradients", "clip_grad_norm_ imported under another name inside the function",
     _CLIP_BODY, '''    from torch.nn.utils.clip_grad import clip_grad_norm_ as clip_all
    return float(clip_all(params, max_norm))
'''),
]


def _definitions(path):
    """{name: source} of the functions and classes defined in the code cells of a notebook."""
    from tests import harness
    definitions = {}
    for cell in harness.read(harness.REPO / path).cells:
        if cell.cell_type == "code":
            definitions.update(harness.top_level_definitions(cell.source))
    return definitions


def _chapter_copies():
    """The chapter's model and training loop pasted under the exercise's names, as a student who
    copies from the chapter would, once as they are and once adapted to the lengths."""
    answer = _definitions("solutions/04_rnn/04_rnn.ipynb")
    chapter = _definitions("book/part2/04_rnn.ipynb")
    loop = chapter["train_classifier"].replace("def train_classifier(model, X, y,", "def train_sentiment(model, X, y,")
    with_lengths = (loop.replace("def train_sentiment(model, X, y,", "def train_sentiment(model, X, lengths, y,")
                    .replace("model(X[rows])", "model(X[rows], lengths[rows])")
                    .replace("nn.utils.clip_grad_norm_(model.parameters(), max_norm)",
                             "clip_gradients(model.parameters(), max_norm)"))
    model = chapter["SentimentRNN"].replace("def forward(self, ids):", "def forward(self, ids, lengths=None):")
    assert loop != chapter["train_classifier"] and "lengths[rows]" in with_lengths and "lengths=None" in model
    return [
        ("train_sentiment", "pastes the chapter's train_classifier as train_sentiment",
         answer["train_sentiment"], loop),
        ("train_sentiment", "pastes the chapter's train_classifier, passing the lengths to the model",
         answer["train_sentiment"], with_lengths),
        ("SentimentRNN", "pastes the chapter's SentimentRNN, with a lengths argument it ignores",
         answer["SentimentRNN"], model),
    ]


CHAPTER_COPIES = _chapter_copies()
