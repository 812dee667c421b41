"""PyTorch reference for `pnpm bench:nano`: the same Qwen3 architecture as engine-nano, written with plain
torch ops (torch 1.13 has no fused attention), timed for training (fwd+bwd+AdamW), KV-cache generation and
scoring. Prints one JSON object on stdout.

Usage: OPENBLAS_NUM_THREADS=N /usr/bin/python3 bench/nano_torch.py '<json options>'
"""
import json
import math
import sys
import time

import torch

options = json.loads(sys.argv[1])
threads = int(options["threads"])
torch.set_num_threads(threads)
torch.manual_seed(0)
config = options["config"]
V = config["vocab_size"]
D = config["hidden_size"]
F = config["intermediate_size"]
L = config["num_hidden_layers"]
H = config["num_attention_heads"]
KV = config["num_key_value_heads"]
HD = config["head_dim"]
EPS = config["rms_norm_eps"]
THETA = config["rope_theta"]
MAXPOS = config["max_position_embeddings"]


class RMSNorm(torch.nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS) * self.weight


inv_freq = 1.0 / (THETA ** (torch.arange(0, HD, 2, dtype=torch.float32) / HD))
angles = torch.arange(MAXPOS, dtype=torch.float32)[:, None] * inv_freq[None, :]
COS = torch.cat([angles.cos(), angles.cos()], -1)
SIN = torch.cat([angles.sin(), angles.sin()], -1)


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], -1)


def rope(x, positions):
    cos = COS[positions][None, None]
    sin = SIN[positions][None, None]
    return x * cos + rotate_half(x) * sin


class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.input_layernorm = RMSNorm(D)
        self.q_proj = torch.nn.Linear(D, H * HD, bias=False)
        self.k_proj = torch.nn.Linear(D, KV * HD, bias=False)
        self.v_proj = torch.nn.Linear(D, KV * HD, bias=False)
        self.o_proj = torch.nn.Linear(H * HD, D, bias=False)
        self.q_norm = RMSNorm(HD)
        self.k_norm = RMSNorm(HD)
        self.post_attention_layernorm = RMSNorm(D)
        self.gate_proj = torch.nn.Linear(D, F, bias=False)
        self.up_proj = torch.nn.Linear(D, F, bias=False)
        self.down_proj = torch.nn.Linear(F, D, bias=False)

    def forward(self, x, positions, cache=None):
        B, T, _ = x.shape
        n = self.input_layernorm(x)
        q = self.q_norm(self.q_proj(n).view(B, T, H, HD)).transpose(1, 2)
        k = self.k_norm(self.k_proj(n).view(B, T, KV, HD)).transpose(1, 2)
        v = self.v_proj(n).view(B, T, KV, HD).transpose(1, 2)
        q = rope(q, positions)
        k = rope(k, positions)
        if cache is not None:
            if "k" in cache:
                k = torch.cat([cache["k"], k], 2)
                v = torch.cat([cache["v"], v], 2)
            cache["k"], cache["v"] = k, v
        k = k.repeat_interleave(H // KV, 1)
        v = v.repeat_interleave(H // KV, 1)
        scores = q @ k.transpose(-1, -2) / math.sqrt(HD)
        S = k.shape[2]
        if T > 1:
            mask = torch.ones(T, S, dtype=torch.bool).triu(S - T + 1)
            scores = scores.masked_fill(mask, float("-inf"))
        attention = (scores.softmax(-1) @ v).transpose(1, 2).reshape(B, T, H * HD)
        h = x + self.o_proj(attention)
        n2 = self.post_attention_layernorm(h)
        return h + self.down_proj(torch.nn.functional.silu(self.gate_proj(n2)) * self.up_proj(n2))


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(V, D)
        self.layers = torch.nn.ModuleList([Block() for _ in range(L)])
        self.norm = RMSNorm(D)
        for p in self.parameters():
            if p.dim() > 1:
                torch.nn.init.normal_(p, std=0.02)

    def forward(self, ids, start=0, caches=None):
        positions = torch.arange(start, start + ids.shape[1])
        x = self.embed(ids)
        for i, layer in enumerate(self.layers):
            x = layer(x, positions, None if caches is None else caches[i])
        return self.norm(x) @ self.embed.weight.t()


model = Model()
results = {"threads": threads, "torch": torch.__version__}

# training: forward + backward + AdamW on batch x seq tokens
tb, ts, steps = options["train"]["batch"], options["train"]["seq"], options["train"]["steps"]
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
ids = torch.randint(0, 256, (tb, ts + 1))


def train_step():
    logits = model(ids[:, :-1])
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, V), ids[:, 1:].reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()


def best(function, repeats):
    """Fastest of `repeats` runs (the machine is shared: the minimum is the least disturbed)."""
    fastest = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        fastest = min(fastest, time.perf_counter() - started)
    return fastest


train_step()
elapsed = best(train_step, steps)
results["train_tokens_per_s"] = tb * ts / elapsed
results["train_step_ms"] = 1000 * elapsed

# generation: batch x new tokens with a KV cache, sampling at temperature 1
gb, prompt_len, new = options["generate"]["batch"], options["generate"]["prompt"], options["generate"]["newTokens"]
prompt = torch.randint(0, 256, (gb, prompt_len))
with torch.no_grad():
    def generate():
        caches = [dict() for _ in range(L)]
        logits = model(prompt, 0, caches)[:, -1]
        generator = torch.Generator().manual_seed(0)
        for t in range(new):
            token = torch.multinomial(torch.softmax(logits, -1), 1, generator=generator)
            logprob = torch.log_softmax(logits, -1).gather(1, token)
            if t == new - 1:
                break
            logits = model(token, prompt_len + t, caches)[:, -1]
    generate()
    elapsed = best(generate, options["generate"].get("repeats", 2))
results["generate_tokens_per_s"] = gb * new / elapsed

# score: logprob and rank of every token of batch x seq
sb, ss, repeats = options["score"]["batch"], options["score"]["seq"], options["score"]["repeats"]
tokens = torch.randint(0, 256, (sb, ss))
with torch.no_grad():
    def score():
        logits = model(tokens[:, :-1])
        logprobs = torch.log_softmax(logits, -1)
        chosen = logprobs.gather(2, tokens[:, 1:, None])
        ranks = (logprobs > chosen).sum(-1) + 1
        return chosen, ranks
    score()
    elapsed = best(score, repeats)
results["score_tokens_per_s"] = sb * ss / elapsed
print(json.dumps(results))
