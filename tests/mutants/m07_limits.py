"""Realistic mistakes in the 07_limits solutions; each must lose points."""
MUTANTS = [
    # sequential_steps
    ("sequential_steps", "counts the T - 1 transitions of an RNN instead of its T steps",
     "        return T\n", "        return T - 1\n"),
    ("sequential_steps", "a convolution layer reaches k more positions instead of k - 1",
     "field += kernel_size - 1", "field += kernel_size"),
    ("sequential_steps", "starts the convolution stack at zero layers: a sequence of one needs 0",
     "layers, field = 1, kernel_size", "layers, field = 0, 1"),
    ("sequential_steps", "dilated depth with a strict inequality: one layer too many at exact powers",
     "while kernel_size ** layers < T:", "while kernel_size ** layers <= T:"),
    ("sequential_steps", "dilated depth from a floating-point logarithm (log(125, 5) = 3.0000000000000004)",
     "        layers = 1\n        while kernel_size ** layers < T:\n            layers += 1\n        return layers",
     "        return max(1, math.ceil(math.log(T, kernel_size)))"),
    ("sequential_steps", "returns None instead of raising for an unknown kind",
     '    raise ValueError(f"unknown layer kind {kind!r}")', "    return None"),
    # parallel_sequence_layer
    ("parallel_sequence_layer", "multiplies by W instead of its transpose",
     "x @ W.T + b", "x @ W + b"),
    ("parallel_sequence_layer", "forgets the bias",
     "x @ W.T + b", "x @ W.T"),
    ("parallel_sequence_layer", "forgets the tanh",
     "return torch.tanh(x @ W.T + b)", "return x @ W.T + b"),
    ("parallel_sequence_layer", "returns time-major output (T, B, D_out)",
     "return torch.tanh(x @ W.T + b)", "return torch.tanh(x @ W.T + b).transpose(0, 1)"),
    # last_hidden_state
    ("last_hidden_state", "takes the state at index -1, ignoring the lengths",
     "return outputs[rows, lengths - 1]", "return outputs[:, -1]"),
    ("last_hidden_state", "off by one: indexes with lengths instead of lengths - 1",
     "lengths - 1", "lengths"),
    ("last_hidden_state", "uses the longest length for every sequence",
     "return outputs[rows, lengths - 1]", "return outputs[rows, lengths.max() - 1]"),
    ("last_hidden_state", "swaps the batch and time indices",
     "return outputs[rows, lengths - 1]", "return outputs[lengths - 1, rows]"),
    # masked_attention_pool
    ("masked_attention_pool", "softmax over the batch axis instead of time",
     'float("-inf")), dim=1)', 'float("-inf")), dim=0)'),
    ("masked_attention_pool", "masks after the softmax without renormalising",
     'weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=1)',
     "weights = torch.softmax(scores, dim=1) * mask"),
    ("masked_attention_pool", "fills the padded scores with 0 instead of -inf",
     'float("-inf")', "0.0"),
    ("masked_attention_pool", "off by one in the mask: the first padded position counts",
     "< lengths[:, None]", "<= lengths[:, None]"),
    ("masked_attention_pool", "averages the weighted states instead of summing them",
     "(weights[:, :, None] * states).sum(dim=1)", "(weights[:, :, None] * states).mean(dim=1)"),
    ("masked_attention_pool", "exponentiates without subtracting the maximum (overflow on large scores)",
     'weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=1)',
     'exps = torch.exp(scores.masked_fill(~mask, float("-inf")))\n'
     "    weights = exps / exps.sum(dim=1, keepdim=True)"),
    # AttentionRecall.forward
    ("attention_recall", "forgets the position embeddings",
     "inputs = self.token_embedding(tokens) + self.position_embedding(steps)",
     "inputs = self.token_embedding(tokens)"),
    ("attention_recall", "scores without the query (the same weights whatever p is)",
     "scores = (states * self.query(positions)[:, None, :]).sum(dim=-1)",
     "scores = states.sum(dim=-1)"),
    ("attention_recall", "ignores the lengths: attends over the padding too",
     "pooled, _ = masked_attention_pool(states, scores, lengths)",
     "pooled, _ = masked_attention_pool(states, scores, torch.full_like(lengths, tokens.shape[1]))"),
    ("attention_recall", "reads the last state instead of the pooled one",
     "return self.head(pooled)", "return self.head(last_hidden_state(states, lengths))"),
    ("attention_recall", "looks up the query of the length instead of the position",
     "self.query(positions)", "self.query(lengths - 1)"),
]

# Right numbers the forbidden way: each must lose the points of its own part, naming the rule.
RULE_BREAKERS = [
    # parallel_sequence_layer: one batched operation, no loop over t or over the batch
    ("parallel_sequence_layer", "pastes the check's loop_reference: one time step after the other",
     "return torch.tanh(x @ W.T + b)",
     "return torch.stack([torch.tanh(F.linear(x[:, t], W, b)) for t in range(x.shape[1])], dim=1)"),
    ("parallel_sequence_layer", "fills a preallocated output one time step at a time",
     "    return torch.tanh(x @ W.T + b)\n",
     "    y = x.new_empty(x.shape[0], x.shape[1], W.shape[0])\n"
     "    for t in range(x.shape[1]):\n"
     "        y[:, t] = torch.tanh(x[:, t] @ W.T + b)\n"
     "    return y\n"),
    ("parallel_sequence_layer", "loops over the sequences of the batch",
     "return torch.tanh(x @ W.T + b)",
     "return torch.stack([torch.tanh(sequence @ W.T + b) for sequence in x])"),
    # last_hidden_state: one indexing operation, no loop over the batch
    ("last_hidden_state", "picks each sequence's state in a loop over the batch",
     "return outputs[rows, lengths - 1]",
     "return torch.stack([outputs[b, lengths[b] - 1] for b in range(outputs.shape[0])])"),
    ("last_hidden_state", "loops over lengths.tolist()",
     "return outputs[rows, lengths - 1]",
     "return torch.stack([outputs[b, n - 1] for b, n in enumerate(lengths.tolist())])"),
    # masked_attention_pool: no loop over the batch
    ("masked_attention_pool", "pastes the check's reference_pool: one sequence at a time",
     "    T = scores.shape[1]\n"
     "    mask = torch.arange(T, device=scores.device)[None, :] < lengths[:, None]  # (B, T): real steps\n"
     '    weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=1)\n'
     "    pooled = (weights[:, :, None] * states).sum(dim=1)\n",
     "    weights = torch.zeros_like(scores)\n"
     "    for row, length in enumerate(lengths.tolist()):\n"
     "        weights[row, :length] = torch.softmax(scores[row, :length], dim=0)\n"
     '    pooled = torch.einsum("bt,bth->bh", weights, states)\n'),
    ("masked_attention_pool", "a softmax per sequence, padded back with F.pad",
     "    T = scores.shape[1]\n"
     "    mask = torch.arange(T, device=scores.device)[None, :] < lengths[:, None]  # (B, T): real steps\n"
     '    weights = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=1)\n'
     "    pooled = (weights[:, :, None] * states).sum(dim=1)\n"
     "    return pooled, weights\n",
     "    pooled, weights = [], []\n"
     "    for row in range(scores.shape[0]):\n"
     "        w = torch.softmax(scores[row, :lengths[row]], dim=0)\n"
     "        weights.append(F.pad(w, (0, scores.shape[1] - len(w))))\n"
     "        pooled.append(w @ states[row, :lengths[row]])\n"
     "    return torch.stack(pooled), torch.stack(weights)\n"),
]

# The chapter's depth table (kernel 3 for convolutions, 2 for dilated ones) pasted as the answer.
CHAPTER_COPIES = [
    ("sequential_steps", "the chapter's DEPTH formulas, with the chapter's kernel sizes",
     "    if kind == \"rnn\":\n        return T\n",
     "    DEPTH = {\"rnn\": lambda T: T, \"conv\": lambda T: max(1, T // 2),\n"
     "             \"dilated\": lambda T: max(1, (T - 1).bit_length()), \"attention\": lambda T: 1}\n"
     "    if kind in DEPTH:\n"
     "        return DEPTH[kind](T)\n"),
]
