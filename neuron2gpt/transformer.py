# The Transformer's parts, written once for Part IV (source of truth: neuron2gpt/transformer.py).
# The chapter that teaches a part shows it in its own cell (the "# %%" lines); later notebooks
# carry the whole module. Needs the set-up cell before it (DEVICE, seed_everything).
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


# %% attention
class MultiHeadAttention(nn.Module):
    # num_heads heads of size d_model / num_heads side by side (Vaswani et al., 2017, section 3.2.2)
    def __init__(self, d_model, num_heads):
        super().__init__()
        assert d_model % num_heads == 0, f"d_model = {d_model} is not a multiple of num_heads = {num_heads}"
        self.num_heads, self.d_head = num_heads, d_model // num_heads
        self.query = nn.Linear(d_model, d_model)  # the queries of all heads in one product
        self.key = nn.Linear(d_model, d_model)
        self.value = nn.Linear(d_model, d_model)
        self.output = nn.Linear(d_model, d_model)  # W_O mixes the heads' outputs
        self.weights = None  # the weights of the last call, (B, num_heads, L, S), kept for plots

    def split_heads(self, x):
        # (B, n, d_model) -> (B, num_heads, n, d_head): head i gets components i*d_head ... (i+1)*d_head - 1
        B, n, _ = x.shape
        return x.view(B, n, self.num_heads, self.d_head).transpose(1, 2)

    def forward(self, x, memory=None, mask=None):
        # x (B, L, d_model) holds the queries' tokens; memory (B, S, d_model) the keys' and values'
        # (x itself when None: self-attention). mask: booleans broadcastable to (B, num_heads, L, S),
        # True where a query may attend to a key.
        memory = x if memory is None else memory
        q, k, v = self.split_heads(self.query(x)), self.split_heads(self.key(memory)), self.split_heads(self.value(memory))
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.d_head)  # (B, num_heads, L, S): every head at once
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        self.weights = weights.detach()
        heads = weights @ v  # (B, num_heads, L, d_head)
        B, _, L, _ = heads.shape
        return self.output(heads.transpose(1, 2).reshape(B, L, -1))  # the heads side by side again, then W_O


# %% toy
from tqdm.auto import tqdm

# A task for small attention-only models (chapter 4.2): a random first half, then the same tokens again.
TOY_VOCAB = 16                  # token ids 0, ..., 15
MIN_HALF, MAX_HALF = 4, 12  # each training batch draws its half length from this range
HALF = 10                   # the half length of the examples and of the test sequences
D_MODEL, HEADS, LAYERS = 32, 4, 2
TOY_STEPS, TOY_BATCH, TOY_LR = 2000, 64, 3e-3
TEST_SEED = 1234            # the test sequences; training draws from a generator seeded by the run's seed


def repeated_halves(count, half=HALF, generator=None):
    # (count, 2 * half) token ids: `half` random tokens (drawn with replacement), then the same again
    first = torch.randint(TOY_VOCAB, (count, half), generator=generator)
    return torch.cat([first, first], dim=1).to(DEVICE)


class AttentionOnly(nn.Module):
    # token embedding + position vectors -> num_layers residual layers of causal multi-head
    # self-attention -> unembedding. No feed-forward network, no layer norm (chapter 4.4 adds them).
    def __init__(self, positions="learned", d_model=D_MODEL, num_heads=HEADS, num_layers=LAYERS,
                 max_len=2 * MAX_HALF):
        # positions: "learned" (an nn.Embedding trained with the rest), a fixed (max_len, d_model)
        # table (chapter 4.3), or None (no positions at all)
        super().__init__()
        learned = isinstance(positions, str)
        assert not learned or positions == "learned", f"positions: 'learned', a table or None, not {positions!r}"
        self.embedding = nn.Embedding(TOY_VOCAB, d_model)
        self.position = nn.Embedding(max_len, d_model) if learned else None
        self.register_buffer("position_table", None if learned or positions is None else positions.float())
        self.layers = nn.ModuleList(MultiHeadAttention(d_model, num_heads) for _ in range(num_layers))
        self.unembedding = nn.Linear(d_model, TOY_VOCAB)

    def forward(self, tokens, with_positions=True):
        # tokens (B, n) -> logits (B, n, TOY_VOCAB), row t scoring the token at position t + 1;
        # with_positions=False leaves the position vectors out (chapter 4.3 tries it on a trained model)
        n = tokens.shape[1]
        x = self.embedding(tokens)
        if with_positions and self.position is not None:
            x = x + self.position.weight[:n]
        elif with_positions and self.position_table is not None:
            x = x + self.position_table[:n]
        causal = torch.ones(n, n, dtype=torch.bool, device=tokens.device).tril()
        for layer in self.layers:
            x = x + layer(x, mask=causal)  # residual: each layer adds what it gathered to the token's vector
        return self.unembedding(x)


def train_toy(seed=0, steps=TOY_STEPS, progress=True, half=None, **model_options):
    # A new AttentionOnly(**model_options) trained with Adam on the next-token loss at every position.
    # Each batch draws its half length from MIN_HALF ... MAX_HALF, or uses `half` when given. Returns the
    # model and, per step, the mean loss on the random half's targets and on the repeat's (from its
    # second token on).
    seed_everything(seed)
    model = AttentionOnly(**model_options).to(DEVICE)
    optimizer = torch.optim.Adam(model.parameters(), lr=TOY_LR)
    generator = torch.Generator().manual_seed(seed)
    history = []
    for _ in tqdm(range(steps), desc="training", disable=not progress):
        n = half or int(torch.randint(MIN_HALF, MAX_HALF + 1, (1,), generator=generator))
        tokens = repeated_halves(TOY_BATCH, n, generator)
        logits = model(tokens[:, :-1])  # the last token has nothing after it to predict
        losses = F.cross_entropy(logits.transpose(1, 2), tokens[:, 1:], reduction="none")  # (TOY_BATCH, 2n - 1)
        optimizer.zero_grad()
        losses.mean().backward()
        optimizer.step()
        history.append((losses[:, :n - 1].mean().item(), losses[:, n:].mean().item()))
    return model, history


@torch.no_grad()
def accuracy_by_position(model, half=HALF, count=1000, with_positions=True):
    # the fraction of right guesses (argmax) for the token at each position 1, ..., 2 half - 1 of `count`
    # test sequences: entries 0 ... half - 2 are the random half (chance 1 / TOY_VOCAB), entry half - 1
    # the first token of the repeat, the others the rest of the repeat
    tokens = repeated_halves(count, half, torch.Generator().manual_seed(TEST_SEED))
    guesses = model(tokens[:, :-1], with_positions=with_positions).argmax(-1)
    return (guesses == tokens[:, 1:]).float().mean(0).cpu()


def toy_accuracy(model, half=HALF, **options):
    # (accuracy on the random half, accuracy on the repeat from its second token on)
    right = accuracy_by_position(model, half, **options)
    return right[:half - 1].mean().item(), right[half:].mean().item()


@torch.no_grad()
def head_scores(model, half=HALF, count=500, with_positions=True):
    # (layers, heads) tensors: the mean weight that the queries of the random half give to the previous
    # position, and that the queries of the repeat give to the position after the earlier copy of their token
    tokens = repeated_halves(count, half, torch.Generator().manual_seed(TEST_SEED))
    model(tokens[:, :-1], with_positions=with_positions)
    first, repeat = torch.arange(1, half), torch.arange(half, 2 * half - 1)
    previous = torch.stack([layer.weights[:, :, first, first - 1].mean((0, 2)) for layer in model.layers])
    induction = torch.stack([layer.weights[:, :, repeat, repeat - half + 1].mean((0, 2)) for layer in model.layers])
    return previous.cpu(), induction.cpu()


@torch.no_grad()
def draw_head(ax, model, tokens, layer, head, half, scores=None, with_positions=True):
    # heatmap of one head's weights on one sequence of 2 half tokens (it reads all of them but the last),
    # a row per query and a column per key; scores: head_scores' pair, for the title
    model(tokens[None, :-1], with_positions=with_positions)
    weights = model.layers[layer].weights[0, head].cpu()
    labels = [str(t) for t in tokens[:-1].tolist()]
    ax.imshow(weights, cmap="Greys", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, fontsize=6)
    ax.set_yticks(range(len(labels)), labels, fontsize=6)
    ax.axvline(half - 0.5, color="C1", lw=0.8)  # the repeat starts after the lines
    ax.axhline(half - 0.5, color="C1", lw=0.8)
    title = f"layer {layer + 1}, head {head + 1}"
    if scores is not None:
        title += f"\nprevious {scores[0][layer, head]:.2f}, induction {scores[1][layer, head]:.2f}"
    ax.set_title(title, fontsize=9)


# %% positions
def sinusoidal_positions(n, d_model, base=10000.0, dtype=torch.float32):
    # (n, d_model) table of Vaswani et al. (2017): row t holds sin(t w_i) in column 2i and cos(t w_i) in
    # column 2i + 1, for the frequencies w_i = base^(-2i / d_model), from 1 down to nearly 1 / base
    assert d_model % 2 == 0, "the sines and cosines come in pairs"
    t = torch.arange(n, dtype=torch.float64)[:, None]
    frequencies = base ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
    table = torch.empty(n, d_model, dtype=torch.float64)
    table[:, 0::2] = torch.sin(t * frequencies)
    table[:, 1::2] = torch.cos(t * frequencies)
    return table.to(dtype)


# %% block
class FeedForward(nn.Module):
    # the position-wise feed-forward network: one small MLP, the same for every token, applied to each alone
    def __init__(self, d_model, d_ff=None, dropout=0.0):
        super().__init__()
        d_ff = d_ff or 4 * d_model  # Vaswani et al. (2017): d_model = 512, d_ff = 2048
        self.expand = nn.Linear(d_model, d_ff)
        self.project = nn.Linear(d_ff, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        # x (..., d_model) -> (..., d_model); GELU as in GPT-2 (Hendrycks and Gimpel, 2016)
        return self.project(self.dropout(F.gelu(self.expand(x))))


def residual_sublayer(x, sublayer, norm, dropout, norm_first):
    # pre-norm: x + f(LN(x)), the sum itself never normalized; post-norm: LN(x + f(x)), "Add & Norm"
    if norm_first:
        return x + dropout(sublayer(norm(x)))
    return norm(x + dropout(sublayer(x)))


class TransformerBlock(nn.Module):
    # the encoder block: self-attention, then the feed-forward network, each a residual sublayer.
    # norm_first=False is post-norm (Vaswani et al., 2017), True pre-norm (GPT-2 and most later models).
    def __init__(self, d_model, num_heads, d_ff=None, dropout=0.1, norm_first=True):
        super().__init__()
        self.attention = MultiHeadAttention(d_model, num_heads)
        self.feed_forward = FeedForward(d_model, d_ff, dropout)
        self.attention_norm = nn.LayerNorm(d_model)
        self.feed_forward_norm = nn.LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)  # on each sublayer's output, before it joins the residual path
        self.norm_first = norm_first

    def forward(self, x, mask=None):
        # x (B, n, d_model) -> (B, n, d_model); mask as in MultiHeadAttention (True = may attend)
        x = residual_sublayer(x, lambda h: self.attention(h, mask=mask), self.attention_norm, self.dropout,
                              self.norm_first)
        return residual_sublayer(x, self.feed_forward, self.feed_forward_norm, self.dropout, self.norm_first)


class DecoderLayer(nn.Module):
    # the decoder block: masked self-attention, cross-attention over the encoder's output (the memory),
    # then the feed-forward network; three residual sublayers, each with its own layer norm
    def __init__(self, d_model, num_heads, d_ff=None, dropout=0.1, norm_first=True):
        super().__init__()
        self.self_attention = MultiHeadAttention(d_model, num_heads)
        self.cross_attention = MultiHeadAttention(d_model, num_heads)
        self.feed_forward = FeedForward(d_model, d_ff, dropout)
        self.self_attention_norm = nn.LayerNorm(d_model)
        self.cross_attention_norm = nn.LayerNorm(d_model)
        self.feed_forward_norm = nn.LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)
        self.norm_first = norm_first

    def forward(self, x, memory, mask=None, memory_mask=None):
        # x (B, T, d_model) the target tokens, memory (B, S, d_model) the encoder's output;
        # mask (T x T, usually causal) for the self-attention, memory_mask (B, 1, 1, S) hides padded sources
        x = residual_sublayer(x, lambda h: self.self_attention(h, mask=mask), self.self_attention_norm,
                              self.dropout, self.norm_first)
        x = residual_sublayer(x, lambda h: self.cross_attention(h, memory, memory_mask), self.cross_attention_norm,
                              self.dropout, self.norm_first)
        return residual_sublayer(x, self.feed_forward, self.feed_forward_norm, self.dropout, self.norm_first)
