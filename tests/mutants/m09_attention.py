"""Realistic mistakes in the 09_attention solutions; each must lose points."""
MASKED_SOFTMAX_FIRST = "    scores = scores.masked_fill(~mask, -math.inf)    # a padded position can never be the largest\n"
MASKED_SOFTMAX_BODY = (
    MASKED_SOFTMAX_FIRST +
    "    top = scores.max(dim=-1, keepdim=True).values    # M_b, the largest real score of each row\n"
    "    exps = torch.exp(scores - top)                   # at most 1; exp(-inf) = 0 at the padding\n"
    "    return exps / exps.sum(dim=-1, keepdim=True)\n")
ENCODER_PACKING = (
    "        packed = pack_padded_sequence(self.source_embedding(sources), lengths, batch_first=True,\n"
    "                                      enforce_sorted=False)\n"
    "        packed_states, last_state = self.encoder_gru(packed)\n"
    "        states, _ = pad_packed_sequence(packed_states, batch_first=True, total_length=sources.shape[1])\n")

MUTANTS = [
    # masked_softmax
    ("masked_softmax", "softmax over the batch axis: each column sums to 1",
     "return exps / exps.sum(dim=-1, keepdim=True)", "return exps / exps.sum(dim=0, keepdim=True)"),
    ("masked_softmax", "mask not applied at all: the padding gets weight",
     MASKED_SOFTMAX_FIRST, ""),
    ("masked_softmax", "mask applied after the softmax: padded weights zeroed, rows not renormalised",
     MASKED_SOFTMAX_BODY,
     "    top = scores.max(dim=-1, keepdim=True).values\n"
     "    exps = torch.exp(scores - top)\n"
     "    weights = exps / exps.sum(dim=-1, keepdim=True)\n"
     "    return weights.masked_fill(~mask, 0.0)\n"),
    ("masked_softmax", "no max subtraction: exp overflows on large scores (inf / inf = nan)",
     "exps = torch.exp(scores - top)", "exps = torch.exp(scores)"),
    ("masked_softmax", "maximum over every position, padding included, and the padding zeroed by the mask",
     MASKED_SOFTMAX_BODY,
     "    top = scores.max(dim=-1, keepdim=True).values\n"
     "    exps = torch.exp(scores - top) * mask\n"
     "    return exps / exps.sum(dim=-1, keepdim=True)\n"),
    ("masked_softmax", "right maximum, but the padding zeroed by multiplying with the mask (inf * 0 = nan)",
     MASKED_SOFTMAX_BODY,
     "    top = scores.masked_fill(~mask, -math.inf).max(dim=-1, keepdim=True).values\n"
     "    exps = torch.exp(scores - top) * mask\n"
     "    return exps / exps.sum(dim=-1, keepdim=True)\n"),
    ("masked_softmax", "mask read the wrong way round: True taken as padding",
     "scores = scores.masked_fill(~mask, -math.inf)", "scores = scores.masked_fill(mask, -math.inf)"),
    # additive_attention
    ("additive_attention", "context from the last encoder state instead of the weighted sum",
     "context = (weights[:, :, None] * states).sum(dim=1)", "context = states[:, -1]"),
    ("additive_attention", "context as the plain mean of the states",
     "context = (weights[:, :, None] * states).sum(dim=1)", "context = states.mean(dim=1)"),
    ("additive_attention", "no tanh: the scores are linear in the states",
     "hidden = torch.tanh((query @ W_query.T)[:, None, :] + states @ W_state.T)",
     "hidden = (query @ W_query.T)[:, None, :] + states @ W_state.T"),
    ("additive_attention", "tanh of each projection separately, then added",
     "hidden = torch.tanh((query @ W_query.T)[:, None, :] + states @ W_state.T)",
     "hidden = torch.tanh(query @ W_query.T)[:, None, :] + torch.tanh(states @ W_state.T)"),
    ("additive_attention", "mask ignored: the softmax runs over every position",
     "weights = masked_softmax(hidden @ v, mask)", "weights = masked_softmax(hidden @ v, torch.ones_like(mask))"),
    ("additive_attention", "scores summed over the attention axis instead of weighted by v",
     "weights = masked_softmax(hidden @ v, mask)", "weights = masked_softmax(hidden.sum(dim=-1), mask)"),
    ("additive_attention", "context weighs the projected states W_state h_j instead of the states",
     "context = (weights[:, :, None] * states).sum(dim=1)",
     "context = (weights[:, :, None] * (states @ W_state.T)).sum(dim=1)"),
    # attention_decoder_step
    ("attention_decoder_step", "Luong order for the output: looks again with the new state",
     "    logits = params.out(",
     "    context, weights = additive_attention(s_new, states, mask, params.W_query, params.W_state, params.v)\n"
     "    logits = params.out("),
    ("attention_decoder_step", "the cell reads the last encoder state instead of the context",
     "torch.cat([params.embedding(prev_tokens), context], dim=-1)",
     "torch.cat([params.embedding(prev_tokens), states[:, -1]], dim=-1)"),
    ("attention_decoder_step", "context replaced by the last encoder state after the attention",
     "    s_new = params.cell(", "    context = states[:, -1]\n    s_new = params.cell("),
    ("attention_decoder_step", "logits from the previous state instead of the new one",
     "params.out(torch.cat([s_new, context], dim=-1))", "params.out(torch.cat([s, context], dim=-1))"),
    ("attention_decoder_step", "cell input concatenated in the wrong order: [context; embedding]",
     "torch.cat([params.embedding(prev_tokens), context], dim=-1)",
     "torch.cat([context, params.embedding(prev_tokens)], dim=-1)"),
    ("attention_decoder_step", "output layer input in the wrong order: [context; s_new]",
     "params.out(torch.cat([s_new, context], dim=-1))", "params.out(torch.cat([context, s_new], dim=-1))"),
    ("attention_decoder_step", "returns the old state",
     "return logits, s_new, weights", "return logits, s, weights"),
    # attention_model
    ("attention_model", "decoder starts from zeros instead of the encoder's final state",
     "        s, states, mask = state\n", "        s, states, mask = state\n        s = torch.zeros_like(s)\n"),
    ("attention_model", "encoder reads through the padding (no packing): its final state is after the PAD tokens",
     ENCODER_PACKING, "        states, last_state = self.encoder_gru(self.source_embedding(sources))\n"),
    ("attention_model", "final state taken at the last column of the padded states",
     "return last_state[0], states, mask", "return states[:, -1], states, mask"),
    ("attention_model", "mask off by one: the first padded position counts as a word",
     "mask = positions[None, :] < lengths", "mask = positions[None, :] <= lengths"),
    ("attention_model", "pad_packed_sequence without total_length: states only as wide as the longest row",
     "states, _ = pad_packed_sequence(packed_states, batch_first=True, total_length=sources.shape[1])",
     "states, _ = pad_packed_sequence(packed_states, batch_first=True)"),
    ("attention_model", "the state does not carry over: every step starts from the encoder's state",
     "step_logits, s, _ = attention_decoder_step(", "step_logits, _, _ = attention_decoder_step("),
    ("attention_model", "every step reads the first token",
     "attention_decoder_step(self, tokens[:, t], s, states, mask)",
     "attention_decoder_step(self, tokens[:, 0], s, states, mask)"),
    ("attention_model", "logits stacked along the first axis: (T, B, V)",
     "return torch.stack(logits, dim=1), (s, states, mask)", "return torch.stack(logits, dim=0), (s, states, mask)"),
    ("attention_model", "encoder outputs detached: no gradient reaches the encoder",
     "return last_state[0], states, mask", "return last_state[0].detach(), states.detach(), mask"),
]

# Right numbers the forbidden way: each must lose the points of its own part, naming the rule.
RULE_BREAKERS = [
    ("masked_softmax", "torch.softmax on the scores with the padding set to -inf (the chapter's way)",
     MASKED_SOFTMAX_FIRST,
     "    return torch.softmax(scores.masked_fill(~mask, -math.inf), dim=-1)\n" + MASKED_SOFTMAX_FIRST),
    ("masked_softmax", "F.softmax, the padding zeroed afterwards and the rows renormalised",
     MASKED_SOFTMAX_FIRST,
     "    weights = F.softmax(scores, dim=-1).masked_fill(~mask, 0.0)\n"
     "    return weights / weights.sum(dim=-1, keepdim=True)\n" + MASKED_SOFTMAX_FIRST),
    ("masked_softmax", "log_softmax, then exp",
     MASKED_SOFTMAX_FIRST,
     "    return scores.masked_fill(~mask, -math.inf).log_softmax(dim=-1).exp()\n" + MASKED_SOFTMAX_FIRST),
    ("masked_softmax", "nn.Softmax",
     MASKED_SOFTMAX_FIRST,
     "    return nn.Softmax(dim=-1)(scores.masked_fill(~mask, -math.inf))\n" + MASKED_SOFTMAX_FIRST),
    ("attention_model", "encoder_gru on each sequence alone, without its padding",
     ENCODER_PACKING,
     "        B, S = sources.shape\n"
     "        H = self.encoder_gru.hidden_size\n"
     "        embedded = self.source_embedding(sources)\n"
     "        finals, rows = [], []\n"
     "        for b in range(B):\n"
     "            n = int(lengths[b])\n"
     "            outputs, h_n = self.encoder_gru(embedded[b:b + 1, :n])\n"
     "            rows.append(torch.cat([outputs[0], outputs.new_zeros(S - n, H)]))\n"
     "            finals.append(h_n[0, 0])\n"
     "        mask = torch.arange(S, device=sources.device)[None, :] < lengths.to(sources.device)[:, None]\n"
     "        return torch.stack(finals), torch.stack(rows), mask\n" + ENCODER_PACKING),
    ("attention_model", "encoder_gru one time step at a time with a mask",
     ENCODER_PACKING,
     "        B, S = sources.shape\n"
     "        embedded = self.source_embedding(sources)\n"
     "        real = torch.arange(S, device=sources.device)[None, :] < lengths.to(sources.device)[:, None]\n"
     "        h = embedded.new_zeros(1, B, self.encoder_gru.hidden_size)\n"
     "        outputs = []\n"
     "        for t in range(S):\n"
     "            out, h_new = self.encoder_gru(embedded[:, t:t + 1], h)\n"
     "            h = torch.where(real[None, :, t, None], h_new, h)\n"
     "            outputs.append(out[:, 0])\n"
     "        return h[0], torch.stack(outputs, dim=1), real\n" + ENCODER_PACKING),
]

# The chapter's code pasted in (the suite also pastes, by itself, every chapter definition whose name
# an answer defines; chapter 3.2 defines none of the answers' names). Copied from chapter 3.2's
# AttentionEncoder, AdditiveAttention, AttentionDecoder and AttentionSeq2Seq (comments dropped); its
# softmax is the first RULE_BREAKER of masked_softmax.
CHAPTER_ATTENTION = '''class AttentionEncoder(Encoder):
    def forward(self, sources, lengths):
        packed = pack_padded_sequence(self.embedding(sources), lengths, batch_first=True, enforce_sorted=False)
        packed_states, last_state = self.gru(packed)
        states, _ = pad_packed_sequence(packed_states, batch_first=True, total_length=sources.shape[1])
        return states, last_state[0]


class AdditiveAttention(nn.Module):
    def __init__(self, hidden, attention_dim):
        super().__init__()
        self.W = nn.Linear(hidden, attention_dim, bias=False)
        self.U = nn.Linear(hidden, attention_dim)
        self.v = nn.Linear(attention_dim, 1, bias=False)

    def forward(self, decoder_state, encoder_states, projected_states, mask):
        scores = self.v(torch.tanh(self.W(decoder_state)[:, None, :] + projected_states)).squeeze(-1)
        weights = torch.softmax(scores.masked_fill(~mask, -math.inf), dim=-1)
        context = torch.bmm(weights[:, None, :], encoder_states).squeeze(1)
        return context, weights


class AttentionDecoder(nn.Module):
    def __init__(self, vocab_size, embed_dim, hidden):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.attention = AdditiveAttention(hidden, attention_dim=hidden)
        self.cell = nn.GRUCell(embed_dim + hidden, hidden)
        self.output = nn.Linear(hidden + hidden + embed_dim, vocab_size)

    def first_state(self, encoder_states, last_state, mask):
        return last_state, encoder_states, self.attention.U(encoder_states), mask

    def step(self, tokens, state):
        s, encoder_states, projected_states, mask = state
        context, weights = self.attention(s, encoder_states, projected_states, mask)
        embedded = self.embedding(tokens)
        s = self.cell(torch.cat([embedded, context], dim=-1), s)
        logits = self.output(torch.cat([s, context, embedded], dim=-1))
        return logits, (s, encoder_states, projected_states, mask), weights

    def forward(self, previous_tokens, state):
        logits = []
        for j in range(previous_tokens.shape[1]):
            step_logits, state, _ = self.step(previous_tokens[:, j], state)
            logits.append(step_logits)
        return torch.stack(logits, dim=1), state


class AttentionModel(nn.Module):
    decoder_type = AttentionDecoder

    def __init__(self, embed_dim=EMBED, hidden=HIDDEN):
        super().__init__()
        self.source_encoder = AttentionEncoder(len(SOURCE_VOCAB), embed_dim, hidden)
        self.decoder = self.decoder_type(len(TARGET_VOCAB), embed_dim, hidden)

    def encoder(self, sources, lengths):
        encoder_states, last_state = self.source_encoder(sources, lengths)
        return self.decoder.first_state(encoder_states, last_state, sources != PAD)

    def forward(self, sources, lengths, decoder_inputs):
        return self.decoder(decoder_inputs, self.encoder(sources, lengths))[0]


class ExerciseTemplate(nn.Module):
'''

CHAPTER_COPIES = [
    ("additive_attention", "the chapter's AdditiveAttention.forward, the weights used like its layers",
     "    hidden = torch.tanh((query @ W_query.T)[:, None, :] + states @ W_state.T)  # (B, S, A)\n",
     "    scores = v(torch.tanh(W_query(query)[:, None, :] + W_state(states))).squeeze(-1)\n"
     "    weights = torch.softmax(scores.masked_fill(~mask, -math.inf), dim=-1)\n"
     "    context = torch.bmm(weights[:, None, :], states).squeeze(1)\n"
     "    return context, weights\n"),
    ("attention_decoder_step", "the chapter's AttentionDecoder.step: its output layer also reads the embedding",
     "    s_new = params.cell(torch.cat([params.embedding(prev_tokens), context], dim=-1), s)\n"
     "    logits = params.out(torch.cat([s_new, context], dim=-1))\n"
     "    return logits, s_new, weights\n",
     "    embedded = params.embedding(prev_tokens)\n"
     "    s = params.cell(torch.cat([embedded, context], dim=-1), s)\n"
     "    logits = params.out(torch.cat([s, context, embedded], dim=-1))\n"
     "    return logits, s, weights\n"),
    ("attention_model", "the chapter's AttentionSeq2Seq (with its encoder, attention and decoder) as AttentionModel",
     "class AttentionModel(nn.Module):\n", CHAPTER_ATTENTION),
]
