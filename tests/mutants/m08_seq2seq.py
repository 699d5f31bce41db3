"""Realistic mistakes in the 08_seq2seq solutions; each must lose points."""
MUTANTS = [
    # encode
    ("encode", "padding not masked: the state runs on through the PAD tokens",
     "h = torch.where(keep, h_new, h)", "h = h_new"),
    ("encode", "final state taken at the last position S - 1 instead of each row's own end",
     "return torch.stack(states, dim=1), h", "return torch.stack(states, dim=1), states[-1]"),
    ("encode", "padded positions hold the kept state instead of zeros",
     "states.append(torch.where(keep, h_new, torch.zeros_like(h_new)))", "states.append(h)"),
    ("encode", "mask off by one: the first padded token is read too",
     "[None, :] < lengths", "[None, :] <= lengths"),
    ("encode", "state reset to zero at the padding instead of kept",
     "h = torch.where(keep, h_new, h)", "h = torch.where(keep, h_new, torch.zeros_like(h))"),
    # decoder_step
    ("decoder_step", "logits from the previous state instead of the new one",
     "return out(h), h", "return out(hidden), h"),
    ("decoder_step", "returns the old state",
     "return out(h), h", "return out(h), hidden"),
    ("decoder_step", "returns log-probabilities instead of logits",
     "return out(h), h", "return torch.log_softmax(out(h), dim=-1), h"),
    ("decoder_step", "softmax over the batch axis",
     "return out(h), h", "return torch.softmax(out(h), dim=0), h"),
    # teacher_forced_loss
    ("teacher_forced_loss", "teacher forcing shifted by one: the step reads the token it must predict",
     "        logits, hidden = step(prev, hidden)\n",
     "        prev = targets[:, t]\n        logits, hidden = step(prev, hidden)\n"),
    ("teacher_forced_loss", "no SOS: starts by reading the first target",
     "prev = torch.full((B,), SOS, dtype=torch.long, device=targets.device)", "prev = targets[:, 0]"),
    ("teacher_forced_loss", "feeds the model's own prediction instead of the right token",
     "prev = targets[:, t]  # teacher forcing", "prev = logits.argmax(dim=-1)  # teacher forcing"),
    ("teacher_forced_loss", "padding counted in the loss: mean over the whole rectangle",
     "return (token_losses * real).sum() / real.sum()", "return token_losses.mean()"),
    ("teacher_forced_loss", "masked sum divided by every position instead of the real tokens",
     "return (token_losses * real).sum() / real.sum()", "return (token_losses * real).sum() / real.numel()"),
    ("teacher_forced_loss", "mean per sequence, then over the batch",
     "return (token_losses * real).sum() / real.sum()",
     "return ((token_losses * real).sum(dim=1) / real.sum(dim=1)).mean()"),
    ("teacher_forced_loss", "log_softmax over the batch axis",
     "log_probs = torch.log_softmax(logits, dim=-1)  # (B, V)", "log_probs = torch.log_softmax(logits, dim=0)"),
    ("teacher_forced_loss", "loss returned as a Python float (.item())",
     "return (token_losses * real).sum() / real.sum()", "return ((token_losses * real).sum() / real.sum()).item()"),
    # greedy_decode
    ("greedy_decode", "stops the whole batch at the first EOS",
     "if bool(finished.all()):", "if bool(finished.any()):"),
    ("greedy_decode", "tokens after EOS not replaced by PAD",
     "        token = token.masked_fill(finished, PAD)  # a finished row only writes PAD\n", ""),
    ("greedy_decode", "argmax over the batch axis",
     "best, token = log_probs.max(dim=-1)", "best, token = log_probs.max(dim=0)"),
    ("greedy_decode", "marks a row finished before writing its token: the EOS itself becomes PAD",
     "        token = token.masked_fill(finished, PAD)  # a finished row only writes PAD\n"
     "        gained.append(best.masked_fill(finished, 0.0))  # ...and its score stops growing\n"
     "        written.append(token)\n"
     "        finished = finished | (token == EOS)\n",
     "        gained.append(best.masked_fill(finished, 0.0))  # ...and its score stops growing\n"
     "        finished = finished | (token == EOS)\n"
     "        token = token.masked_fill(finished, PAD)  # a finished row only writes PAD\n"
     "        written.append(token)\n"),
    ("greedy_decode", "never stops early: always runs max_len steps",
     "        if bool(finished.all()):\n            break\n", ""),
    ("greedy_decode", "the score keeps adding after a row's EOS",
     "gained.append(best.masked_fill(finished, 0.0))", "gained.append(best)"),
    ("greedy_decode", "the score sums raw logits instead of log-probabilities",
     "log_probs = torch.log_softmax(logits, dim=-1)", "log_probs = logits"),
    ("greedy_decode", "keeps feeding SOS instead of the token just written",
     "        prev = token\n", ""),
]

# Right numbers the forbidden way: each must lose the points of its own part, naming the rule.
# The teacher-forcing loop of the loss, collecting the logits (the rule breakers differ after it).
TEACHER_FORCED_LOGITS = (
    "    B, T = targets.shape\n"
    "    all_logits = []\n"
    "    prev = torch.full((B,), SOS, dtype=torch.long, device=targets.device)\n"
    "    for t in range(T):\n"
    "        logits, hidden = step(prev, hidden)\n"
    "        all_logits.append(logits)\n"
    "        prev = targets[:, t]\n")

RULE_BREAKERS = [
    ("encode", "the chapter's way: pack_padded_sequence and nn.GRU holding the cell's weights",
     "    B, S = src.shape\n",
     "    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence\n"
     "    gru = nn.GRU(cell.input_size, cell.hidden_size, batch_first=True).to(cell.weight_ih.dtype)\n"
     "    with torch.no_grad():\n"
     "        for name in ('weight_ih', 'weight_hh', 'bias_ih', 'bias_hh'):\n"
     "            getattr(gru, name + '_l0').copy_(getattr(cell, name))\n"
     "    packed = pack_padded_sequence(embedding(src), lengths.cpu(), batch_first=True, enforce_sorted=False)\n"
     "    outputs, h_n = gru(packed)\n"
     "    outputs, _ = pad_packed_sequence(outputs, batch_first=True, total_length=src.shape[1])\n"
     "    return outputs, h_n[0]\n"
     "    B, S = src.shape\n"),
    ("encode", "nn.GRU on each sequence alone, without its padding",
     "    B, S = src.shape\n",
     "    gru = nn.GRU(cell.input_size, cell.hidden_size, batch_first=True).to(cell.weight_ih.dtype)\n"
     "    with torch.no_grad():\n"
     "        for name in ('weight_ih', 'weight_hh', 'bias_ih', 'bias_hh'):\n"
     "            getattr(gru, name + '_l0').copy_(getattr(cell, name))\n"
     "    states = embedding(src).new_zeros(src.shape[0], src.shape[1], cell.hidden_size)\n"
     "    finals = []\n"
     "    for b in range(src.shape[0]):\n"
     "        n = int(lengths[b])\n"
     "        outputs, h_n = gru(embedding(src[b:b + 1, :n]))\n"
     "        states[b, :n] = outputs[0]\n"
     "        finals.append(h_n[0, 0])\n"
     "    return states, torch.stack(finals)\n"
     "    B, S = src.shape\n"),
    ("encode", "the cell on each sequence alone, one after the other (no mask, no batch)",
     "    B, S = src.shape\n",
     "    x = embedding(src)\n"
     "    states = x.new_zeros(src.shape[0], src.shape[1], cell.hidden_size)\n"
     "    finals = []\n"
     "    for b in range(src.shape[0]):\n"
     "        h = x.new_zeros(1, cell.hidden_size)\n"
     "        for t in range(int(lengths[b])):\n"
     "            h = cell(x[b:b + 1, t], h)\n"
     "            states[b, t] = h[0]\n"
     "        finals.append(h[0])\n"
     "    return states, torch.stack(finals)\n"
     "    B, S = src.shape\n"),
    ("teacher_forced_loss", "F.cross_entropy with ignore_index, as the chapter trains",
     "    B, T = targets.shape\n",
     TEACHER_FORCED_LOGITS +
     "    logits = torch.stack(all_logits, dim=1)\n"
     "    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=PAD)\n"
     "    B, T = targets.shape\n"),
    ("teacher_forced_loss", "nn.CrossEntropyLoss(ignore_index=PAD)",
     "    B, T = targets.shape\n",
     TEACHER_FORCED_LOGITS +
     "    logits = torch.stack(all_logits, dim=2)  # (B, V, T): classes on axis 1\n"
     "    return nn.CrossEntropyLoss(ignore_index=PAD)(logits, targets)\n"
     "    B, T = targets.shape\n"),
    ("teacher_forced_loss", "F.nll_loss on log_softmax with ignore_index",
     "    B, T = targets.shape\n",
     "    B, T = targets.shape\n"
     "    all_log_probs = []\n"
     "    prev = torch.full((B,), SOS, dtype=torch.long, device=targets.device)\n"
     "    for t in range(T):\n"
     "        logits, hidden = step(prev, hidden)\n"
     "        all_log_probs.append(torch.log_softmax(logits, dim=-1))\n"
     "        prev = targets[:, t]\n"
     "    log_probs = torch.cat(all_log_probs)  # (T * B, V), time-major\n"
     "    return F.nll_loss(log_probs, targets.T.reshape(-1), ignore_index=PAD)\n"
     "    B, T = targets.shape\n"),
    ("greedy_decode", "one sequence at a time, then padded",
     "    B = hidden.shape[0]\n",
     "    rows, scores = [], []\n"
     "    for b in range(hidden.shape[0]):\n"
     "        state, token, written, score = hidden[b:b + 1], torch.tensor([SOS]), [], 0.0\n"
     "        for _ in range(max_len):\n"
     "            logits, state = step(token, state)\n"
     "            log_probs = torch.log_softmax(logits[0], dim=-1)\n"
     "            token = log_probs.argmax().reshape(1)\n"
     "            written.append(int(token))\n"
     "            score = score + log_probs[token[0]]\n"
     "            if written[-1] == EOS:\n"
     "                break\n"
     "        rows.append(written)\n"
     "        scores.append(score)\n"
     "    longest = max(len(w) for w in rows)\n"
     "    return (torch.tensor([w + [PAD] * (longest - len(w)) for w in rows]), torch.stack(scores))\n"
     "    B = hidden.shape[0]\n"),
]

# The chapter's code pasted under the exercise's names (the suite also pastes, by itself, every
# chapter definition whose name an answer defines, here the chapter's greedy_decode): each must
# lose points. The chapter's training loss, F.cross_entropy(..., ignore_index=PAD), is the first
# of the RULE_BREAKERS of teacher_forced_loss.
CHAPTER_COPIES = [
    ("encode", "the chapter's Encoder.forward (packing and nn.GRU) with the cell's weights",
     "    B, S = src.shape\n",
     "    gru = nn.GRU(cell.input_size, cell.hidden_size, batch_first=True).to(cell.weight_ih.dtype)\n"
     "    with torch.no_grad():\n"
     "        for name in ('weight_ih', 'weight_hh', 'bias_ih', 'bias_hh'):\n"
     "            getattr(gru, name + '_l0').copy_(getattr(cell, name))\n"
     "    from torch.nn.utils.rnn import pack_padded_sequence\n"
     "    packed = pack_padded_sequence(embedding(src), lengths, batch_first=True, enforce_sorted=False)\n"
     "    _, last_state = gru(packed)  # the state after each sequence's own last word\n"
     "    return last_state\n"
     "    B, S = src.shape\n"),
    ("decoder_step", "the chapter's Decoder.forward on a (B, 1) block: logits of shape (B, 1, V)",
     "    h = cell(embedding(prev_tokens), hidden)\n    return out(h), h\n",
     "    previous_tokens = prev_tokens[:, None]  # (B, 1): generation, T = 1\n"
     "    h = cell(embedding(previous_tokens)[:, 0], hidden)\n"
     "    return out(h)[:, None], h  # logits (B, T, vocab_size), the state after the last step\n"),
    ("greedy_decode", "the chapter's greedy_decode loop on the step function (tokens only, no scores)",
     "    B = hidden.shape[0]\n",
     "    state = hidden\n"
     "    token = torch.full((len(hidden),), SOS, device=hidden.device)\n"
     "    finished = torch.zeros(len(hidden), dtype=torch.bool, device=hidden.device)\n"
     "    written = []\n"
     "    for _ in range(max_len):\n"
     "        logits, state = step(token, state)  # one step for the whole batch\n"
     "        token = logits.argmax(-1).masked_fill(finished, PAD)  # finished rows only pad\n"
     "        written.append(token)\n"
     "        finished |= token == EOS  # each row ends at its own <eos>\n"
     "        if finished.all():\n"
     "            break\n"
     "    return torch.stack(written, dim=1)\n"
     "    B = hidden.shape[0]\n"),
]
