"""Realistic mistakes in the 13_transformer_block solutions (exercise 4.4, chapters 4.3 and 4.4); each must lose
points."""
CHAPTERS = ["12_positions"]  # chapter 4.3's definitions are pasted too; chapter 4.4 is matched by name

import textwrap

MUTANTS = [
    # sinusoidal_encoding
    ("sinusoidal_encoding", "sine and cosine swapped",
     "torch.where(column % 2 == 0, torch.sin(angles), torch.cos(angles))",
     "torch.where(column % 2 == 0, torch.cos(angles), torch.sin(angles))"),
    ("sinusoidal_encoding", "exponent i / d_model instead of 2i / d_model",
     "base ** (2 * pair / d_model)", "base ** (pair / d_model)"),
    ("sinusoidal_encoding", "exponent from the column index: the cosine columns get 2i + 1",
     "base ** (2 * pair / d_model)", "base ** (column / d_model)"),
    ("sinusoidal_encoding", "frequency and period confused: t times base^(2i/d)",
     "angles = t / base ** (2 * pair / d_model)", "angles = t * base ** (2 * pair / d_model)"),
    ("sinusoidal_encoding", "the exponent computed in float32 (integer tensor divided by an int)",
     "column = torch.arange(d_model, dtype=torch.float64)", "column = torch.arange(d_model)"),
    ("sinusoidal_encoding", "positions start at 1",
     "t = torch.arange(n_positions, dtype=torch.float64)[:, None]",
     "t = torch.arange(1, n_positions + 1, dtype=torch.float64)[:, None]"),
    ("sinusoidal_encoding", "the table in float32",
     "    return torch.where(column % 2 == 0, torch.sin(angles), torch.cos(angles))",
     "    return torch.where(column % 2 == 0, torch.sin(angles), torch.cos(angles)).float()"),
    # shift_matrix
    ("shift_matrix", "rotation sign wrong: the row-vector matrix of the chapter (R_k transposed)",
     "    R[0::2, 1::2] = torch.diag(sin)\n    R[1::2, 0::2] = torch.diag(-sin)",
     "    R[0::2, 1::2] = torch.diag(-sin)\n    R[1::2, 0::2] = torch.diag(sin)"),
    ("shift_matrix", "cosine and sine swapped in the blocks",
     "    R[0::2, 0::2] = torch.diag(cos)  #", "    R[0::2, 0::2] = torch.diag(sin)  #"),
    ("shift_matrix", "exponent i / d_model", "angles = k / base ** (2 * pair / d_model)",
     "angles = k / base ** (pair / d_model)"),
    ("shift_matrix", "the angle of a shift by 1, whatever k", "angles = k / base", "angles = 1 / base"),
    ("shift_matrix", "pairs taken as columns i and i + d/2 instead of 2i and 2i + 1",
     "    R[0::2, 0::2] = torch.diag(cos)  # sin(a + b) = sin a cos b + cos a sin b\n"
     "    R[0::2, 1::2] = torch.diag(sin)\n"
     "    R[1::2, 0::2] = torch.diag(-sin)  # cos(a + b) = cos a cos b - sin a sin b\n"
     "    R[1::2, 1::2] = torch.diag(cos)\n",
     "    h = d_model // 2\n"
     "    R[:h, :h] = torch.diag(cos)\n"
     "    R[:h, h:] = torch.diag(sin)\n"
     "    R[h:, :h] = torch.diag(-sin)\n"
     "    R[h:, h:] = torch.diag(cos)\n"),
    # layer_norm
    ("layer_norm", "normalized over the batch axis (axis 0) instead of the trailing axes",
     "mean = x.mean(dim=axes, keepdim=True)", "mean = x.mean(dim=0, keepdim=True)"),
    ("layer_norm", "unbiased variance (divided by N - 1)",
     "variance = ((x - mean) ** 2).mean(dim=axes, keepdim=True)",
     "variance = x.var(dim=axes, keepdim=True)"),
    ("layer_norm", "eps outside the square root",
     "torch.sqrt(variance + eps)", "(torch.sqrt(variance) + eps)"),
    ("layer_norm", "the last axis only, whatever gain's shape",
     "axes = tuple(range(-gain.dim(), 0))", "axes = (-1,)"),
    ("layer_norm", "divided by the variance instead of the standard deviation",
     "torch.sqrt(variance + eps)", "(variance + eps)"),
    ("layer_norm", "bias multiplied by the gain too",
     "return gain * (x - mean) / torch.sqrt(variance + eps) + bias",
     "return gain * ((x - mean) / torch.sqrt(variance + eps) + bias)"),
    # layer_norm_backward
    ("layer_norm_backward", "the mean term missing (the path through mu)",
     "g - g.mean(dim=axes, keepdim=True) - ", "g - "),
    ("layer_norm_backward", "the variance term missing (the path through sigma)",
     " - x_hat * (g * x_hat).mean(dim=axes, keepdim=True))", ")"),
    ("layer_norm_backward", "both mean terms missing: grad_x = gain * grad_out / std",
     "grad_x = inv_std * (g - g.mean(dim=axes, keepdim=True) - x_hat * (g * x_hat).mean(dim=axes, keepdim=True))",
     "grad_x = inv_std * g"),
    ("layer_norm_backward", "the gain left out of grad_x", "g = grad_out * gain", "g = grad_out"),
    ("layer_norm_backward", "grad_gain without x_hat", "grad_gain = (grad_out * x_hat)", "grad_gain = (grad_out)"),
    ("layer_norm_backward", "grad_bias averaged instead of summed over the rows",
     "grad_bias = grad_out.reshape(-1, *gain.shape).sum(dim=0)",
     "grad_bias = grad_out.reshape(-1, *gain.shape).mean(dim=0)"),
    ("layer_norm_backward", "grad_gain and grad_bias summed over the last leading axis only",
     "grad_gain = (grad_out * x_hat).reshape(-1, *gain.shape).sum(dim=0)\n"
     "    grad_bias = grad_out.reshape(-1, *gain.shape).sum(dim=0)",
     "grad_gain = (grad_out * x_hat).sum(dim=-gain.dim() - 1)\n"
     "    grad_bias = grad_out.sum(dim=-gain.dim() - 1)"),
    ("layer_norm_backward", "eps left out of the standard deviation",
     "keepdim=True) + eps)", "keepdim=True))"),
    ("layer_norm_backward", "the means over the last axis only",
     "axes = tuple(range(-gain.dim(), 0))", "axes = (-1,)"),
    # encoder_block
    ("encoder_block", "pre-norm: the residual taken after the norm, LN(x) + f(LN(x))",
     "x = x + attend(self.norm1(x))", "x = self.norm1(x)\n            x = x + attend(x)"),
    ("encoder_block", "post-norm with the norm before the sum, LN(x) + f(x)",
     "x = self.norm1(x + attend(x))", "x = self.norm1(x) + attend(x)"),
    ("encoder_block", "ReLU instead of GELU", "F.gelu(self.linear1(h))", "F.relu(self.linear1(h))"),
    ("encoder_block", "the tanh approximation of GELU", "F.gelu(self.linear1(h))",
     "F.gelu(self.linear1(h), approximate=\"tanh\")"),
    ("encoder_block", "no residual around the feed-forward network (pre-norm)",
     "x = x + feed_forward(self.norm2(x))", "x = feed_forward(self.norm2(x))"),
    ("encoder_block", "no residual around the feed-forward network (post-norm)",
     "x = self.norm2(x + feed_forward(x))", "x = self.norm2(feed_forward(x))"),
    ("encoder_block", "norm1 and norm2 swapped in post-norm",
     "            x = self.norm1(x + attend(x))\n            x = self.norm2(x + feed_forward(x))",
     "            x = self.norm2(x + attend(x))\n            x = self.norm1(x + feed_forward(x))"),
    ("encoder_block", "the arrangements swapped: norm_first=True gives post-norm",
     "if self.norm_first:  # pre-norm", "if not self.norm_first:  # pre-norm"),
    ("encoder_block", "attn_mask not passed", "attn_mask=attn_mask, key_padding_mask=key_padding_mask",
     "key_padding_mask=key_padding_mask"),
    ("encoder_block", "key_padding_mask not passed", "attn_mask=attn_mask, key_padding_mask=key_padding_mask",
     "attn_mask=attn_mask"),
    ("encoder_block", "self_attn without batch_first: the batch read as the tokens",
     "self.self_attn = nn.MultiheadAttention(d_model, num_heads, batch_first=True)",
     "self.self_attn = nn.MultiheadAttention(d_model, num_heads)"),
    # decoder_block
    ("decoder_block", "cross-attention reads x as keys and values instead of the memory",
     "self.multihead_attn(h, memory, memory,", "self.multihead_attn(h, h, h,"),
    ("decoder_block", "causal tgt_mask not passed to the self-attention",
     "attn_mask=tgt_mask, key_padding_mask=tgt_key_padding_mask", "key_padding_mask=tgt_key_padding_mask"),
    ("decoder_block", "norm3 missing in post-norm", "x = self.norm3(x + feed_forward(x))",
     "x = x + feed_forward(x)"),
    ("decoder_block", "norm3 missing in pre-norm", "x = x + feed_forward(self.norm3(x))",
     "x = x + feed_forward(x)"),
    ("decoder_block", "memory_key_padding_mask ignored",
     "key_padding_mask=memory_key_padding_mask,", ""),
    ("decoder_block", "tgt_key_padding_mask ignored",
     "attn_mask=tgt_mask, key_padding_mask=tgt_key_padding_mask", "attn_mask=tgt_mask"),
    ("decoder_block", "the memory normalized by norm2 too in pre-norm (keys and values from LN(memory))",
     "self.multihead_attn(h, memory, memory,", "self.multihead_attn(h, self.norm2(memory), self.norm2(memory),"),
    ("decoder_block", "cross-attention before self-attention (pre-norm)",
     "            x = x + self_attend(self.norm1(x))\n            x = x + cross_attend(self.norm2(x))",
     "            x = x + cross_attend(self.norm2(x))\n            x = x + self_attend(self.norm1(x))"),
    ("decoder_block", "ReLU instead of GELU", "F.gelu(self.linear1(h))", "F.relu(self.linear1(h))"),
    ("decoder_block", "self-attention and cross-attention modules swapped",
     "return self.self_attn(h, h, h,", "return self.multihead_attn(h, h, h,"),
]

# Right numbers the forbidden way: each must lose the points of its own part, naming the rule.
RULE_BREAKERS = [
    ("layer_norm", "F.layer_norm with normalized_shape = gain.shape",
     "    axes = tuple(range(-gain.dim(), 0))  # the last gain.dim() axes\n",
     "    return F.layer_norm(x, tuple(gain.shape), gain, bias, eps)\n"
     "    axes = tuple(range(-gain.dim(), 0))  # the last gain.dim() axes\n"),
    ("layer_norm", "an nn.LayerNorm with the gain and bias copied in",
     "    axes = tuple(range(-gain.dim(), 0))  # the last gain.dim() axes\n",
     "    norm = nn.LayerNorm(tuple(gain.shape), eps=eps).to(x.dtype)\n"
     "    with torch.no_grad():\n"
     "        norm.weight.copy_(gain)\n"
     "        norm.bias.copy_(bias)\n"
     "        return norm(x)\n"
     "    axes = tuple(range(-gain.dim(), 0))  # the last gain.dim() axes\n"),
    ("layer_norm_backward", "autograd through F.layer_norm",
     "    axes = tuple(range(-gain.dim(), 0))  # the normalized axes\n",
     "    x, gain = x.detach().requires_grad_(), gain.detach().requires_grad_()\n"
     "    bias = torch.zeros_like(gain, requires_grad=True)\n"
     "    with torch.enable_grad():\n"
     "        y = F.layer_norm(x, tuple(gain.shape), gain, bias, eps)\n"
     "        return torch.autograd.grad(y, (x, gain, bias), grad_out)\n"
     "    axes = tuple(range(-gain.dim(), 0))  # the normalized axes\n"),
    ("layer_norm_backward", "autograd through Part 3's layer_norm, with backward()",
     "    axes = tuple(range(-gain.dim(), 0))  # the normalized axes\n",
     "    x, gain = x.detach().clone().requires_grad_(), gain.detach().clone().requires_grad_()\n"
     "    bias = torch.zeros_like(gain, requires_grad=True)\n"
     "    with torch.enable_grad():\n"
     "        (layer_norm(x, gain, bias, eps) * grad_out).sum().backward()\n"
     "    return x.grad, gain.grad, bias.grad\n"
     "    axes = tuple(range(-gain.dim(), 0))  # the normalized axes\n"),
    ("layer_norm_backward", "torch.func.vjp of a hand-written forward",
     "    axes = tuple(range(-gain.dim(), 0))  # the normalized axes\n",
     "    def forward(x, gain, bias):\n"
     "        axes = tuple(range(-gain.dim(), 0))\n"
     "        mean = x.mean(dim=axes, keepdim=True)\n"
     "        var = ((x - mean) ** 2).mean(dim=axes, keepdim=True)\n"
     "        return gain * (x - mean) / torch.sqrt(var + eps) + bias\n"
     "    _, pullback = torch.func.vjp(forward, x, gain, torch.zeros_like(gain))\n"
     "    return pullback(grad_out)\n"
     "    axes = tuple(range(-gain.dim(), 0))  # the normalized axes\n"),
    ("encoder_block", "a subclass of nn.TransformerEncoderLayer that calls its forward",
     "class EncoderBlock(nn.Module):\n",
     "class EncoderBlock(nn.TransformerEncoderLayer):\n"
     "    def __init__(self, d_model, num_heads, d_ff, norm_first=False):\n"
     "        super().__init__(d_model, num_heads, d_ff, dropout=0.0, activation=\"gelu\", batch_first=True,\n"
     "                         norm_first=norm_first)\n"
     "\n"
     "    def forward(self, x, attn_mask=None, key_padding_mask=None):\n"
     "        return super().forward(x, src_mask=attn_mask, src_key_padding_mask=key_padding_mask)\n"
     "\n"
     "\n"
     "class Unused(nn.Module):\n"),
    ("encoder_block", "an nn.TransformerEncoderLayer built in forward from the block's own state_dict",
     "        def attend(h):\n",
     "        layer = nn.TransformerEncoderLayer(x.shape[-1], self.self_attn.num_heads, self.linear1.out_features,\n"
     "                                           dropout=0.0, activation=\"gelu\", batch_first=True,\n"
     "                                           norm_first=self.norm_first).to(x.dtype).eval()\n"
     "        layer.load_state_dict(self.state_dict())\n"
     "        return layer(x, src_mask=attn_mask, src_key_padding_mask=key_padding_mask)\n"
     "\n"
     "        def attend(h):\n"),
    ("decoder_block", "a subclass of nn.TransformerDecoderLayer that calls its forward",
     "class DecoderBlock(nn.Module):\n",
     "class DecoderBlock(nn.TransformerDecoderLayer):\n"
     "    def __init__(self, d_model, num_heads, d_ff, norm_first=False):\n"
     "        super().__init__(d_model, num_heads, d_ff, dropout=0.0, activation=\"gelu\", batch_first=True,\n"
     "                         norm_first=norm_first)\n"
     "\n"
     "\n"
     "class Unused(nn.Module):\n"),
    ("decoder_block", "an nn.TransformerDecoderLayer built in forward from the block's own state_dict",
     "        def self_attend(h):\n",
     "        layer = nn.TransformerDecoderLayer(x.shape[-1], self.self_attn.num_heads, self.linear1.out_features,\n"
     "                                           dropout=0.0, activation=\"gelu\", batch_first=True,\n"
     "                                           norm_first=self.norm_first).to(x.dtype).eval()\n"
     "        layer.load_state_dict(self.state_dict())\n"
     "        return layer(x, memory, tgt_mask=tgt_mask, tgt_key_padding_mask=tgt_key_padding_mask,\n"
     "                     memory_key_padding_mask=memory_key_padding_mask)\n"
     "\n"
     "        def self_attend(h):\n"),
]


# The chapters' code under the exercise's names (the suite pastes chapter 4.3's shift_matrix by itself): each must
# lose points.
CHAPTER_POSITIONS = 'def sinusoidal_positions(n, d_model, base=10000.0, dtype=torch.float32):\n    # (n, d_model) table of Vaswani et al. (2017): row t holds sin(t w_i) in column 2i and cos(t w_i) in\n    # column 2i + 1, for the frequencies w_i = base^(-2i / d_model), from 1 down to nearly 1 / base\n    assert d_model % 2 == 0, "the sines and cosines come in pairs"\n    t = torch.arange(n, dtype=torch.float64)[:, None]\n    frequencies = base ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)\n    table = torch.empty(n, d_model, dtype=torch.float64)\n    table[:, 0::2] = torch.sin(t * frequencies)\n    table[:, 1::2] = torch.cos(t * frequencies)\n    return table.to(dtype)'
CHAPTER_NORMALIZE = """    mean = x.mean(dim=-1, keepdim=True)
    variance = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
    return gain * (x - mean) / torch.sqrt(variance + eps) + bias
"""
CHAPTER_ATTENTION = 'class MultiHeadAttention(nn.Module):\n    # num_heads heads of size d_model / num_heads side by side (Vaswani et al., 2017, section 3.2.2)\n    def __init__(self, d_model, num_heads):\n        super().__init__()\n        assert d_model % num_heads == 0, f"d_model = {d_model} is not a multiple of num_heads = {num_heads}"\n        self.num_heads, self.d_head = num_heads, d_model // num_heads\n        self.query = nn.Linear(d_model, d_model)  # the queries of all heads in one product\n        self.key = nn.Linear(d_model, d_model)\n        self.value = nn.Linear(d_model, d_model)\n        self.output = nn.Linear(d_model, d_model)  # W_O mixes the heads\' outputs\n        self.weights = None  # the weights of the last call, (B, num_heads, L, S), kept for plots\n\n    def split_heads(self, x):\n        # (B, n, d_model) -> (B, num_heads, n, d_head): head i gets components i*d_head ... (i+1)*d_head - 1\n        B, n, _ = x.shape\n        return x.view(B, n, self.num_heads, self.d_head).transpose(1, 2)\n\n    def forward(self, x, memory=None, mask=None):\n        # x (B, L, d_model) holds the queries\' tokens; memory (B, S, d_model) the keys\' and values\'\n        # (x itself when None: self-attention). mask: booleans broadcastable to (B, num_heads, L, S),\n        # True where a query may attend to a key.\n        memory = x if memory is None else memory\n        q, k, v = self.split_heads(self.query(x)), self.split_heads(self.key(memory)), self.split_heads(self.value(memory))\n        scores = q @ k.transpose(-2, -1) / math.sqrt(self.d_head)  # (B, num_heads, L, S): every head at once\n        if mask is not None:\n            scores = scores.masked_fill(~mask, float("-inf"))\n        weights = torch.softmax(scores, dim=-1)\n        self.weights = weights.detach()\n        heads = weights @ v  # (B, num_heads, L, d_head)\n        B, _, L, _ = heads.shape\n        return self.output(heads.transpose(1, 2).reshape(B, L, -1))  # the heads side by side again, then W_O'
CHAPTER_FEED_FORWARD = 'class FeedForward(nn.Module):\n    # the position-wise feed-forward network: one small MLP, the same for every token, applied to each alone\n    def __init__(self, d_model, d_ff=None, dropout=0.0):\n        super().__init__()\n        d_ff = d_ff or 4 * d_model  # Vaswani et al. (2017): d_model = 512, d_ff = 2048\n        self.expand = nn.Linear(d_model, d_ff)\n        self.project = nn.Linear(d_ff, d_model)\n        self.dropout = nn.Dropout(dropout)\n\n    def forward(self, x):\n        # x (..., d_model) -> (..., d_model); GELU as in GPT-2 (Hendrycks and Gimpel, 2016)\n        return self.project(self.dropout(F.gelu(self.expand(x))))\n\n\ndef residual_sublayer(x, sublayer, norm, dropout, norm_first):\n    # pre-norm: x + f(LN(x)), the sum itself never normalized; post-norm: LN(x + f(x)), "Add & Norm"\n    if norm_first:\n        return x + dropout(sublayer(norm(x)))\n    return norm(x + dropout(sublayer(x)))'
CHAPTER_ENCODER = "class TransformerBlock(nn.Module):\n    # the encoder block: self-attention, then the feed-forward network, each a residual sublayer.\n    # norm_first=False is post-norm (Vaswani et al., 2017), True pre-norm (GPT-2 and most later models).\n    def __init__(self, d_model, num_heads, d_ff=None, dropout=0.1, norm_first=True):\n        super().__init__()\n        self.attention = MultiHeadAttention(d_model, num_heads)\n        self.feed_forward = FeedForward(d_model, d_ff, dropout)\n        self.attention_norm = nn.LayerNorm(d_model)\n        self.feed_forward_norm = nn.LayerNorm(d_model)\n        self.dropout = nn.Dropout(dropout)  # on each sublayer's output, before it joins the residual path\n        self.norm_first = norm_first\n\n    def forward(self, x, mask=None):\n        # x (B, n, d_model) -> (B, n, d_model); mask as in MultiHeadAttention (True = may attend)\n        x = residual_sublayer(x, lambda h: self.attention(h, mask=mask), self.attention_norm, self.dropout,\n                              self.norm_first)\n        return residual_sublayer(x, self.feed_forward, self.feed_forward_norm, self.dropout, self.norm_first)"
CHAPTER_DECODER = "class DecoderLayer(nn.Module):\n    # the decoder block: masked self-attention, cross-attention over the encoder's output (the memory),\n    # then the feed-forward network; three residual sublayers, each with its own layer norm\n    def __init__(self, d_model, num_heads, d_ff=None, dropout=0.1, norm_first=True):\n        super().__init__()\n        self.self_attention = MultiHeadAttention(d_model, num_heads)\n        self.cross_attention = MultiHeadAttention(d_model, num_heads)\n        self.feed_forward = FeedForward(d_model, d_ff, dropout)\n        self.self_attention_norm = nn.LayerNorm(d_model)\n        self.cross_attention_norm = nn.LayerNorm(d_model)\n        self.feed_forward_norm = nn.LayerNorm(d_model)\n        self.dropout = nn.Dropout(dropout)\n        self.norm_first = norm_first\n\n    def forward(self, x, memory, mask=None, memory_mask=None):\n        # x (B, T, d_model) the target tokens, memory (B, S, d_model) the encoder's output;\n        # mask (T x T, usually causal) for the self-attention, memory_mask (B, 1, 1, S) hides padded sources\n        x = residual_sublayer(x, lambda h: self.self_attention(h, mask=mask), self.self_attention_norm,\n                              self.dropout, self.norm_first)\n        x = residual_sublayer(x, lambda h: self.cross_attention(h, memory, memory_mask), self.cross_attention_norm,\n                              self.dropout, self.norm_first)\n        return residual_sublayer(x, self.feed_forward, self.feed_forward_norm, self.dropout, self.norm_first)"

CHAPTER_COPIES = [
    ("sinusoidal_encoding", "chapter 4.3's sinusoidal_positions, asked for float64 (even widths only)",
     "    t = torch.arange(n_positions, dtype=torch.float64)[:, None]  # (n, 1)\n",
     textwrap.indent(CHAPTER_POSITIONS, "    ") + "\n"
     "    return sinusoidal_positions(n_positions, d_model, base, dtype=torch.float64)\n"
     "    t = torch.arange(n_positions, dtype=torch.float64)[:, None]  # (n, 1)\n"),
    ("layer_norm", "chapter 4.4's normalize_features: the last axis only",
     "    axes = tuple(range(-gain.dim(), 0))  # the last gain.dim() axes\n",
     CHAPTER_NORMALIZE + "    axes = tuple(range(-gain.dim(), 0))  # the last gain.dim() axes\n"),
    ("encoder_block", "chapter 4.4's TransformerBlock, its masks translated",
     "class EncoderBlock(nn.Module):\n",
     CHAPTER_ATTENTION + "\n\n\n" + CHAPTER_FEED_FORWARD + "\n\n\n" + CHAPTER_ENCODER + "\n\n\n"
     "class EncoderBlock(TransformerBlock):\n"
     "    def __init__(self, d_model, num_heads, d_ff, norm_first=False):\n"
     "        super().__init__(d_model, num_heads, d_ff, dropout=0.0, norm_first=norm_first)\n"
     "\n"
     "    def forward(self, x, attn_mask=None, key_padding_mask=None):\n"
     "        allowed = torch.ones(x.shape[1], x.shape[1], dtype=torch.bool)\n"
     "        if attn_mask is not None:\n"
     "            allowed = allowed & ~attn_mask\n"
     "        if key_padding_mask is not None:\n"
     "            allowed = allowed & ~key_padding_mask[:, None, None, :]\n"
     "        return super().forward(x, allowed)\n"
     "\n"
     "\n"
     "class Unused(nn.Module):\n"),
    ("decoder_block", "chapter 4.4's DecoderLayer, its masks translated",
     "class DecoderBlock(nn.Module):\n",
     CHAPTER_ATTENTION + "\n\n\n" + CHAPTER_FEED_FORWARD + "\n\n\n" + CHAPTER_DECODER + "\n\n\n"
     "class DecoderBlock(DecoderLayer):\n"
     "    def __init__(self, d_model, num_heads, d_ff, norm_first=False):\n"
     "        super().__init__(d_model, num_heads, d_ff, dropout=0.0, norm_first=norm_first)\n"
     "\n"
     "    def forward(self, x, memory, tgt_mask=None, tgt_key_padding_mask=None, memory_key_padding_mask=None):\n"
     "        allowed = torch.ones(x.shape[1], x.shape[1], dtype=torch.bool)\n"
     "        if tgt_mask is not None:\n"
     "            allowed = allowed & ~tgt_mask\n"
     "        if tgt_key_padding_mask is not None:\n"
     "            allowed = allowed & ~tgt_key_padding_mask[:, None, None, :]\n"
     "        memory_mask = None\n"
     "        if memory_key_padding_mask is not None:\n"
     "            memory_mask = ~memory_key_padding_mask[:, None, None, :]\n"
     "        return super().forward(x, memory, allowed, memory_mask)\n"
     "\n"
     "\n"
     "class Unused(nn.Module):\n"),
]
