"""Realistic mistakes in the 06_gru solutions; each must lose points."""
MUTANTS = [
    # gru_cell
    ("gru_cell", "update-gate interpolation reversed: h' = z * n + (1 - z) * h",
     "return (1 - z) * n + z * h_prev", "return z * n + (1 - z) * h_prev"),
    ("gru_cell", "reset gate applied before the matrix product (the paper's variant): W_hn (r * h) + b_hn",
     "r * (h_prev @ W_hn.T + b_hn)", "(r * h_prev) @ W_hn.T + b_hn"),
    ("gru_cell", "b_hn added outside the reset product",
     "r * (h_prev @ W_hn.T + b_hn)", "r * (h_prev @ W_hn.T) + b_hn"),
    ("gru_cell", "wrong gate order: rows read as [z, r, n]",
     "W_ir, W_iz, W_in = W_ih.split(H)  # each (H, D)\n    W_hr, W_hz, W_hn = W_hh.split(H)  # each (H, H)\n"
     "    b_ir, b_iz, b_in = b_ih.split(H)\n    b_hr, b_hz, b_hn = b_hh.split(H)",
     "W_iz, W_ir, W_in = W_ih.split(H)  # each (H, D)\n    W_hz, W_hr, W_hn = W_hh.split(H)  # each (H, H)\n"
     "    b_iz, b_ir, b_in = b_ih.split(H)\n    b_hz, b_hr, b_hn = b_hh.split(H)"),
    ("gru_cell", "sigmoid instead of tanh for the candidate n",
     "n = torch.tanh(", "n = torch.sigmoid("),
    ("gru_cell", "bias added twice: b_hn also added outside the reset product",
     "x_t @ W_in.T + b_in + r", "x_t @ W_in.T + b_in + b_hn + r"),
    ("gru_cell", "reset gate forgotten in the candidate",
     "r * (h_prev @ W_hn.T + b_hn)", "(h_prev @ W_hn.T + b_hn)"),
    ("gru_cell", "weights not transposed for the update gate (x @ W instead of x @ W.T)",
     "x_t @ W_iz.T", "x_t @ W_iz"),
    # gru_cell_backward
    ("gru_cell_backward", "update-gate gradient with the wrong sign: (n - h) instead of (h - n)",
     "grad_z = grad_h * (h_prev - n)", "grad_z = grad_h * (n - h_prev)"),
    ("gru_cell_backward", "candidate gradient through z instead of 1 - z",
     "grad_n = grad_h * (1 - z)", "grad_n = grad_h * z"),
    ("gru_cell_backward", "tanh derivative taken as 1 - n",
     "(1 - n ** 2)", "(1 - n)"),
    ("gru_cell_backward", "sigmoid derivative of r taken as (1 - r)",
     "grad_r * r * (1 - r)", "grad_r * (1 - r)"),
    ("gru_cell_backward", "forgets the factor r on the hidden side of the candidate block",
     "grad_pre_n * r], dim=1)", "grad_pre_n], dim=1)"),
    ("gru_cell_backward", "forgets the direct path z * h to h_prev",
     "grad_h_prev = grad_h * z + grad_hidden_side @ W_hh", "grad_h_prev = grad_hidden_side @ W_hh"),
    ("gru_cell_backward", "reset-gate gradient from W_hn h without b_hn",
     "grad_r = grad_pre_n * m", "grad_r = grad_pre_n * (m - b_hh[2 * H:])"),
    ("gru_cell_backward", "bias gradients averaged over the batch instead of summed",
     "grad_b_ih = grad_input_side.sum(dim=0)", "grad_b_ih = grad_input_side.mean(dim=0)"),
    ("gru_cell_backward", "input gradient divided by the batch size",
     "grad_x = grad_input_side @ W_ih", "grad_x = grad_input_side @ W_ih / x_t.shape[0]"),
    # gru_layer (bidirectional)
    ("gru_layer", "backward direction stores its states in reading order (not reversed back)",
     "backward_states[t] = h", "backward_states[steps - 1 - t] = h"),
    ("gru_layer", "backward direction reads the sequence forwards",
     "for t in reversed(range(steps)):", "for t in range(steps):"),
    ("gru_layer", "backward direction uses the forward weights",
     'h = gru_cell(x[:, t], h, backward["W_ih"], backward["W_hh"], backward["b_ih"], backward["b_hh"])',
     'h = gru_cell(x[:, t], h, forward["W_ih"], forward["W_hh"], forward["b_ih"], forward["b_hh"])'),
    ("gru_layer", "backward direction continues from the forward final state instead of h0[1]",
     "h = h0[1]", "h = h_forward"),
    ("gru_layer", "h_n in the wrong order: [backward, forward]",
     "torch.stack([h_forward, h])", "torch.stack([h, h_forward])"),
    ("gru_layer", "forward direction does not carry the state: every step starts from h0[0]",
     'h = gru_cell(x[:, t], h, forward["W_ih"]', 'h = gru_cell(x[:, t], h0[0], forward["W_ih"]'),
    ("gru_layer", "directions concatenated along time instead of features",
     "                        dim=2)", "                        dim=1)"),
    # count_params
    ("count_params", "one bias vector per gate block instead of two",
     "+ 2 * hidden_size)", "+ hidden_size)"),
    ("count_params", "later layers read input_size instead of the layer below",
     "layer_input = directions * hidden_size", "layer_input = input_size"),
    ("count_params", "later layers read one direction's states only",
     "layer_input = directions * hidden_size", "layer_input = hidden_size"),
    ("count_params", "ignores bidirectional",
     "directions = 2 if bidirectional else 1", "directions = 1"),
    ("count_params", "ignores num_layers",
     "for _ in range(num_layers):", "for _ in range(1):"),
    ("count_params", "LSTM with three blocks, like the GRU",
     "bidirectional) // 3 * 4", "bidirectional)"),
    # memory_gru (TrackerGRU)
    ("memory_gru", "GRU without batch_first: reads the batch as time",
     "nn.GRU(embed_dim, hidden_size, batch_first=True)", "nn.GRU(embed_dim, hidden_size)"),
    ("memory_gru", "answers only after the last token, as the chapter's model",
     "return self.head(outputs)", "return self.head(outputs[:, -1])"),
    ("memory_gru", "head on the final state h_n instead of every step's output",
     "outputs, _ = self.gru(self.embedding(tokens))\n        return self.head(outputs)",
     "_, h_n = self.gru(self.embedding(tokens))\n        return self.head(h_n[0])"),
    ("memory_gru", "biases the reset gate (rows 0:H) instead of the update gate",
     "self.gru.bias_ih_l0[hidden_size:2 * hidden_size].fill_(update_bias)",
     "self.gru.bias_ih_l0[:hidden_size].fill_(update_bias)"),
    ("memory_gru", "biases the update gate the wrong way (the other convention's sign)",
     ".fill_(update_bias)", ".fill_(-update_bias)"),
    ("memory_gru", "leaves bias_hh of the update gate as initialised",
     "            self.gru.bias_hh_l0[hidden_size:2 * hidden_size].zero_()\n", ""),
    # train_memory (train_tracker)
    ("train_memory", "never zeroes the gradients",
     "        optimizer.zero_grad()\n", ""),
    ("train_memory", "forgets optimizer.step()",
     "        optimizer.step()\n", ""),
    ("train_memory", "plain SGD at Adam's learning rate",
     "torch.optim.Adam(", "torch.optim.SGD("),
    ("train_memory", "stores loss tensors instead of floats",
     "losses.append(loss.item())", "losses.append(loss)"),
    ("train_memory", "loss on the last position only",
     "F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))",
     "F.cross_entropy(logits[:, -1], labels[:, -1])"),
    ("train_memory", "classes on the wrong axis: flattens (B, K, T) as if it were (B, T, K)",
     "logits.reshape(-1, logits.shape[-1])", "logits.transpose(1, 2).reshape(-1, logits.shape[-1])"),
    ("train_memory", "trains against the tokens instead of the labels",
     "labels.reshape(-1))", "tokens.clamp(max=K_SYMBOLS - 1).reshape(-1))"),
    ("train_memory", "re-seeds the generator every step: the same batch over and over",
     "tokens, labels = make_tracking_batch(batch_size, length, generator)",
     "tokens, labels = make_tracking_batch(batch_size, length, torch.Generator().manual_seed(seed))"),
]

# Answers that give the right numbers the forbidden way: each must lose its own part's points
# with a "Rule broken" message.
RULE_BREAKERS = [
    ("gru_cell", "nn.GRUCell with the weights copied in",
     "    H = h_prev.shape[1]\n",
     "    cell = nn.GRUCell(x_t.shape[1], h_prev.shape[1]).to(x_t.dtype)\n"
     "    with torch.no_grad():\n"
     "        cell.weight_ih.copy_(W_ih)\n        cell.weight_hh.copy_(W_hh)\n"
     "        cell.bias_ih.copy_(b_ih)\n        cell.bias_hh.copy_(b_hh)\n"
     "        return cell(x_t, h_prev)\n"
     "    H = h_prev.shape[1]\n"),
    ("gru_cell", "nn.GRU run over a sequence of length one",
     "    H = h_prev.shape[1]\n",
     "    gru = nn.GRU(x_t.shape[1], h_prev.shape[1], batch_first=True).to(x_t.dtype)\n"
     "    with torch.no_grad():\n"
     "        for p, w in zip(gru.parameters(), (W_ih, W_hh, b_ih, b_hh)):\n"
     "            p.copy_(w)\n"
     "        return gru(x_t[:, None], h_prev[None])[1][0]\n"
     "    H = h_prev.shape[1]\n"),
    ("gru_cell", "torch.gru_cell, the function behind nn.GRUCell",
     "    H = h_prev.shape[1]\n",
     "    return torch.gru_cell(x_t, h_prev, W_ih, W_hh, b_ih, b_hh)\n"
     "    H = h_prev.shape[1]\n"),
    ("gru_cell_backward", "autograd: backward() through the forward equations",
     "    H = h_prev.shape[1]\n",
     "    leaves = [t.detach().clone().requires_grad_() for t in (x_t, h_prev, W_ih, W_hh, b_ih, b_hh)]\n"
     "    with torch.enable_grad():\n"
     "        (torch.gru_cell(*leaves) * grad_h).sum().backward()\n"
     "    return tuple(t.grad for t in leaves)\n"
     "    H = h_prev.shape[1]\n"),
    ("gru_cell_backward", "torch.autograd.grad",
     "    H = h_prev.shape[1]\n",
     "    leaves = [t.detach().clone().requires_grad_() for t in (x_t, h_prev, W_ih, W_hh, b_ih, b_hh)]\n"
     "    with torch.enable_grad():\n"
     "        return torch.autograd.grad(torch.gru_cell(*leaves), leaves, grad_h)\n"
     "    H = h_prev.shape[1]\n"),
    ("gru_cell_backward", "torch.func.vjp",
     "    H = h_prev.shape[1]\n",
     "    from torch.func import vjp\n"
     "    _, pullback = vjp(torch.gru_cell, x_t, h_prev, W_ih, W_hh, b_ih, b_hh)\n"
     "    return pullback(grad_h)\n"
     "    H = h_prev.shape[1]\n"),
    ("gru_layer", "nn.GRU(bidirectional=True) with the weights copied in",
     "    forward, backward = params\n",
     "    gru = nn.GRU(x.shape[2], h0.shape[2], batch_first=True, bidirectional=True).to(x.dtype)\n"
     "    with torch.no_grad():\n"
     "        for suffix, p in ((\"\", params[0]), (\"_reverse\", params[1])):\n"
     "            for name, key in ((\"weight_ih\", \"W_ih\"), (\"weight_hh\", \"W_hh\"),\n"
     "                              (\"bias_ih\", \"b_ih\"), (\"bias_hh\", \"b_hh\")):\n"
     "                getattr(gru, name + \"_l0\" + suffix).copy_(p[key])\n"
     "        return gru(x, h0)\n"
     "    forward, backward = params\n"),
    ("gru_layer", "two one-way nn.GRU layers, the second on the flipped sequence",
     "    forward, backward = params\n",
     "    results = []\n"
     "    for p, start, inputs in ((params[0], h0[0], x), (params[1], h0[1], x.flip(1))):\n"
     "        gru = nn.GRU(x.shape[2], h0.shape[2], batch_first=True).to(x.dtype)\n"
     "        with torch.no_grad():\n"
     "            for name, key in ((\"weight_ih_l0\", \"W_ih\"), (\"weight_hh_l0\", \"W_hh\"),\n"
     "                              (\"bias_ih_l0\", \"b_ih\"), (\"bias_hh_l0\", \"b_hh\")):\n"
     "                getattr(gru, name).copy_(p[key])\n"
     "            results.append(gru(inputs, start[None]))\n"
     "    (out_f, h_f), (out_b, h_b) = results\n"
     "    return torch.cat([out_f, out_b.flip(1)], dim=2), torch.cat([h_f, h_b])\n"
     "    forward, backward = params\n"),
    ("count_params", "builds the GRU and counts its parameters",
     "    directions = 2 if bidirectional else 1\n",
     "    gru = nn.GRU(input_size, hidden_size, num_layers=num_layers, bidirectional=bidirectional)\n"
     "    return sum(p.numel() for p in gru.parameters())\n"
     "    directions = 2 if bidirectional else 1\n"),
    ("count_params", "counts the LSTM's parameters from a module",
     "    return count_gru_params(input_size, hidden_size, num_layers, bidirectional) // 3 * 4\n",
     "    lstm = nn.LSTM(input_size, hidden_size, num_layers=num_layers, bidirectional=bidirectional)\n"
     "    return sum(p.numel() for p in lstm.parameters())\n"),
]

# The chapter's code pasted under the exercise's names (the suite also pastes, by itself, every
# chapter definition whose name an answer defines): each must lose points.
CHAPTER_COPIES = [
    ("gru_cell", "the chapter's gru_step renamed gru_cell (returns the gates too)",
     "    H = h_prev.shape[1]\n",
     "    x, h = x_t, h_prev\n"
     "    x_r, x_z, x_n = (x @ W_ih.T + b_ih).chunk(3, dim=-1)  # input contributions, rows [r, z, n]\n"
     "    h_r, h_z, h_n = (h @ W_hh.T + b_hh).chunk(3, dim=-1)  # hidden contributions\n"
     "    r = torch.sigmoid(x_r + h_r)\n"
     "    z = torch.sigmoid(x_z + h_z)\n"
     "    n = torch.tanh(x_n + r * h_n)  # r scales W_hn h + b_hn: after the matrix product\n"
     "    return (1 - z) * n + z * h, (r, z, n)\n"
     "    H = h_prev.shape[1]\n"),
    ("gru_cell_backward", "the chapter's gru_step renamed gru_cell_backward (a forward step, no gradients)",
     "    H = h_prev.shape[1]\n",
     "    x, h = x_t, h_prev\n"
     "    x_r, x_z, x_n = (x @ W_ih.T + b_ih).chunk(3, dim=-1)\n"
     "    h_r, h_z, h_n = (h @ W_hh.T + b_hh).chunk(3, dim=-1)\n"
     "    r = torch.sigmoid(x_r + h_r)\n"
     "    z = torch.sigmoid(x_z + h_z)\n"
     "    n = torch.tanh(x_n + r * h_n)\n"
     "    return (1 - z) * n + z * h, (r, z, n)\n"
     "    H = h_prev.shape[1]\n"),
    ("gru_layer", "the chapter's one-way loop over the sequence (cell 26) as the layer",
     "    forward, backward = params\n",
     "    p = params[0]\n"
     "    h = h0[0]\n"
     "    states = []\n"
     "    for t in range(x.shape[1]):\n"
     "        h = gru_cell(x[:, t], h, p[\"W_ih\"], p[\"W_hh\"], p[\"b_ih\"], p[\"b_hh\"])\n"
     "        states.append(h)\n"
     "    return torch.stack(states, dim=1), h\n"
     "    forward, backward = params\n"),
    ("count_params", "the chapter's recurrent_param_count (one layer, one direction)",
     "    directions = 2 if bidirectional else 1\n",
     "    def recurrent_param_count(blocks, input_size, hidden_size):\n"
     "        return blocks * (hidden_size * (input_size + hidden_size) + 2 * hidden_size)\n"
     "    return recurrent_param_count(3, input_size, hidden_size)\n"
     "    directions = 2 if bidirectional else 1\n"),
    ("memory_gru", "the chapter's MemoryNet with the exercise's names (answers after the last token)",
     "        outputs, _ = self.gru(self.embedding(tokens))\n        return self.head(outputs)\n",
     "        outputs, _ = self.gru(self.embedding(tokens))\n"
     "        return self.head(outputs[:, -1])  # logits from the state after the last token\n"),
    ("train_memory", "the chapter's train_memory_net with the exercise's names",
     "    ### BEGIN SOLUTION\n    generator = torch.Generator().manual_seed(seed)\n",
     "    ### BEGIN SOLUTION\n"
     "    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)\n"
     "    generator = torch.Generator().manual_seed(seed)\n"
     "    for _ in range(steps):\n"
     "        tokens, labels = make_tracking_batch(64, length, generator)\n"
     "        loss = F.cross_entropy(model(tokens), labels)\n"
     "        optimizer.zero_grad()\n"
     "        loss.backward()\n"
     "        nn.utils.clip_grad_norm_(model.parameters(), 1.0)\n"
     "        optimizer.step()\n"
     "    return model\n"
     "    generator = torch.Generator().manual_seed(seed)\n"),
]
