# The translation task of Part III and the encoder-decoder of chapter 3.1: spelled-out numbers
# to digits (source of truth: neuron2gpt/seq2seq.py). Chapter 3.1 shows each part in its own cell
# (the "# %%" lines); chapter 3.2 and exercise 3.2 carry the whole module.
# Needs the set-up cell before it (DEVICE, seed_everything).
import math
import random
from collections import Counter, defaultdict

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence
from tqdm.auto import tqdm


# %% task
ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
        "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
MAX_DIGITS = 9


def below_thousand(n):
    # 1 <= n <= 999 in words: "three hundred and twelve"
    words = []
    hundreds, rest = divmod(n, 100)
    if hundreds:
        words += [ONES[hundreds], "hundred"] + (["and"] if rest else [])
    if rest >= 20:
        words += [TENS[rest // 10]] + ([ONES[rest % 10]] if rest % 10 else [])
    elif rest:
        words.append(ONES[rest])
    return words


def spell(n):
    # 1 <= n < 10**9 as a list of words: millions and thousands are read like numbers below 1000
    millions, rest = divmod(n, 10**6)
    thousands, units = divmod(rest, 1000)
    words = []
    if millions:
        words += below_thousand(millions) + ["million"]
    if thousands:
        words += below_thousand(thousands) + ["thousand"]
    if units:
        if words and units < 100:
            words.append("and")  # "one thousand and five"
        words += below_thousand(units)
    return words


def make_pair(rng):
    # (source words, target digits); the number of digits is uniform, so long numbers are common
    digits = rng.randint(1, MAX_DIGITS)
    n = rng.randint(10 ** (digits - 1), 10**digits - 1)
    return spell(n), list(str(n))


# %% data
SPECIALS = ["<pad>", "<sos>", "<eos>"]
PAD, SOS, EOS = 0, 1, 2
SOURCE_VOCAB = SPECIALS + ONES[1:] + TENS[2:] + ["hundred", "thousand", "million", "and"]
TARGET_VOCAB = SPECIALS + list("0123456789")
source_index = {word: i for i, word in enumerate(SOURCE_VOCAB)}
target_index = {token: i for i, token in enumerate(TARGET_VOCAB)}

train_rng, test_rng = random.Random(0), random.Random(1)  # their own generators: the data never change
train_pairs = [make_pair(train_rng) for _ in range(50_000)]
test_pairs = [make_pair(test_rng) for _ in range(3_000)]


# %% batch
def make_batch(pairs):
    # -> sources (B, S), source lengths (B,), decoder inputs (B, T), targets (B, T); T = longest target + 1
    S = max(len(source) for source, _ in pairs)
    T = max(len(target) for _, target in pairs) + 1
    sources, decoder_inputs, targets = [], [], []
    for source, target in pairs:
        ids = [target_index[digit] for digit in target]
        sources.append([source_index[word] for word in source] + [PAD] * (S - len(source)))
        decoder_inputs.append([SOS] + ids + [PAD] * (T - 1 - len(ids)))
        targets.append(ids + [EOS] + [PAD] * (T - 1 - len(ids)))
    lengths = torch.tensor([len(source) for source, _ in pairs])  # stays on the CPU: packing wants it there
    return torch.tensor(sources), lengths, torch.tensor(decoder_inputs), torch.tensor(targets)


# the whole data set as padded tensors, built once
train_sources, train_lengths, train_inputs, train_targets = make_batch(train_pairs)
test_sources, test_lengths, _, _ = make_batch(test_pairs)
train_sources, train_inputs, train_targets = (t.to(DEVICE) for t in (train_sources, train_inputs, train_targets))
test_sources = test_sources.to(DEVICE)


# %% model
EMBED, HIDDEN = 32, 32


class Encoder(nn.Module):
    def __init__(self, vocab_size, embed_dim, hidden):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.gru = nn.GRU(embed_dim, hidden, batch_first=True)

    def forward(self, sources, lengths):
        # sources (B, S) right-padded, lengths (B,) on the CPU -> the context c = h_S, shape (1, B, hidden)
        packed = pack_padded_sequence(self.embedding(sources), lengths, batch_first=True, enforce_sorted=False)
        _, last_state = self.gru(packed)  # the state after each sequence's own last word
        return last_state


class Decoder(nn.Module):
    def __init__(self, vocab_size, embed_dim, hidden):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.gru = nn.GRU(embed_dim, hidden, batch_first=True)
        self.output = nn.Linear(hidden, vocab_size)

    def forward(self, previous_tokens, state):
        # previous_tokens (B, T): all T steps at once (teacher forcing) or T = 1 (generation)
        states, state = self.gru(self.embedding(previous_tokens), state)
        return self.output(states), state  # logits (B, T, vocab_size), the state after the last step


class Seq2Seq(nn.Module):
    def __init__(self, embed_dim=EMBED, hidden=HIDDEN):
        super().__init__()
        self.encoder = Encoder(len(SOURCE_VOCAB), embed_dim, hidden)
        self.decoder = Decoder(len(TARGET_VOCAB), embed_dim, hidden)

    def forward(self, sources, lengths, decoder_inputs):
        context = self.encoder(sources, lengths)      # the only link between the two halves
        return self.decoder(decoder_inputs, context)[0]


# %% train
STEPS, BATCH = 3000, 128


def train_seq2seq(seed, steps=STEPS, progress=True, make_model=Seq2Seq):
    # make_model: any model with the interface of Seq2Seq (chapter 3.2 passes its attention model)
    seed_everything(seed)
    model = make_model().to(DEVICE)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    generator = torch.Generator().manual_seed(seed)  # the minibatches, the same on every device
    losses = []
    for _ in tqdm(range(steps), desc=f"training, seed {seed}", mininterval=0.5, disable=not progress):
        rows = torch.randint(len(train_pairs), (BATCH,), generator=generator)
        logits = model(train_sources[rows.to(DEVICE)], train_lengths[rows], train_inputs[rows.to(DEVICE)])
        loss = F.cross_entropy(logits.reshape(-1, len(TARGET_VOCAB)), train_targets[rows.to(DEVICE)].reshape(-1),
                               ignore_index=PAD)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
    return model.eval(), losses


# %% greedy
def to_digits(ids):
    # token ids up to the first <eos> -> a string of digits
    if EOS in ids:
        ids = ids[:ids.index(EOS)]
    return "".join(TARGET_VOCAB[i] for i in ids)


@torch.no_grad()
def greedy_decode(model, sources, lengths, max_steps=MAX_DIGITS + 2):
    state = model.encoder(sources, lengths)
    token = torch.full((len(sources), 1), SOS, device=sources.device)
    finished = torch.zeros(len(sources), dtype=torch.bool, device=sources.device)
    written = []
    for _ in range(max_steps):
        logits, state = model.decoder(token, state)           # one step for the whole batch
        token = logits.argmax(-1).masked_fill(finished[:, None], PAD)  # finished rows only pad
        written.append(token)
        finished |= token[:, 0] == EOS                          # each row ends at its own <eos>
        if finished.all():
            break
    return [to_digits(row) for row in torch.cat(written, dim=1).tolist()]


# %% evaluate
def bleu2(hypothesis, reference):
    # sentence-level BLEU with unigrams and bigrams: geometric mean of clipped precisions x brevity penalty
    if not hypothesis:
        return 0.0
    orders = min(2, len(reference))
    log_precision = 0.0
    for n in range(1, orders + 1):
        hypothesis_grams = Counter(tuple(hypothesis[i:i + n]) for i in range(len(hypothesis) - n + 1))
        reference_grams = Counter(tuple(reference[i:i + n]) for i in range(len(reference) - n + 1))
        matches = sum(min(count, reference_grams[gram]) for gram, count in hypothesis_grams.items())
        total = sum(hypothesis_grams.values())
        if n > 1:  # add-one smoothing
            matches, total = matches + 1, total + 1
        if matches == 0:
            return 0.0
        log_precision += math.log(matches / total) / orders
    return min(1.0, math.exp(1 - len(reference) / len(hypothesis))) * math.exp(log_precision)


def evaluate(model, pairs=test_pairs, sources=test_sources, lengths=test_lengths):
    # greedy outputs; exact match and BLEU-2 per source length in words
    outputs = []
    for start in range(0, len(pairs), 1000):
        outputs += greedy_decode(model, sources[start:start + 1000], lengths[start:start + 1000])
    exact, bleu = defaultdict(list), defaultdict(list)
    for (source, target), output in zip(pairs, outputs):
        exact[len(source)].append(output == "".join(target))
        bleu[len(source)].append(bleu2(output, "".join(target)))
    by_length = sorted(exact)
    return ({n: sum(exact[n]) / len(exact[n]) for n in by_length},
            {n: sum(bleu[n]) / len(bleu[n]) for n in by_length}, outputs)


# %% plot
def plot_by_length(ax, accuracy, bleu, title, band=None):
    # band: optional (low, high) dicts of exact match and of BLEU-2, drawn as shaded ranges
    lengths = list(accuracy)
    ax.plot(lengths, list(accuracy.values()), "o-", ms=4, label="exact match")
    ax.plot(lengths, list(bleu.values()), "s--", ms=4, label="BLEU-2")
    if band is not None:
        (exact_low, exact_high), (bleu_low, bleu_high) = band
        ax.fill_between(lengths, [exact_low[n] for n in lengths], [exact_high[n] for n in lengths], color="C0", alpha=0.2)
        ax.fill_between(lengths, [bleu_low[n] for n in lengths], [bleu_high[n] for n in lengths], color="C1", alpha=0.2)
    ax.set_xlabel("input length (words)")
    ax.set_ylabel("score on the test set")
    ax.set_ylim(0, 1.03)
    ax.set_xticks(range(1, max(lengths) + 1, 2))
    ax.set_title(title)
    ax.legend(fontsize=8, loc="lower left")
