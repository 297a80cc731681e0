#!/usr/bin/env python3
"""Peers for the user-style workloads of issue #10, in the format of ../shared/bench/peers.py: one line
`PEER WORKLOAD MS` (median milliseconds) or `PEER WORKLOAD failed: REASON`.

    python3 scripts/peers_general.py [WORKLOAD ...]

Workloads (forward + backward unless said): broadcast-f64, elementary-f64, batched-matmul-f64, attention-block,
dgemm-1024 (product only; numpy too). PyTorch on THREADS threads (default 2); JAX jits each function.
"""
import os, sys, time
import numpy as np

THREADS = int(os.environ.get("THREADS", "2"))


def median_ms(step, runs=10, warm=2):
    for _ in range(warm):
        step()
    ts = []
    for _ in range(runs):
        t = time.perf_counter(); step(); ts.append(time.perf_counter() - t)
    return 1000 * float(np.median(ts))


rng = np.random.default_rng(0)
X = rng.standard_normal((1, 1000, 64)); MU = rng.standard_normal((100, 1, 64))
A = rng.standard_normal((100, 1000, 64)); B = rng.standard_normal((100, 64, 64))
XA = rng.standard_normal((8, 128, 256)).astype(np.float32)
def w(i, o): return (rng.standard_normal((i, o)) / np.sqrt(i)).astype(np.float32)
PA = [np.ones(256, np.float32), np.zeros(256, np.float32), w(256, 256), w(256, 256), w(256, 256), w(256, 256),
      np.ones(256, np.float32), np.zeros(256, np.float32), w(256, 1024), np.zeros(1024, np.float32), w(1024, 256),
      np.zeros(256, np.float32)]
D1 = rng.random((1024, 1024)); D2 = rng.random((1024, 1024))
E = rng.uniform(0.1, 3, 1_000_000)


def torch_run(name):
    import torch
    torch.set_num_threads(THREADS)
    if name == "broadcast-f64":
        x = torch.tensor(X); mu = torch.tensor(MU, requires_grad=True)
        def step():
            mu.grad = None
            torch.log(torch.exp(-(x - mu) ** 2).sum(2)).sum().backward()
        return median_ms(step)
    if name == "elementary-f64":
        x = torch.tensor(E, requires_grad=True)
        def step():
            x.grad = None
            (torch.sin(x) * torch.log(x) + torch.tanh(x) * torch.cos(x) + torch.tan(x / 4)).sum().backward()
        return median_ms(step)
    if name == "batched-matmul-f64":
        a = torch.tensor(A, requires_grad=True); b = torch.tensor(B, requires_grad=True)
        def step():
            a.grad = None; b.grad = None
            c = a @ b.transpose(1, 2); (c * c).sum().backward()
        return median_ms(step)
    if name == "attention-block":
        ps = [torch.tensor(p, requires_grad=True) for p in PA]; x = torch.tensor(XA)
        def ln(h, g, b):
            m = h.mean(-1, keepdim=True); c = h - m; v = (c * c).mean(-1, keepdim=True)
            return c / torch.sqrt(v + 1e-5) * g + b
        def split(t): return t.reshape(8, 128, 4, 64).transpose(1, 2)
        def step():
            for p in ps: p.grad = None
            n = ln(x, ps[0], ps[1])
            q, k, v = split(n @ ps[2]), split(n @ ps[3]), split(n @ ps[4])
            att = torch.softmax(q @ k.transpose(-1, -2) / 8.0, -1) @ v
            h = x + att.transpose(1, 2).reshape(8, 128, 256) @ ps[5]
            m = ln(h, ps[6], ps[7])
            out = h + torch.relu(m @ ps[8] + ps[9]) @ ps[10] + ps[11]
            out.mean().backward()
        return median_ms(step)
    if name == "dgemm-1024":
        a = torch.tensor(D1); b = torch.tensor(D2)
        return median_ms(lambda: a @ b)
    raise KeyError(name)


def jax_run(name):
    import jax, jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)
    def timed(f, *args):
        f = jax.jit(f)
        return median_ms(lambda: jax.block_until_ready(f(*args)))
    if name == "broadcast-f64":
        x = jnp.array(X)
        return timed(jax.grad(lambda mu: jnp.log(jnp.exp(-(x - mu) ** 2).sum(2)).sum()), jnp.array(MU))
    if name == "elementary-f64":
        return timed(jax.grad(lambda x: (jnp.sin(x) * jnp.log(x) + jnp.tanh(x) * jnp.cos(x) + jnp.tan(x / 4)).sum()),
                     jnp.array(E))
    if name == "batched-matmul-f64":
        def f(a, b):
            c = a @ jnp.swapaxes(b, 1, 2); return (c * c).sum()
        return timed(jax.grad(f, argnums=(0, 1)), jnp.array(A), jnp.array(B))
    if name == "attention-block":
        x = jnp.array(XA)
        def ln(h, g, b):
            m = h.mean(-1, keepdims=True); c = h - m; v = (c * c).mean(-1, keepdims=True)
            return c / jnp.sqrt(v + 1e-5) * g + b
        def split(t): return jnp.swapaxes(t.reshape(8, 128, 4, 64), 1, 2)
        def f(ps):
            n = ln(x, ps[0], ps[1])
            q, k, v = split(n @ ps[2]), split(n @ ps[3]), split(n @ ps[4])
            att = jax.nn.softmax(q @ jnp.swapaxes(k, -1, -2) / 8.0, -1) @ v
            h = x + jnp.swapaxes(att, 1, 2).reshape(8, 128, 256) @ ps[5]
            m = ln(h, ps[6], ps[7])
            return (h + jax.nn.relu(m @ ps[8] + ps[9]) @ ps[10] + ps[11]).mean()
        return timed(jax.grad(f), [jnp.array(p) for p in PA])
    if name == "dgemm-1024":
        return timed(lambda a, b: a @ b, jnp.array(D1), jnp.array(D2))
    raise KeyError(name)


def numpy_run(name):
    if name == "dgemm-1024":
        return median_ms(lambda: D1 @ D2)
    raise KeyError(name)


ALL = ["broadcast-f64", "elementary-f64", "batched-matmul-f64", "attention-block", "dgemm-1024"]
if __name__ == "__main__":
    for name in (sys.argv[1:] or ALL):
        for peer, run in (("torch", torch_run), ("jax", jax_run), ("numpy", numpy_run)):
            if peer == "numpy" and name != "dgemm-1024":
                continue
            try:
                print(f"{peer} {name} {run(name):.3f}", flush=True)
            except Exception as e:  # a peer that cannot run a workload says so
                print(f"{peer} {name} failed: {type(e).__name__}: {e}", flush=True)
