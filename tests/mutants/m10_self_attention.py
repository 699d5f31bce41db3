"""Realistic mistakes in the 10_self_attention solutions; each must lose points."""
MUTANTS = [
    # scaled_dot_product_attention
    ("scaled_dot_product_attention", "no scaling: the scores are not divided by sqrt(d_k)",
     "scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])", "scores = q @ k.transpose(-2, -1)"),
    ("scaled_dot_product_attention", "divides by d_k instead of sqrt(d_k)",
     "/ math.sqrt(q.shape[-1])", "/ q.shape[-1]"),
    ("scaled_dot_product_attention", "scale taken from the values' size d_v",
     "/ math.sqrt(q.shape[-1])", "/ math.sqrt(v.shape[-1])"),
    ("scaled_dot_product_attention", "scale taken from the number of keys S",
     "/ math.sqrt(q.shape[-1])", "/ math.sqrt(k.shape[-2])"),
    ("scaled_dot_product_attention", "transpose(1, 2): right for (B, S, d_k) keys only, not with a head axis",
     "k.transpose(-2, -1)", "k.transpose(1, 2)"),
    ("scaled_dot_product_attention", "softmax over the queries (dim=-2) instead of the keys",
     "weights = torch.softmax(scores, dim=-1)", "weights = torch.softmax(scores, dim=-2)"),
    ("scaled_dot_product_attention", "mask convention inverted: True taken as 'masked'",
     "scores = scores.masked_fill(~mask, -math.inf)", "scores = scores.masked_fill(mask, -math.inf)"),
    ("scaled_dot_product_attention", "masked scores set to 0 instead of -inf",
     "scores = scores.masked_fill(~mask, -math.inf)", "scores = scores.masked_fill(~mask, 0.0)"),
    ("scaled_dot_product_attention", "causal triangle off by one: a token also sees the next one",
     ".tril()  # key j <= query i", ".tril(diagonal=1)  # key j <= query i"),
    ("scaled_dot_product_attention", "causal triangle aligned with the bottom-right corner when L != S",
     ".tril()  # key j <= query i", ".tril(diagonal=S - L)  # key j <= query i"),
    ("scaled_dot_product_attention", "is_causal ignored when a mask is given too",
     "mask = causal if mask is None else mask & causal", "mask = causal if mask is None else mask"),
    ("scaled_dot_product_attention", "the mask replaced by the triangle when both are given",
     "mask = causal if mask is None else mask & causal", "mask = causal"),
    ("scaled_dot_product_attention", "return_weights returns the scores before the softmax",
     "return (output, weights) if return_weights else output",
     "return (output, scores) if return_weights else output"),
    # causal_self_attention
    ("causal_self_attention", "is_causal=True with a past: the triangle in the top-left corner",
     "return scaled_dot_product_attention(q, k, v, mask=allowed)",
     "return scaled_dot_product_attention(q, k, v, is_causal=True)"),
    ("causal_self_attention", "the triangle not moved for the past (tril() on the T x (P + T) mask)",
     ".tril(diagonal=S - T)", ".tril()"),
    ("causal_self_attention", "triangle off by one: a token sees the next one",
     ".tril(diagonal=S - T)", ".tril(diagonal=S - T + 1)"),
    ("causal_self_attention", "mask convention inverted",
     "mask=allowed)", "mask=~allowed)"),
    ("causal_self_attention", "the past ignored: keys and values from the new tokens only",
     "tokens = x if past is None else torch.cat([past, x], dim=1)", "tokens = x"),
    ("causal_self_attention", "the past put after the new tokens",
     "torch.cat([past, x], dim=1)", "torch.cat([x, past], dim=1)"),
    ("causal_self_attention", "weights applied without .T (x @ W instead of x @ W.T)",
     "q, k, v = x @ W_q.T, tokens @ W_k.T, tokens @ W_v.T", "q, k, v = x @ W_q, tokens @ W_k, tokens @ W_v"),
    # multi_head_attention
    ("multi_head_attention", "no output projection",
     "return self.out_proj(out), weights.mean(dim=1)", "return out, weights.mean(dim=1)"),
    ("multi_head_attention", "heads split by reshape without transpose: (B, L, d) read as (B, h, L, d_head)",
     "        q = F.linear(query, W_q, b_q).view(B, L, h, d_head).transpose(1, 2)\n"
     "        k = F.linear(key, W_k, b_k).view(B, S, h, d_head).transpose(1, 2)\n"
     "        v = F.linear(value, W_v, b_v).view(B, S, h, d_head).transpose(1, 2)\n",
     "        q = F.linear(query, W_q, b_q).reshape(B, h, L, d_head)\n"
     "        k = F.linear(key, W_k, b_k).reshape(B, h, S, d_head)\n"
     "        v = F.linear(value, W_v, b_v).reshape(B, h, S, d_head)\n"),
    ("multi_head_attention", "heads merged by reshape without transposing back",
     "out = out.transpose(1, 2).reshape(B, L, d_model)", "out = out.reshape(B, L, d_model)"),
    ("multi_head_attention", "queries scaled by 1/sqrt(d_model) before the call (the scale belongs to Part 1, "
     "by sqrt(d_head))",
     "scaled_dot_product_attention(q, k, v,", "scaled_dot_product_attention(q / math.sqrt(d_model), k, v,"),
    ("multi_head_attention", "weights summed over the heads instead of averaged",
     "weights.mean(dim=1)", "weights.sum(dim=1)"),
    ("multi_head_attention", "weights of the first head only",
     "weights.mean(dim=1)", "weights[:, 0]"),
    ("multi_head_attention", "weights averaged over the keys instead of the heads",
     "weights.mean(dim=1)", "weights.mean(dim=-1)"),
    ("multi_head_attention", "key_padding_mask ignored",
     "        if key_padding_mask is not None:\n", "        if False:\n"),
    ("multi_head_attention", "key_padding_mask read as True = may attend (Part 1's convention)",
     "allowed = ~key_padding_mask[:, None, None, :]", "allowed = key_padding_mask[:, None, None, :]"),
    ("multi_head_attention", "attn_mask read as True = may attend",
     "allowed = ~attn_mask if allowed is None else allowed & ~attn_mask",
     "allowed = attn_mask if allowed is None else allowed & attn_mask"),
    ("multi_head_attention", "padding mask shaped (B, 1, S, 1): masks queries instead of keys",
     "~key_padding_mask[:, None, None, :]", "~key_padding_mask[:, None, :, None]"),
    ("multi_head_attention", "the blocks of in_proj_weight read in the wrong order (key first)",
     "W_q, W_k, W_v = self.in_proj_weight.chunk(3)", "W_k, W_q, W_v = self.in_proj_weight.chunk(3)"),
    ("multi_head_attention", "in_proj_bias never used",
     "b_q, b_k, b_v = self.in_proj_bias.chunk(3)", "b_q = b_k = b_v = None"),
    ("multi_head_attention", "keys used as the values in cross-attention",
     "v = F.linear(value, W_v, b_v)", "v = F.linear(key, W_v, b_v)"),
    ("multi_head_attention", "in_proj_bias registered as a plain tensor, not a parameter",
     "self.in_proj_bias = nn.Parameter(torch.zeros(3 * d_model))",
     "self.register_buffer('in_proj_bias', torch.zeros(3 * d_model))"),
    ("multi_head_attention", "out_proj without its bias",
     "self.out_proj = nn.Linear(d_model, d_model)", "self.out_proj = nn.Linear(d_model, d_model, bias=False)"),
]

# Right numbers the forbidden way: each must lose the points of its own part, naming the rule.
RULE_BREAKERS = [
    ("scaled_dot_product_attention", "F.scaled_dot_product_attention, weights by hand only when asked for",
     "    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (..., L, S)\n",
     "    if not return_weights:\n"
     "        L, S = q.shape[-2], k.shape[-2]\n"
     "        if is_causal:\n"
     "            causal = torch.ones(L, S, dtype=torch.bool, device=q.device).tril()\n"
     "            mask = causal if mask is None else mask & causal\n"
     "        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)\n"
     "    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (..., L, S)\n"),
    ("scaled_dot_product_attention", "torch._scaled_dot_product_attention_math, which returns the weights too",
     "    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (..., L, S)\n",
     "    L, S = q.shape[-2], k.shape[-2]\n"
     "    if is_causal:\n"
     "        causal = torch.ones(L, S, dtype=torch.bool, device=q.device).tril()\n"
     "        mask = causal if mask is None else mask & causal\n"
     "    bias = None if mask is None else torch.zeros(mask.shape, dtype=q.dtype).masked_fill(~mask, -math.inf)\n"
     "    output, weights = torch._scaled_dot_product_attention_math(q, k, v, attn_mask=bias)\n"
     "    return (output, weights) if return_weights else output\n"
     "    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (..., L, S)\n"),
    ("causal_self_attention", "the attention written out again instead of calling Part 1",
     "    return scaled_dot_product_attention(q, k, v, mask=allowed)\n",
     "    scores = (q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])).masked_fill(~allowed, -math.inf)\n"
     "    return torch.softmax(scores, dim=-1) @ v\n"),
    ("causal_self_attention", "F.scaled_dot_product_attention called directly",
     "    return scaled_dot_product_attention(q, k, v, mask=allowed)\n",
     "    return F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)\n"),
    ("causal_self_attention", "Part 1 called once per new token",
     "    return scaled_dot_product_attention(q, k, v, mask=allowed)\n",
     "    return torch.cat([scaled_dot_product_attention(q[:, t:t + 1], k, v, mask=allowed[t:t + 1])\n"
     "                      for t in range(T)], dim=1)\n"),
    ("multi_head_attention", "a subclass of nn.MultiheadAttention that calls its forward",
     "class MultiHeadAttention(nn.Module):\n",
     "class MultiHeadAttention(nn.MultiheadAttention):\n"
     "    def __init__(self, d_model, num_heads):\n"
     "        super().__init__(d_model, num_heads, batch_first=True)\n"
     "\n"
     "    def forward(self, query, key, value, key_padding_mask=None, attn_mask=None):\n"
     "        return super().forward(query, key, value, key_padding_mask=key_padding_mask, attn_mask=attn_mask)\n"
     "\n"
     "\n"
     "class Unused(nn.Module):\n"),
    ("multi_head_attention", "F.multi_head_attention_forward on the layer's own parameters",
     "        B, L, d_model = query.shape\n",
     "        d_model = query.shape[-1]\n"
     "        out, weights = F.multi_head_attention_forward(\n"
     "            query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1), d_model, self.num_heads,\n"
     "            self.in_proj_weight, self.in_proj_bias, None, None, False, 0.0, self.out_proj.weight,\n"
     "            self.out_proj.bias, training=False, key_padding_mask=key_padding_mask, attn_mask=attn_mask)\n"
     "        return out.transpose(0, 1), weights\n"
     "        B, L, d_model = query.shape\n"),
    ("multi_head_attention", "Part 1 called once per head, in a loop",
     "        out, weights = scaled_dot_product_attention(q, k, v, mask=allowed, return_weights=True)\n",
     "        pieces = [scaled_dot_product_attention(q[:, i], k[:, i], v[:, i],\n"
     "                                               mask=None if allowed is None else allowed[:, 0],\n"
     "                                               return_weights=True) for i in range(h)]\n"
     "        out = torch.stack([p[0] for p in pieces], dim=1)\n"
     "        weights = torch.stack([p[1] for p in pieces], dim=1)\n"),
    ("multi_head_attention", "the attention written out again for all heads instead of calling Part 1",
     "        out, weights = scaled_dot_product_attention(q, k, v, mask=allowed, return_weights=True)\n",
     "        scores = q @ k.transpose(-2, -1) / math.sqrt(d_head)\n"
     "        if allowed is not None:\n"
     "            scores = scores.masked_fill(~allowed, -math.inf)\n"
     "        weights = torch.softmax(scores, dim=-1)\n"
     "        out = weights @ v\n"),
]

# The chapter's code pasted under the exercise's names (no answer defines a name of the chapter, so the
# suite pastes nothing by itself): each must lose points.
CHAPTER_COPIES = [
    ("scaled_dot_product_attention", "the chapter's attention: no is_causal, always returns the pair",
     "    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (..., L, S)\n",
     "    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])\n"
     "    if mask is not None:\n"
     "        scores = scores.masked_fill(~mask, float(\"-inf\"))  # exp(-inf) = 0: no weight at all\n"
     "    weights = torch.softmax(scores, dim=-1)\n"
     "    return weights @ v, weights\n"
     "    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (..., L, S)\n"),
    ("causal_self_attention", "the chapter's SelfAttention with its square lower triangle (no past)",
     "    tokens = x if past is None else torch.cat([past, x], dim=1)",
     "    n_tokens = x.shape[1]\n"
     "    lower_triangle = torch.ones(n_tokens, n_tokens, dtype=torch.bool, device=x.device).tril()\n"
     "    return scaled_dot_product_attention(x @ W_q.T, x @ W_k.T, x @ W_v.T, lower_triangle)\n"
     "    tokens = x if past is None else torch.cat([past, x], dim=1)"),
]
