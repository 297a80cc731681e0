#!/usr/bin/env python3
"""Peers for the workloads beyond the first derivative (issue #9), in the format of ../shared/bench/peers.py:
one line `PEER WORKLOAD MS` (median milliseconds), or `PEER WORKLOAD failed: REASON`.

    python3 scripts/peers_higher_order.py [WORKLOAD ...]

Workloads: mlp-grad, hvp-mlp, jacobian-mlp-rev, jacobian-mlp-fwd, checkpoint-mlp, checkpoint-mlp-plain.
PyTorch uses torch.func (grad, jvp, jacrev, jacfwd) and torch.utils.checkpoint on THREADS threads (default 2);
JAX jits each function. The MLP is the one of mlp-step (784-512-512-10, batch 128, float32); the deep MLP is
64 tanh layers of width 1024, batch 256, checkpointed every 8 layers. For checkpointing, the peak resident
memory of a fresh process running one variant is printed as `PEER WORKLOAD-peak-mb MB`.
"""
import os, sys, time, subprocess, resource
import numpy as np

THREADS = int(os.environ.get("THREADS", "2"))
B, D, H, C = 128, 784, 512, 10
rng = np.random.default_rng(0)
X = rng.standard_normal((B, D)).astype(np.float32)
Y = rng.integers(0, C, size=B)
def init(fan_in, fan_out):
    return (rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)).astype(np.float32)
W0 = [init(D, H), np.zeros(H, np.float32), init(H, H), np.zeros(H, np.float32), init(H, C), np.zeros(C, np.float32)]
V0 = [np.random.default_rng(7).standard_normal(w.shape).astype(np.float32) for w in W0]


def median_ms(step, runs, warm):
    for _ in range(warm):
        step()
    ts = []
    for _ in range(runs):
        t = time.perf_counter(); step(); ts.append(time.perf_counter() - t)
    return 1000 * float(np.median(ts))


def torch_workload(name):
    import torch
    from torch.func import grad, jvp, jacrev, jacfwd
    torch.set_num_threads(THREADS)
    ps = tuple(torch.tensor(w) for w in W0)
    vs = tuple(torch.tensor(v) for v in V0)
    x = torch.tensor(X); y = torch.tensor(Y)
    def loss(ps):
        W1, b1, W2, b2, W3, b3 = ps
        h = torch.relu(x @ W1 + b1); h = torch.relu(h @ W2 + b2)
        return torch.nn.functional.cross_entropy(h @ W3 + b3, y)
    def logits(row):
        W1, b1, W2, b2, W3, b3 = ps
        h = torch.relu(row @ W1 + b1); h = torch.relu(h @ W2 + b2)
        return h @ W3 + b3
    row = x[:1]
    if name == "mlp-grad":
        g = grad(loss); return median_ms(lambda: g(ps), 40, 5)
    if name == "hvp-mlp":
        def hvp(): return jvp(grad(loss), (ps,), (vs,))[1]
        return median_ms(hvp, 20, 3)
    if name == "jacobian-mlp-rev":
        j = jacrev(logits); return median_ms(lambda: j(row), 40, 5)
    if name == "jacobian-mlp-fwd":
        j = jacfwd(logits); return median_ms(lambda: j(row), 5, 1)
    if name in ("checkpoint-mlp", "checkpoint-mlp-plain"):
        from torch.utils.checkpoint import checkpoint
        g = torch.Generator().manual_seed(3)
        ws = [torch.randn(1024, 1024, generator=g) / 32 for _ in range(64)]
        for w in ws: w.requires_grad_(True)
        xx = torch.randn(256, 1024, generator=g)
        def seg(h, *w):
            for wi in w: h = torch.tanh(h @ wi)
            return h
        def step():
            h = xx
            if name == "checkpoint-mlp":
                for s in range(0, 64, 8): h = checkpoint(seg, h, *ws[s:s + 8], use_reentrant=False)
            else:
                h = seg(h, *ws)
            h.mean().backward()
            with torch.no_grad():
                for w in ws: w -= 0.01 * w.grad; w.grad = None
        return median_ms(step, 3, 1)
    raise KeyError(name)


def jax_workload(name):
    import jax, jax.numpy as jnp
    ps = tuple(jnp.array(w) for w in W0)
    vs = tuple(jnp.array(v) for v in V0)
    x = jnp.array(X); y = jnp.array(Y)
    def loss(ps):
        W1, b1, W2, b2, W3, b3 = ps
        h = jax.nn.relu(x @ W1 + b1); h = jax.nn.relu(h @ W2 + b2)
        z = h @ W3 + b3
        return -jnp.mean(jax.nn.log_softmax(z)[jnp.arange(B), y])
    def logits(row):
        W1, b1, W2, b2, W3, b3 = ps
        h = jax.nn.relu(row @ W1 + b1); h = jax.nn.relu(h @ W2 + b2)
        return h @ W3 + b3
    row = x[:1]
    def timed(f, *args, runs=40, warm=5):
        f = jax.jit(f)
        return median_ms(lambda: jax.block_until_ready(f(*args)), runs, warm)
    if name == "mlp-grad":
        return timed(jax.grad(loss), ps)
    if name == "hvp-mlp":
        return timed(lambda ps, vs: jax.jvp(jax.grad(loss), (ps,), (vs,))[1], ps, vs, runs=20, warm=3)
    if name == "jacobian-mlp-rev":
        return timed(jax.jacrev(logits), row)
    if name == "jacobian-mlp-fwd":
        return timed(jax.jacfwd(logits), row, runs=5, warm=1)
    if name in ("checkpoint-mlp", "checkpoint-mlp-plain"):
        key = jax.random.PRNGKey(3)
        ws = [jax.random.normal(k, (1024, 1024)) / 32 for k in jax.random.split(key, 64)]
        xx = jax.random.normal(key, (256, 1024))
        def seg(h, w):
            for wi in w: h = jnp.tanh(h @ wi)
            return h
        def f(ws):
            h = xx
            for s in range(0, 64, 8):
                h = (jax.checkpoint(seg) if name == "checkpoint-mlp" else seg)(h, ws[s:s + 8])
            return h.mean()
        def step(ws):
            g = jax.grad(f)(ws)
            return [w - 0.01 * gi for w, gi in zip(ws, g)]
        return timed(step, ws, runs=3, warm=1)
    raise KeyError(name)


ALL = ["mlp-grad", "hvp-mlp", "jacobian-mlp-rev", "jacobian-mlp-fwd", "checkpoint-mlp", "checkpoint-mlp-plain"]
if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--one":
        # A fresh process for one (peer, workload): prints its time and its peak resident memory.
        peer, name = sys.argv[2], sys.argv[3]
        ms = (torch_workload if peer == "torch" else jax_workload)(name)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{peer} {name} {ms:.3f}")
        print(f"{peer} {name}-peak-mb {peak:.0f}")
        sys.exit(0)
    for name in (sys.argv[1:] or ALL):
        for peer in ("torch", "jax"):
            r = subprocess.run([sys.executable, __file__, "--one", peer, name], capture_output=True, text=True)
            if r.returncode == 0:
                print(r.stdout.strip(), flush=True)
            else:
                reason = (r.stderr.strip().splitlines() or ["unknown"])[-1]
                print(f"{peer} {name} failed: {reason}", flush=True)
