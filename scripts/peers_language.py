#!/usr/bin/env python3
"""PyTorch peer for the language-model workloads of issue #22, in the format of ../shared/bench/peers.py: one
line `PEER WORKLOAD MS` (median milliseconds), `PEER WORKLOAD-peak-mb MB`, or `PEER WORKLOAD failed: REASON`.

    python3 scripts/peers_language.py [lm-step] [lstm-lm-step]
    python3 scripts/peers_language.py --train corpora/words.txt --word-list --model transformer --epochs 2 \
        --steps-per-epoch 500 [--seed 0]

Workloads (PyTorch on THREADS threads, default 2; median of 20 runs after 5 warm-up), as backprop-bench's:
- lm-step: one AdamW step (lr 1e-3, PyTorch's defaults otherwise) of the character Transformer of
  char_models.py (vocabulary 65, context 64, 2 blocks, width 128, 4 heads, GPT-2's initialisation) on one fixed
  batch of 32 windows of 64 random characters, mean cross-entropy of the next character, float32.
- lstm-lm-step: the same for CharRNN("lstm", 1 layer, width 256).

--train trains the same model as `backprop train --data FILE --model KIND` with the same defaults (context 64,
2 layers, width 128 for the Transformer and 256 otherwise, 4 heads, AdamW lr 1e-3, batch 32, validation
fraction 0.1) on exactly the same training windows in the same order and evaluates on the same validation
windows: the split and the windows' order are computed with Backprop's own seeded generator (xoshiro256**
seeded by SplitMix64, Lemire's bounded integers, Fisher-Yates), re-implemented below. Only the initial weights
differ (drawn from the same distributions), unless --init gives a checkpoint to start from: Backprop's own
initial weights, written by one step at a negligible learning rate, which leaves them unchanged in float32:

    backprop train --data FILE --model transformer --epochs 1 --steps-per-epoch 1 --lr 1e-30 --save init.safetensors

It prints one JSON line per epoch and a last one with the final validation loss per character.
"""
import argparse, json, math, os, resource, sys, time
import numpy as np

THREADS = int(os.environ.get("THREADS", "2"))
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
MASK = (1 << 64) - 1


class SeededGenerator:
    """Backprop's SeededGenerator: xoshiro256** seeded through SplitMix64."""

    def __init__(self, seed):
        z = seed & MASK
        state = []
        for _ in range(4):
            z = (z + 0x9E3779B97F4A7C15) & MASK
            x = z
            x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
            x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
            state.append(x ^ (x >> 31))
        self.s = state

    def next(self):
        s = self.s
        rotl = lambda x, k: ((x << k) | (x >> (64 - k))) & MASK
        result = (rotl((s[1] * 5) & MASK, 7) * 9) & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result


def uniform_index(bound, generator):
    """Lemire's multiply-and-reject, as Backprop's uniformIndex(below:using:)."""
    product = generator.next() * bound
    low = product & MASK
    if low < bound:
        threshold = ((1 << 64) - bound) % bound
        while low < threshold:
            product = generator.next() * bound
            low = product & MASK
    return product >> 64


def seeded_permutation(count, seed):
    order = list(range(count))
    if count < 2:
        return order
    generator = SeededGenerator(seed)
    for i in range(count - 1, 0, -1):
        j = uniform_index(i + 1, generator)
        order[i], order[j] = order[j], order[i]
    return order


def split_corpus(path, word_list, fraction, seed, block=1024):
    """TextCorpus(contentsOf:shape:).split(validationFraction:seed:): token lists and the vocabulary."""
    with open(path, "rb") as f:
        data = f.read()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    text = data.replace(b"\r\n", b"\n").decode("utf-8")
    if word_list:
        pieces = [line.strip() for line in text.split("\n") if line.strip()]
    else:
        pieces = [text]
    vocabulary = sorted(set("".join(pieces)) | {"\n"})
    index = {c: i for i, c in enumerate(vocabulary)}
    count = len(pieces) if word_list else None
    if word_list:
        order = seeded_permutation(len(pieces), seed)
        held = 0 if count < 2 else min(count - 1, max(1, math.floor(count * fraction + 0.5)))
        heldout = set(range(held))
        training, validation = [index["\n"]], [index["\n"]]
        for position, i in enumerate(order):
            word = [index[c] for c in pieces[i]] + [index["\n"]]
            (validation if position in heldout else training).extend(word)
    else:
        tokens = [index[c] for c in "\n".join(pieces)]
        block = min(block, max(1, len(tokens) // 20))
        blocks = [(s, min(len(tokens), s + block)) for s in range(0, len(tokens), block)]
        order = seeded_permutation(len(blocks), seed)
        held = 0 if len(blocks) < 2 else min(len(blocks) - 1, max(1, math.floor(len(blocks) * fraction + 0.5)))
        heldout = set(order[:held])
        training, validation = [], []
        for k, (a, b) in enumerate(blocks):
            (validation if k in heldout else training).extend(tokens[a:b])
    return np.array(training, dtype=np.int64), np.array(validation, dtype=np.int64), vocabulary


def epoch_starts(count, context, epoch, seed):
    """TextWindows.epochStarts(epoch:seed:)."""
    generator = SeededGenerator((seed + epoch * 0x9E3779B97F4A7C15) & MASK)
    offset = generator.next() % min(context, count - context)
    windows = (count - 1 - offset) // context
    order = seeded_permutation(windows, generator.next())
    return [offset + k * context for k in order]


def evaluation_starts(count, context, limit=2048):
    windows = (count - 1) // context
    if windows <= limit:
        return [k * context for k in range(windows)]
    return [(k * windows // limit) * context for k in range(limit)]


def make_model(kind, vocabulary, context, layers, width, heads):
    from char_models import CharRNN, CharTransformer, init_like_backprop
    if kind == "transformer":
        return init_like_backprop(CharTransformer(vocabulary, context=context, layers=layers, width=width, heads=heads))
    return CharRNN(vocabulary, kind, layers=layers, width=width)


def batch(tokens, starts, context):
    import torch
    rows = np.stack([tokens[s:s + context + 1] for s in starts])
    return torch.from_numpy(rows[:, :-1]), torch.from_numpy(rows[:, 1:])


def train(args):
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(THREADS)
    torch.manual_seed(args.seed)
    training, validation, vocabulary = split_corpus(args.train, args.word_list, args.fraction, args.seed)
    width = args.width or (128 if args.model == "transformer" else 256)
    model = make_model(args.model, len(vocabulary), args.context, args.layers, width, args.heads)
    if args.init:
        # Backprop's initial weights (a checkpoint's tensors under the same names), so both sides start alike.
        from safetensors.torch import load_file
        stored = load_file(args.init)
        model.load_state_dict({name: stored[name] for name in model.state_dict()}, strict=True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr)
    v = len(vocabulary)

    def evaluate():
        model.eval()
        starts = evaluation_starts(len(validation), args.context)
        total, count = 0.0, 0
        with torch.no_grad():
            for first in range(0, len(starts), args.batch_size):
                x, y = batch(validation, starts[first:first + args.batch_size], args.context)
                total += F.cross_entropy(model(x).reshape(-1, v), y.reshape(-1), reduction="sum").item()
                count += y.numel()
        model.train()
        return total / count

    seconds = 0.0
    for epoch in range(args.epochs):
        starts = epoch_starts(len(training), args.context, epoch, args.seed)
        full = len(starts) // args.batch_size
        batches = [starts[k * args.batch_size:(k + 1) * args.batch_size] for k in range(full)] if full else [starts]
        if args.steps_per_epoch:
            batches = batches[:args.steps_per_epoch]
        losses = []
        begin = time.perf_counter()
        for starts_of_batch in batches:
            x, y = batch(training, starts_of_batch, args.context)
            loss = F.cross_entropy(model(x).reshape(-1, v), y.reshape(-1))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        seconds += time.perf_counter() - begin
        print(json.dumps({"epoch": epoch + 1, "train_loss": round(float(np.mean(losses)), 5),
                          "validation_loss": round(evaluate(), 5), "seconds": round(seconds, 2)}), flush=True)
    final = evaluate()
    print(json.dumps({"framework": "torch", "model": args.model, "epochs": args.epochs, "validation_loss": round(final, 5),
                      "validation_bits_per_character": round(final / math.log(2), 5), "train_seconds": round(seconds, 2),
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}), flush=True)


def torch_run(name):
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(THREADS)
    torch.manual_seed(0)
    if name == "lm-step":
        model = make_model("transformer", 65, 64, 2, 128, 4)
    elif name == "lstm-lm-step":
        model = make_model("lstm", 65, 64, 1, 256, 4)
    else:
        raise KeyError(name)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    rows = torch.from_numpy(np.random.default_rng(0).integers(0, 65, (32, 65)))
    x, y = rows[:, :-1], rows[:, 1:]

    def step():
        loss = F.cross_entropy(model(x).reshape(-1, 65), y.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    for _ in range(5):
        step()
    times = []
    for _ in range(20):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def gemms():
    """The matrix products of lm-step alone (backprop-bench lm-gemms), medians in milliseconds."""
    import torch
    torch.set_num_threads(THREADS)
    g = torch.Generator().manual_seed(0)
    r = lambda *shape: torch.randn(*shape, generator=g)
    x, hidden, w, w1 = r(2048, 128), r(2048, 512), r(128, 128), r(512, 128)
    q, k, weights = r(128, 64, 32), r(128, 64, 32), r(128, 64, 64)
    products = {
        "x·Wᵀ 2048x128x128": lambda: x @ w.T, "x·W1ᵀ 2048x128→512": lambda: x @ w1.T,
        "h·W2ᵀ 2048x512→128": lambda: hidden @ w1, "gᵀ·x 512x2048x128": lambda: hidden.T @ x,
        "q·kᵀ 128x(64x32x64)": lambda: q @ k.transpose(1, 2), "w·v 128x(64x64x32)": lambda: weights @ k,
    }
    for name, product in products.items():
        print(f"torch lm-gemms {name}: {median_ms(product, 20, 3):.3f}")
    h, w, gs, xs, gates = r(32, 256), r(1024, 256), r(32, 1024), r(2048, 256), r(2048, 1024)
    def steps(product):
        def run():
            for _ in range(64):
                product()
        return run
    products = {
        "64 steps h·Whhᵀ 32x256→1024": steps(lambda: h @ w.T), "64 steps g·Whh 32x1024→256": steps(lambda: gs @ w),
        "x·Wihᵀ 2048x256→1024": lambda: xs @ w.T, "gᵀ·x 1024x2048x256": lambda: gates.T @ xs, "g·Wih 2048x1024→256": lambda: gates @ w,
    }
    for name, product in products.items():
        print(f"torch lstm-gemms {name}: {median_ms(product, 20, 3):.3f}")


def median_ms(step, runs, warm):
    for _ in range(warm):
        step()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


ALL = ["lm-step", "lstm-lm-step"]
if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--train", metavar="FILE")
    parser.add_argument("--word-list", action="store_true")
    parser.add_argument("--model", default="transformer", choices=["transformer", "lstm", "gru", "rnn"])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--steps-per-epoch", type=int)
    parser.add_argument("--context", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--width", type=int)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--fraction", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--init", metavar="CHECKPOINT", help="start from these weights (a backprop checkpoint) instead of fresh ones")
    parser.add_argument("--gemms", action="store_true", help="time lm-step's matrix products alone")
    parser.add_argument("workloads", nargs="*")
    args = parser.parse_args()
    if args.gemms:
        gemms()
        sys.exit(0)
    if args.train:
        train(args)
        sys.exit(0)
    for name in (args.workloads or ALL):
        try:
            print(f"torch {name} {torch_run(name):.3f}", flush=True)
            print(f"torch {name}-peak-mb {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f}", flush=True)
        except Exception as e:  # a peer that cannot run a workload says so
            print(f"torch {name} failed: {type(e).__name__}: {e}", flush=True)
