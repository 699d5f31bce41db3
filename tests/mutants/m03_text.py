"""Realistic mistakes in the 03_text assignment; each must lose points."""
MUTANTS = [
    # build_vocab
    ("build_vocab", "ties in order of first appearance instead of sorted",
     "key=lambda ch: (-counts[ch], ch)", "key=lambda ch: -counts[ch]"),
    ("build_vocab", "least frequent first",
     "key=lambda ch: (-counts[ch], ch)", "key=lambda ch: (counts[ch], ch)"),
    ("build_vocab", "sorted alphabetically, ignoring the counts",
     "key=lambda ch: (-counts[ch], ch)", "key=lambda ch: ch"),
    ("build_vocab", "ids start at 1",
     "{ch: i for i, ch in enumerate(itos)}", "{ch: i + 1 for i, ch in enumerate(itos)}"),
    # encode / decode
    ("encode_decode", "decode joins characters with spaces",
     '"".join(itos[int(i)] for i in ids)', '" ".join(itos[int(i)] for i in ids)'),
    ("encode_decode", "encode returns a list, not a tensor",
     "torch.tensor([stoi[ch] if ch in stoi else unknown for ch in text], dtype=torch.long)",
     "[stoi[ch] if ch in stoi else unknown for ch in text]"),
    ("encode_decode", "encode drops unknown characters",
     "[stoi[ch] if ch in stoi else unknown for ch in text]", "[stoi[ch] for ch in text if ch in stoi]"),
    ("encode_decode", "unknown characters become id 0",
     "else unknown for ch in text", "else 0 for ch in text"),
    ("encode_decode", "encode returns float ids",
     "dtype=torch.long", "dtype=torch.float32"),
    # one_hot
    ("one_hot", "one-hot matrix transposed (vocabulary first)",
     "(ids.unsqueeze(-1) == columns).float()", "(ids.unsqueeze(-1) == columns).float().T"),
    ("one_hot", "one column too few",
     "torch.arange(vocab_size, device=ids.device)", "torch.arange(vocab_size - 1, device=ids.device)"),
    ("one_hot", "integer (bool) one-hot instead of float",
     "(ids.unsqueeze(-1) == columns).float()", "(ids.unsqueeze(-1) == columns)"),
    ("one_hot", "ids shifted by one",
     "(ids.unsqueeze(-1) == columns)", "(ids.unsqueeze(-1) == columns + 1)"),
    # embedding_param_count (grade_id dense_param_count)
    ("dense_param_count", "forgets the embedding table",
     "return table + layer", "return layer"),
    ("dense_param_count", "one embedding table per position",
     "table = vocab_size * embed_dim  #", "table = vocab_size * embed_dim * seq_len  #"),
    ("dense_param_count", "forgets the biases",
     "* hidden + hidden", "* hidden"),
    ("dense_param_count", "the layer reads one-hot vectors (V inputs per position) instead of embeddings",
     "(seq_len * embed_dim) * hidden", "(seq_len * vocab_size) * hidden"),
    ("dense_param_count", "one bias instead of one per hidden unit",
     "* hidden + hidden", "* hidden + 1"),
    # bag_of_bigrams (grade_id bag_of_words)
    ("bag_of_words", "bigram (a, b) at entry a + b * V instead of a * V + b",
     "ids[:-1] * vocab_size + ids[1:]", "ids[:-1] + ids[1:] * vocab_size"),
    ("bag_of_words", "presence (0/1) instead of counts",
     "minlength=vocab_size * vocab_size).float()", "minlength=vocab_size * vocab_size).clamp(max=1).float()"),
    ("bag_of_words", "no minlength: vector too short when the last pairs are absent",
     ", minlength=vocab_size * vocab_size)", ")"),
    ("bag_of_words", "wraps around: counts the pair (last id, first id) as well",
     "pairs = ids[:-1] * vocab_size + ids[1:]", "pairs = ids * vocab_size + ids.roll(-1)"),
    ("bag_of_words", "integer counts instead of float",
     "minlength=vocab_size * vocab_size).float()", "minlength=vocab_size * vocab_size)"),
    # embedding_lookup
    ("embedding_lookup", "indexes the transposed weight",
     "return weight[ids]", "return weight.T[ids]"),
    ("embedding_lookup", "flattens the ids, losing the batch shape",
     "return weight[ids]", "return weight[ids.flatten()]"),
    ("embedding_lookup", "detaches the weight: no gradient",
     "return weight[ids]", "return weight.detach()[ids]"),
    ("embedding_lookup", "looks up the previous row",
     "return weight[ids]", "return weight[ids - 1]"),
    # make_windows
    ("make_windows", "each window includes its own target (off by one)",
     "padded.unfold(0, context, 1)[:-1]", "padded.unfold(0, context, 1)[1:]"),
    ("make_windows", "pads with 0 instead of pad_id",
     "torch.full((context,), pad_id,", "torch.full((context,), 0,"),
    ("make_windows", "pads at the end instead of the start",
     "torch.cat([padding, ids])", "torch.cat([ids, padding])"),
    ("make_windows", "non-overlapping windows",
     "padded.unfold(0, context, 1)", "padded.unfold(0, context, context)"),
    ("make_windows", "most recent id first in each window",
     "padded.unfold(0, context, 1)[:-1]", "padded.unfold(0, context, 1)[:-1].flip(-1)"),
    # CharMLP
    ("char_mlp", "forgets the tanh",
     "self.output(torch.tanh(self.hidden(joined)))", "self.output(self.hidden(joined))"),
    ("char_mlp", "concatenates feature by feature instead of character by character",
     "vectors.flatten(start_dim=1)", "vectors.transpose(1, 2).flatten(start_dim=1)"),
    ("char_mlp", "ReLU instead of tanh",
     "torch.tanh(", "torch.relu("),
    ("char_mlp", "forgets the direct connection in forward",
     " + self.direct(joined)", ""),
    ("char_mlp", "direct connection with a bias of its own",
     "nn.Linear(context * embed_dim, vocab_size, bias=False)", "nn.Linear(context * embed_dim, vocab_size)"),
    ("char_mlp", "direct connection through the tanh as well",
     "self.output(torch.tanh(self.hidden(joined))) + self.direct(joined)",
     "self.output(torch.tanh(self.hidden(joined))) + torch.tanh(self.direct(joined))"),
    ("char_mlp", "output layer without bias",
     "nn.Linear(hidden, vocab_size)", "nn.Linear(hidden, vocab_size, bias=False)"),
    # train_char_mlp
    ("train_char_mlp", "never clears the gradients",
     "            optimizer.zero_grad()  # gradients add up across backward() calls unless cleared\n", ""),
    ("train_char_mlp", "cross-entropy of probabilities instead of logits",
     "F.cross_entropy(model(X[rows]), Y[rows])", "F.cross_entropy(model(X[rows]).softmax(dim=-1), Y[rows])"),
    ("train_char_mlp", "random minibatches with replacement (the chapter's recipe), not epochs",
     "rows = order[start:start + batch_size]",
     "rows = torch.randint(len(X), (min(batch_size, len(X) - start),), generator=generator).to(X.device)"),
    ("train_char_mlp", "one permutation for all epochs",
     "    for _ in range(epochs):\n        order = torch.randperm(len(X), generator=generator).to(X.device)\n",
     "    order = torch.randperm(len(X), generator=generator).to(X.device)\n    for _ in range(epochs):\n"),
    ("train_char_mlp", "drops the last, smaller minibatch",
     "range(0, len(X), batch_size)", "range(0, len(X) - batch_size + 1, batch_size)"),
    ("train_char_mlp", "records loss tensors instead of floats",
     "losses.append(loss.item())", "losses.append(loss)"),
    ("train_char_mlp", "optimizer step before backward (a step behind)",
     "            loss.backward()\n            optimizer.step()\n", "            optimizer.step()\n            loss.backward()\n"),
    # sample
    ("sample", "argmax, ignoring temperature and seed",
     "int(torch.multinomial(probs, 1, generator=generator))", "int(probs.argmax())"),
    ("sample", "multiplies the logits by the temperature",
     "model(window)[0] / temperature", "model(window)[0] * temperature"),
    ("sample", "window never slides (always the prompt's first characters)",
     "ids[-model.context:]", "ids[:model.context]"),
    ("sample", "returns the prompt as well",
     'for i in ids[len(prompt):])', 'for i in ids)'),
    ("sample", "unseeded sampling (global random state)",
     "torch.multinomial(probs, 1, generator=generator)", "torch.multinomial(probs, 1)"),
    ("sample", "ignores top_k",
     "if top_k is not None:", "if False:"),
    ("sample", "keeps one character too many (cuts below the (top_k + 1)-th largest)",
     "torch.topk(logits, top_k).values[-1]", "torch.topk(logits, top_k + 1).values[-1]"),
    ("sample", "cuts the top_k most likely characters instead of the rest",
     "logits[logits < torch.topk", "logits[logits >= torch.topk"),
]

# Answers that give the right numbers but break the rule their part states.
RULE_BREAKERS = [
    ("one_hot", "F.one_hot (the shortcut)",
     "    columns = torch.arange(vocab_size, device=ids.device)\n"
     "    # broadcasting (..., 1) against (vocab_size,) marks the one column that equals the id\n"
     "    return (ids.unsqueeze(-1) == columns).float()\n",
     "    return F.one_hot(ids, vocab_size).float()\n"),
    ("one_hot", "F.one_hot on the flattened ids, reshaped",
     "    columns = torch.arange(vocab_size, device=ids.device)\n"
     "    # broadcasting (..., 1) against (vocab_size,) marks the one column that equals the id\n"
     "    return (ids.unsqueeze(-1) == columns).float()\n",
     "    import torch.nn.functional as functional\n"
     "    flat = functional.one_hot(ids.reshape(-1), vocab_size).to(torch.float32)\n"
     "    return flat.reshape(*ids.shape, vocab_size)\n"),
    ("embedding_lookup", "F.embedding (the shortcut)",
     "return weight[ids]", "return F.embedding(ids, weight)"),
    ("embedding_lookup", "one-hot vectors (the answer to Part 3) times the weight",
     "return weight[ids]", "return one_hot(ids, weight.shape[0]).to(weight.dtype) @ weight"),
    ("embedding_lookup", "torch.embedding",
     "return weight[ids]", "return torch.embedding(weight, ids)"),
]

# The chapter's code pasted under the exercise's names (its CharMLP is pasted automatically).
CHAPTER_COPIES = [
    ("build_vocab", "the chapter's sorted vocabulary",
     "    counts = {}\n    for ch in text:\n        counts[ch] = counts.get(ch, 0) + 1\n"
     "    itos = sorted(counts, key=lambda ch: (-counts[ch], ch))  # decreasing count, then the character\n",
     "    chars = sorted(set(text))\n    itos = chars\n"),
    ("encode_decode", "the chapter's encoding",
     "torch.tensor([stoi[ch] if ch in stoi else unknown for ch in text], dtype=torch.long)",
     "torch.tensor([stoi[ch] for ch in text])"),
    ("dense_param_count", "the chapter's dense_param_count formula",
     "    table = vocab_size * embed_dim  # one row per vocabulary entry, shared by every position\n"
     "    layer = (seq_len * embed_dim) * hidden + hidden  # a weight per (input, unit) pair, a bias per unit\n"
     "    return table + layer\n",
     "    return vocab_size * seq_len * hidden + hidden\n"),
    ("bag_of_words", "the chapter's bag_of_words on the ids",
     "    pairs = ids[:-1] * vocab_size + ids[1:]  # the entry number of each bigram (ids[t], ids[t + 1])\n"
     "    return torch.bincount(pairs, minlength=vocab_size * vocab_size).float()\n",
     "    return F.one_hot(ids, vocab_size).sum(dim=0).float()\n"),
    ("make_windows", "the chapter's unpadded windows",
     "    padding = torch.full((context,), pad_id, dtype=ids.dtype, device=ids.device)\n"
     "    padded = torch.cat([padding, ids])\n"
     "    X = padded.unfold(0, context, 1)[:-1]  # all runs of `context` ids; the final run has no successor\n"
     "    Y = ids\n",
     "    X = ids.unfold(0, context, 1)[:-1]  # row i: ids[i : i + CONTEXT]\n"
     "    Y = ids[context:]                   # Y[i]: the id right after row i\n"),
    ("train_char_mlp", "the chapter's training loop (random minibatches) as a function",
     "    for _ in range(epochs):\n"
     "        order = torch.randperm(len(X), generator=generator).to(X.device)\n"
     "        for start in range(0, len(X), batch_size):\n"
     "            rows = order[start:start + batch_size]  # the last minibatch may be smaller\n"
     "            loss = F.cross_entropy(model(X[rows]), Y[rows])\n"
     "            optimizer.zero_grad()  # gradients add up across backward() calls unless cleared\n"
     "            loss.backward()\n"
     "            optimizer.step()\n"
     "            losses.append(loss.item())\n",
     "    for step in range(epochs * math.ceil(len(X) / batch_size)):\n"
     "        rows = torch.randint(len(X), (batch_size,), generator=generator).to(X.device)\n"
     "        loss = F.cross_entropy(model(X[rows]), Y[rows])\n"
     "        optimizer.zero_grad()\n"
     "        loss.backward()\n"
     "        optimizer.step()\n"
     "        losses.append(loss.item())\n"),
    ("sample", "the chapter's generate, returning the new characters only",
     "            logits = model(window)[0] / temperature\n"
     "            if top_k is not None:  # everything below the top_k-th largest logit gets probability 0\n"
     "                logits[logits < torch.topk(logits, top_k).values[-1]] = -math.inf\n"
     "            probs = torch.softmax(logits, dim=-1).cpu()\n",
     "            probs = torch.softmax(model(window)[0] / temperature, dim=-1).cpu()\n"),
]
