#!/usr/bin/env python3
"""GradBench's LSTM and GMM objectives (ADBench `lstm`, `gmm`) in JAX and PyTorch, with the data the
`backprop-bench` workloads use, in the format of ../shared/bench/peers.py: one line `PEER WORKLOAD MS`.

    python3 scripts/peers_gradbench.py [WORKLOAD ...]          # lstm-grad lstm-grad-large gmm-grad
    python3 scripts/peers_gradbench.py --reference              # the values the Swift checks compare with

JAX: jit of value_and_grad, the LSTM over time with lax.scan (GradBench's JAX tool); the compile time is
printed as `jax-compile WORKLOAD MS`. PyTorch on THREADS threads (default 2), eager, a Python loop over time.
Data: deterministic formulas (no random generator), identical to Sources/backprop-bench/GradBenchWorkloads.swift.
"""
import math, os, sys, time
import numpy as np

THREADS = int(os.environ.get("THREADS", "2"))
SIZES = {"lstm-grad": (2, 1024), "lstm-grad-large": (4, 4096)}
B = 14


def median_ms(step, runs, warm=1):
    for _ in range(warm):
        step()
    ts = []
    for _ in range(runs):
        t = time.perf_counter(); step(); ts.append(time.perf_counter() - t)
    return 1000 * float(np.median(ts))


def lstm_data(l, c):
    i, j = np.meshgrid(np.arange(2 * l), np.arange(4 * B), indexing="ij")
    main = 0.3 * np.sin(0.7 + 0.37 * i + 0.11 * j)
    i, j = np.meshgrid(np.arange(3), np.arange(B), indexing="ij")
    extra = 0.5 + 0.3 * np.cos(0.5 + 0.21 * i + 0.13 * j)
    i, j = np.meshgrid(np.arange(2 * l), np.arange(B), indexing="ij")
    state = 0.2 * np.sin(0.3 * i + 0.17 * j)
    t, j = np.meshgrid(np.arange(c), np.arange(B), indexing="ij")
    sequence = 0.8 * np.sin(0.05 * t + 0.29 * j)
    return main, extra, state, sequence


GMM = dict(d=64, k=100, n=1000)


def gmm_data():
    d, k, n = GMM["d"], GMM["k"], GMM["n"]
    i, j = np.meshgrid(np.arange(n), np.arange(d), indexing="ij")
    x = np.sin(0.013 * i + 0.7 * j) + 0.3 * np.cos(0.029 * i - 0.31 * j)
    alpha = 0.1 * np.sin(0.5 * np.arange(k))
    i, j = np.meshgrid(np.arange(k), np.arange(d), indexing="ij")
    mu = np.sin(0.11 * i + 0.37 * j)
    q = 0.1 * np.cos(0.23 * i + 0.41 * j)
    i, p = np.meshgrid(np.arange(k), np.arange(d * (d - 1) // 2), indexing="ij")
    lt = 0.05 * np.sin(0.07 * i + 0.013 * p)
    return x, alpha, mu, q, lt


def jax_lstm(l, c):
    import jax, jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)
    main, extra, state, sequence = (jnp.array(a) for a in lstm_data(l, c))

    def cell(weight, bias, hidden, cellstate, x):
        h = hidden.shape[0]
        forget = jax.nn.sigmoid(x * weight[:h] + bias[:h])
        ingate = jax.nn.sigmoid(hidden * weight[h:2 * h] + bias[h:2 * h])
        outgate = jax.nn.sigmoid(x * weight[2 * h:3 * h] + bias[2 * h:3 * h])
        change = jnp.tanh(hidden * weight[3 * h:] + bias[3 * h:])
        cellstate = cellstate * forget + ingate * change
        return outgate * jnp.tanh(cellstate), cellstate

    def objective(main, extra, state, sequence):
        def step(carry, pair):
            s, total = carry
            x, ygold = pair
            x = x * extra[0]
            new = []
            for i in range(0, s.shape[0], 2):
                hidden, cellstate = cell(main[i], main[i + 1], s[i], s[i + 1], x)
                new += [hidden, cellstate]
                x = hidden
            ypred = x * extra[1] + extra[2]
            ynorm = ypred - jnp.log(jnp.sum(jnp.exp(ypred)) + 2)
            return (jnp.stack(new), total + jnp.sum(ygold * ynorm)), None
        (_, total), _ = jax.lax.scan(step, (state, 0.0), (sequence[:-1], sequence[1:]))
        return -total / ((sequence.shape[0] - 1) * sequence.shape[1])

    f = jax.jit(jax.value_and_grad(objective, argnums=(0, 1)))
    return f, (main, extra, state, sequence)


def jax_gmm():
    import jax, jax.numpy as jnp
    from jax.scipy.special import logsumexp, multigammaln
    jax.config.update("jax_enable_x64", True)
    d, k, n = GMM["d"], GMM["k"], GMM["n"]
    x, alpha, mu, q, lt = (jnp.array(a) for a in gmm_data())
    gamma, m = 1.0, 0

    def objective(alpha, mu, q, l):
        qdiags = jnp.exp(q)
        sum_qs = jnp.sum(q, axis=1)
        cols = jnp.repeat(jnp.arange(d - 1), jnp.arange(d - 1, 0, -1), total_repeat_length=d * (d - 1) // 2)
        rows = jnp.concatenate([jnp.arange(c + 1, d) for c in range(d - 1)])
        ls = jnp.zeros((k, d, d), dtype=l.dtype).at[:, rows, cols].set(l)
        xc = x[:, None, :] - mu[None, ...]
        lxc = qdiags * xc + jnp.einsum("ijk,mik->mij", ls, xc)
        inner = alpha + sum_qs - 0.5 * jnp.sum(lxc ** 2, axis=2)
        slse = jnp.sum(logsumexp(inner, axis=1))
        nn = d + m + 1
        prior = -jnp.sum(0.5 * gamma * gamma * (jnp.sum(qdiags ** 2, axis=1) + jnp.sum(l ** 2, axis=1)) - m * sum_qs) \
            + k * (nn * d * jnp.log(gamma / math.sqrt(2)) - multigammaln(0.5 * nn, d))
        return -n * d * 0.5 * math.log(2 * math.pi) + slse - n * logsumexp(alpha, axis=0) + prior

    f = jax.jit(jax.value_and_grad(objective, argnums=(0, 1, 2, 3)))
    return f, (alpha, mu, q, lt)


def torch_lstm(l, c):
    import torch
    torch.set_num_threads(THREADS)
    main, extra, state, sequence = (torch.tensor(a) for a in lstm_data(l, c))

    def run():
        w = main.clone().requires_grad_(True); e = extra.clone().requires_grad_(True)
        s = [state[i] for i in range(2 * l)]
        total = torch.zeros((), dtype=torch.float64)
        for t in range(c - 1):
            x = sequence[t] * e[0]
            for i in range(0, 2 * l, 2):
                h = B
                forget = torch.sigmoid(x * w[i, :h] + w[i + 1, :h])
                ingate = torch.sigmoid(s[i] * w[i, h:2 * h] + w[i + 1, h:2 * h])
                outgate = torch.sigmoid(x * w[i, 2 * h:3 * h] + w[i + 1, 2 * h:3 * h])
                change = torch.tanh(s[i] * w[i, 3 * h:] + w[i + 1, 3 * h:])
                s[i + 1] = s[i + 1] * forget + ingate * change
                s[i] = outgate * torch.tanh(s[i + 1])
                x = s[i]
            ypred = x * e[1] + e[2]
            ynorm = ypred - torch.log(torch.sum(torch.exp(ypred)) + 2)
            total = total + torch.sum(sequence[t + 1] * ynorm)
        loss = -total / ((c - 1) * B)
        loss.backward()
        return loss
    return run


def reference():
    for name, (l, c) in SIZES.items():
        f, args = jax_lstm(l, c)
        value, gradients = f(*args)
        print(f"{name}: value {float(value)!r} checksums {[checksum(g) for g in gradients]!r}")
    f, args = jax_gmm()
    value, gradients = f(*args)
    print(f"gmm-grad: value {float(value)!r} checksums {[checksum(g) for g in gradients]!r}")


def checksum(g):
    """Σ g[i]·sin(i + 1) over the row-major elements: one number that every element moves."""
    flat = np.asarray(g).reshape(-1)
    return float(np.sum(flat * np.sin(np.arange(flat.size) + 1.0)))


def main():
    if "--reference" in sys.argv:
        reference()
        return
    names = [a for a in sys.argv[1:] if not a.startswith("-")] or ["lstm-grad", "lstm-grad-large", "gmm-grad"]
    for name in names:
        try:
            import jax
            t = time.perf_counter()
            if name in SIZES:
                f, args = jax_lstm(*SIZES[name])
            else:
                f, args = jax_gmm()
            jax.block_until_ready(f(*args))
            print(f"jax-compile {name} {1000 * (time.perf_counter() - t):.3f}")
            print(f"jax {name} {median_ms(lambda: jax.block_until_ready(f(*args)), runs=5):.3f}", flush=True)
        except Exception as error:  # a peer that fails is reported, not fatal
            print(f"jax {name} failed: {error}")
        if name in SIZES:
            try:
                print(f"torch {name} {median_ms(torch_lstm(*SIZES[name]), runs=3 if name == 'lstm-grad' else 1, warm=0):.3f}", flush=True)
            except Exception as error:
                print(f"torch {name} failed: {error}")


if __name__ == "__main__":
    main()
