"""Realistic mistakes in the 05_lstm solutions; each must lose points."""
GATES_RETURN = ('    return (torch.sigmoid(pre_activation("i")), torch.sigmoid(pre_activation("f")),\n'
                '            torch.tanh(pre_activation("g")), torch.sigmoid(pre_activation("o")))')
LSTM_CELL_DEF = "def lstm_cell(x_t, h_prev, c_prev, weights):"
LSTM_GATES_DEF = "def lstm_gates(x_t, h_prev, weights):"
LAYERS_DEF = "def lstm_layers(x, state, layers):"
BACKWARD_DEF = "def lstm_cell_backward(dh_t, dc_t, x_t, h_prev, c_prev, weights):"
COUNT_DEF = "def count_lstm_params(input_size, hidden_size, num_layers=1):"
MODEL_DEF = "class MemoryLSTM(nn.Module):"
TRAIN_DEF = "def train_memory(model, distance, steps, batch_size=64, lr=0.01, seed=0):"


def replaced_by(definition, new_code):
    """(find, replace) that defines new_code under the answer's name and renames the answer
    itself out of the way, so that the new code is what the tests call."""
    name = definition.split()[1].split("(")[0]
    return definition, new_code.rstrip() + "\n\n\n" + definition.replace(name, "_replaced_" + name, 1)


STACK = ("    W_ih = torch.cat([weights[k][0] for k in 'ifgo'])\n"
         "    W_hh = torch.cat([weights[k][1] for k in 'ifgo'])\n"
         "    b = torch.cat([weights[k][2] for k in 'ifgo'])\n")

MUTANTS = [
    # lstm_gates
    ("lstm_gates", "wrong gate order: returns (i, f, o, g)",
     GATES_RETURN, GATES_RETURN.replace('torch.tanh(pre_activation("g")), torch.sigmoid(pre_activation("o"))',
                                        'torch.sigmoid(pre_activation("o")), torch.tanh(pre_activation("g"))')),
    ("lstm_gates", "sigmoid on the candidate g instead of tanh",
     'torch.tanh(pre_activation("g"))', 'torch.sigmoid(pre_activation("g"))'),
    ("lstm_gates", "forgets the bias",
     "return x_t @ W_x.T + h_prev @ W_h.T + b", "return x_t @ W_x.T + h_prev @ W_h.T"),
    ("lstm_gates", "tanh on the output gate",
     'torch.sigmoid(pre_activation("o"))', 'torch.tanh(pre_activation("o"))'),
    ("lstm_gates", "multiplies by the weights without transposing them (x W instead of x W^T)",
     "return x_t @ W_x.T + h_prev @ W_h.T + b", "return x_t @ W_x.T + h_prev @ W_h + b"),
    # lstm_cell
    ("lstm_cell", "no tanh on the cell output: h = o * c",
     "h_t = o * torch.tanh(c_t)", "h_t = o * c_t"),
    ("lstm_cell", "forget gate applied to the candidate instead of the old cell",
     "c_t = f * c_prev + i * g", "c_t = c_prev + f * i * g"),
    ("lstm_cell", "input and forget gates swapped in the cell update",
     "c_t = f * c_prev + i * g", "c_t = i * c_prev + f * g"),
    ("lstm_cell", "squashes the old cell instead of the new one",
     "h_t = o * torch.tanh(c_t)", "h_t = o * torch.tanh(c_prev)"),
    ("lstm_cell", "returns (c, h) instead of (h, c)",
     "return h_t, c_t", "return c_t, h_t"),
    # lstm_layers
    ("lstm_layers", "cell state not carried between steps",
     "h, c = lstm_cell(inputs[:, t], h, c, weights)", "h, _ = lstm_cell(inputs[:, t], h, c, weights)"),
    ("lstm_layers", "every layer reads the inputs x instead of the layer below",
     "h, c = lstm_cell(inputs[:, t], h, c, weights)", "h, c = lstm_cell(x[:, t], h, c, weights)"),
    ("lstm_layers", "every layer starts from the first layer's initial state",
     "h, c = state[0][layer], state[1][layer]", "h, c = state[0][0], state[1][0]"),
    ("lstm_layers", "returns h_n where c_n belongs",
     "return inputs, (torch.stack(h_n), torch.stack(c_n))", "return inputs, (torch.stack(h_n), torch.stack(h_n))"),
    ("lstm_layers", "stacks the outputs time-first (T, B, H)",
     "inputs = torch.stack(outputs, dim=1)", "inputs = torch.stack(outputs, dim=0)"),
    # lstm_cell_backward
    ("lstm_backward", "forgets the path from h_t into c_t",
     "d_c = dc_t + dh_t * o * (1 - tanh_c ** 2)", "d_c = dc_t"),
    ("lstm_backward", "forgets tanh' on the way from h_t into c_t",
     "d_c = dc_t + dh_t * o * (1 - tanh_c ** 2)", "d_c = dc_t + dh_t * o"),
    ("lstm_backward", "uses the sigmoid's derivative for the candidate g",
     '"g": d_g * (1 - g ** 2)', '"g": d_g * g * (1 - g)'),
    ("lstm_backward", "the gradient for c_prev forgets the forget gate",
     "d_c_prev = d_c * f", "d_c_prev = d_c"),
    ("lstm_backward", "swaps the gradients of i and g",
     "d_f, d_i, d_g = d_c * c_prev, d_c * g, d_c * i", "d_f, d_i, d_g = d_c * c_prev, d_c * i, d_c * g"),
    ("lstm_backward", "averages the bias gradient over the batch instead of summing it",
     "a.sum(dim=0))", "a.mean(dim=0))"),
    ("lstm_backward", "the output gate's gradient uses c_t instead of tanh(c_t)",
     "d_o = dh_t * tanh_c", "d_o = dh_t * c_t"),
    ("lstm_backward", "forgets to sum the input gradient over the four gates",
     'grads["x_t"] = grads["x_t"] + a @ W_x', 'grads["x_t"] = a @ W_x'),
    # count_lstm_params
    ("count_lstm_params", "counts one bias vector per gate instead of two",
     "+ 2 * hidden_size)", "+ hidden_size)"),
    ("count_lstm_params", "three gates instead of four blocks",
     "total += 4 * (", "total += 3 * ("),
    ("count_lstm_params", "every layer reads input_size, not the hidden states of the layer below",
     "layer_input = input_size if layer == 0 else hidden_size", "layer_input = input_size"),
    ("count_lstm_params", "forgets the recurrent weights W_hh",
     "hidden_size * (layer_input + hidden_size)", "hidden_size * layer_input"),
    # MemoryLSTM
    ("memory_lstm", "sets the input gate's bias instead of the forget gate's",
     "forget_rows = slice(hidden_size, 2 * hidden_size)", "forget_rows = slice(0, hidden_size)"),
    ("memory_lstm", "sets the forget bias of the first layer only",
     "for k in range(num_layers):", "for k in range(1):"),
    ("memory_lstm", "sets only bias_ih, so the total forget bias is forget_bias plus a random b_hh",
     '                getattr(self.lstm, f"bias_hh_l{k}")[forget_rows] = 0.0\n', ""),
    ("memory_lstm", "one LSTM layer instead of num_layers",
     "nn.LSTM(embed_dim, hidden_size, num_layers=num_layers, batch_first=True)",
     "nn.LSTM(embed_dim, hidden_size, batch_first=True)"),
    ("memory_lstm", "forgets batch_first=True, so the LSTM runs along the batch axis",
     "num_layers=num_layers, batch_first=True)", "num_layers=num_layers)"),
    ("memory_lstm", "classifies the output at the first step instead of the last",
     "self.head(outputs[:, -1])", "self.head(outputs[:, 0])"),
    # train_memory
    ("train_memory", "never zeroes the gradients, so they pile up from step to step",
     "        optimizer.zero_grad()\n", ""),
    ("train_memory", "calls step() before backward(), so every update uses zero gradients",
     "        loss.backward()\n        optimizer.step()\n",
     "        optimizer.step()\n        loss.backward()\n"),
    ("train_memory", "no curriculum: every batch at the full distance",
     "recall_batch(batch_size, d_k, generator)", "recall_batch(batch_size, distance, generator)"),
    ("train_memory", "the curriculum reaches the full distance only at the end (k / steps, not 2k / steps)",
     "d_k = min(distance, 1 + 2 * distance * k // steps)", "d_k = min(distance, 1 + distance * k // steps)"),
    ("train_memory", "keeps the loss tensors instead of Python floats",
     "losses.append(loss.item())", "losses.append(loss)"),
]

# Answers that give the right numbers the forbidden way: each loses the points of its own part.
RULE_BREAKERS = [
    ("lstm_cell", "runs PyTorch's own step, torch.lstm_cell, on the stacked weights",
     *replaced_by(LSTM_CELL_DEF, LSTM_CELL_DEF + "\n" + STACK +
                  "    return torch.lstm_cell(x_t, (h_prev, c_prev), W_ih, W_hh, b, torch.zeros_like(b))")),
    ("lstm_cell", "copies the weights into an nn.LSTMCell",
     *replaced_by(LSTM_CELL_DEF, LSTM_CELL_DEF + "\n" + STACK +
                  "    cell = nn.LSTMCell(x_t.shape[1], h_prev.shape[1]).to(x_t.dtype)\n"
                  "    with torch.no_grad():\n"
                  "        cell.weight_ih.copy_(W_ih); cell.weight_hh.copy_(W_hh)\n"
                  "        cell.bias_ih.copy_(b); cell.bias_hh.zero_()\n"
                  "        return cell(x_t, (h_prev, c_prev))")),
    ("lstm_layers", "copies the weights into an nn.LSTM with as many layers",
     *replaced_by(LAYERS_DEF, LAYERS_DEF + "\n"
                  "    L, H, D = len(layers), layers[0]['i'][1].shape[0], x.shape[2]\n"
                  "    lstm = nn.LSTM(D, H, num_layers=L, batch_first=True).to(x.dtype)\n"
                  "    with torch.no_grad():\n"
                  "        for k, weights in enumerate(layers):\n"
                  "            for j, name in enumerate(['weight_ih', 'weight_hh', 'bias_ih']):\n"
                  "                getattr(lstm, f'{name}_l{k}').copy_(torch.cat([weights[g][j] for g in 'ifgo']))\n"
                  "            getattr(lstm, f'bias_hh_l{k}').zero_()\n"
                  "        return lstm(x, state)")),
    ("lstm_layers", "loops over the steps with torch.lstm_cell instead of lstm_cell",
     *replaced_by(LAYERS_DEF, LAYERS_DEF + "\n"
                  "    B, T, _ = x.shape\n"
                  "    L, H = len(layers), layers[0]['i'][1].shape[0]\n"
                  "    if state is None:\n"
                  "        state = (x.new_zeros(L, B, H), x.new_zeros(L, B, H))\n"
                  "    inputs, hs, cs = x, [], []\n"
                  "    for k, weights in enumerate(layers):\n"
                  + STACK.replace("    ", "        ") +
                  "        h, c, outputs = state[0][k], state[1][k], []\n"
                  "        for t in range(T):\n"
                  "            h, c = torch.lstm_cell(inputs[:, t], (h, c), W_ih, W_hh, b, torch.zeros_like(b))\n"
                  "            outputs.append(h)\n"
                  "        inputs = torch.stack(outputs, dim=1)\n"
                  "        hs.append(h); cs.append(c)\n"
                  "    return inputs, (torch.stack(hs), torch.stack(cs))")),
    ("lstm_backward", "lets autograd do it: backward() through its own forward step",
     *replaced_by(BACKWARD_DEF, BACKWARD_DEF + "\n"
                  "    x, h, c = (t.detach().clone().requires_grad_() for t in (x_t, h_prev, c_prev))\n"
                  "    w = {k: tuple(t.detach().clone().requires_grad_() for t in weights[k]) for k in 'ifgo'}\n"
                  "    with torch.enable_grad():\n"
                  "        h_t, c_t = lstm_cell(x, h, c, w)\n"
                  "        ((dh_t * h_t).sum() + (dc_t * c_t).sum()).backward()\n"
                  "    grads = {'x_t': x.grad, 'h_prev': h.grad, 'c_prev': c.grad}\n"
                  "    grads.update({k: tuple(t.grad for t in w[k]) for k in 'ifgo'})\n"
                  "    return grads")),
    ("lstm_backward", "asks torch.autograd.grad for the gradients",
     *replaced_by(BACKWARD_DEF, BACKWARD_DEF + "\n"
                  "    x, h, c = (t.detach().clone().requires_grad_() for t in (x_t, h_prev, c_prev))\n"
                  "    w = {k: tuple(t.detach().clone().requires_grad_() for t in weights[k]) for k in 'ifgo'}\n"
                  "    leaves = [x, h, c] + [t for k in 'ifgo' for t in w[k]]\n"
                  "    with torch.enable_grad():\n"
                  "        h_t, c_t = lstm_cell(x, h, c, w)\n"
                  "        g = torch.autograd.grad((dh_t * h_t).sum() + (dc_t * c_t).sum(), leaves)\n"
                  "    grads = {'x_t': g[0], 'h_prev': g[1], 'c_prev': g[2]}\n"
                  "    grads.update({k: tuple(g[3 + 3 * n:6 + 3 * n]) for n, k in enumerate('ifgo')})\n"
                  "    return grads")),
    ("lstm_backward", "uses torch.func.vjp",
     *replaced_by(BACKWARD_DEF, BACKWARD_DEF + "\n"
                  "    import torch.func\n"
                  "    flat = [t for k in 'ifgo' for t in weights[k]]\n"
                  "    def step(x, h, c, *flat):\n"
                  "        w = {k: tuple(flat[3 * n:3 * n + 3]) for n, k in enumerate('ifgo')}\n"
                  "        return lstm_cell(x, h, c, w)\n"
                  "    _, pullback = torch.func.vjp(step, x_t, h_prev, c_prev, *flat)\n"
                  "    g = pullback((dh_t, dc_t))\n"
                  "    grads = {'x_t': g[0], 'h_prev': g[1], 'c_prev': g[2]}\n"
                  "    grads.update({k: tuple(g[3 + 3 * n:6 + 3 * n]) for n, k in enumerate('ifgo')})\n"
                  "    return grads")),
    ("count_lstm_params", "builds the module and counts its parameters",
     *replaced_by(COUNT_DEF, COUNT_DEF + "\n"
                  "    lstm = nn.LSTM(input_size, hidden_size, num_layers)\n"
                  "    return sum(p.numel() for p in lstm.parameters())")),
]

# The chapter's code pasted under the exercise's names (the chapter shows the idea; the exercise
# asks for what the chapter did not write out): each must lose points.
CHAPTER_LSTM_STEP = '''    pre = x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh   # (B, 4H): all four at once
    i, f, g, o = pre.chunk(4, dim=1)                     # PyTorch's row order: i, f, g, o
    i, f, o = torch.sigmoid(i), torch.sigmoid(f), torch.sigmoid(o)
    g = torch.tanh(g)                                    # new content may be negative
    c = f * c_prev + i * g                               # keep some old, add some new
    h = o * torch.tanh(c)                                # squash, then decide what to show
    return h, c, {"i": i, "f": f, "g": g, "o": o}'''

CHAPTER_COPIES = [
    ("lstm_cell", "pastes the chapter's lstm_step as lstm_cell",
     *replaced_by(LSTM_CELL_DEF, "def lstm_cell(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):\n"
                  + CHAPTER_LSTM_STEP)),
    ("lstm_gates", "pastes the chapter's lstm_step as lstm_gates",
     *replaced_by(LSTM_GATES_DEF, "def lstm_gates(x_t, h_prev, c_prev, W_ih, W_hh, b_ih, b_hh):\n"
                  + CHAPTER_LSTM_STEP)),
    ("lstm_layers", "pastes the chapter's replay loop (one layer, stacked weights) as lstm_layers",
     *replaced_by(LAYERS_DEF, LAYERS_DEF + "\n"
                  "    weights = layers[0]\n"
                  "    B, T, _ = x.shape\n"
                  "    H = weights['i'][1].shape[0]\n"
                  "    h = c = x.new_zeros(B, H)\n"
                  "    outputs = []\n"
                  "    for t in range(T):\n"
                  "        h, c = lstm_cell(x[:, t], h, c, weights)\n"
                  "        outputs.append(h)\n"
                  "    return torch.stack(outputs, dim=1), (h[None], c[None])")),
    ("memory_lstm", "pastes the chapter's RecallNet (one LSTM layer) as MemoryLSTM",
     *replaced_by(MODEL_DEF, '''class MemoryLSTM(nn.Module):
    def __init__(self, vocab_size, num_classes, hidden_size=32, embed_dim=8, num_layers=2,
                 forget_bias=3.0):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, num_classes)
        with torch.no_grad():  # start out remembering: f = sigmoid(3) = 0.95
            self.lstm.bias_ih_l0[hidden_size:2 * hidden_size] = forget_bias
            self.lstm.bias_hh_l0[hidden_size:2 * hidden_size] = 0.0

    def forward(self, tokens):                           # tokens: (B, T)
        outputs, _ = self.lstm(self.embedding(tokens))  # (B, T, H)
        return self.head(outputs[:, -1])                 # classify the last step''')),
    ("train_memory", "pastes the chapter's train_recall loop (a fixed distance) as train_memory",
     *replaced_by(TRAIN_DEF, TRAIN_DEF + '''
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    losses = []
    for _ in range(steps):
        tokens, labels = recall_batch(batch_size, distance, generator)
        loss = F.cross_entropy(model(tokens.to(DEVICE)), labels.to(DEVICE))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses''')),
]
