"""NumPy / scikit-learn reference for `pnpm bench:analysis` (run with Debian's /usr/bin/python3).

Reads the raw arrays that bench/analysis.ts wrote, runs the paper's computations the way the released code
does them (sklearn PCA(2) fit per layer, projections by raw dot products; the KL estimator of
calculate_KL.py vectorised; rank shift with bincount), times them, and prints one JSON object.
"""
import json
import sys
import time

import numpy as np
from sklearn import __version__ as sklearn_version
from sklearn.decomposition import PCA


def pca_shift(base, tuned):
    originals, updateds, shifts = [], [], []
    for layer in range(base.shape[0]):
        feats = base[layer]
        pca = PCA(n_components=2)
        pca.fit(feats)
        comps = pca.components_
        pc1_o = np.mean(feats @ comps[0])
        pc2_o = np.mean(feats @ comps[1])
        feats_u = tuned[layer]
        pc1_u = np.mean(feats_u @ comps[0])
        pc2_u = np.mean(feats_u @ comps[1])
        originals.append((0.0, pc2_o))
        updateds.append((pc1_u - pc1_o, pc2_u))
        shifts.append(float(np.hypot(pc1_u - pc1_o, pc2_u - pc2_o)))
    z_orig = np.mean(np.array(originals), axis=0)
    z_upd = np.mean(np.array(updateds), axis=0)
    return float(np.linalg.norm(z_upd - z_orig)), [list(map(float, p)) for p in updateds], shifts


def token_shift(offsets, lp_tuned, lp_base, rank_tuned, rank_base, ids, top=20):
    eps = 1e-10
    diff = np.log(np.exp(lp_tuned) + eps) - np.log(np.exp(lp_base) + eps)
    lengths = np.diff(offsets)
    per_sample = np.add.reduceat(diff, offsets[:-1]) / lengths
    kl = abs(float(np.mean(per_sample)))
    delta = np.abs(rank_base - rank_tuned)
    mean_rank_shift = float(delta.mean())
    changed = delta != 0
    shifted_share = float(changed.mean())
    size = int(ids.max()) + 1
    shifted = np.bincount(ids[changed], minlength=size)
    shift_sum = np.bincount(ids[changed], weights=delta[changed], minlength=size)
    order = np.lexsort((-shift_sum, -shifted))[:top]
    order = order[shifted[order] > 0]
    return kl, mean_rank_shift, shifted_share, [int(i) for i in order], [int(shifted[i]) for i in order]


def main():
    folder, layers, texts, hidden, samples, tokens, repeats = sys.argv[1:8]
    layers, texts, hidden, samples, tokens, repeats = map(int, (layers, texts, hidden, samples, tokens, repeats))
    base = np.fromfile(f"{folder}/base.f32", dtype=np.float32).reshape(layers, texts, hidden)
    tuned = np.fromfile(f"{folder}/tuned.f32", dtype=np.float32).reshape(layers, texts, hidden)
    offsets = np.fromfile(f"{folder}/offsets.i32", dtype=np.int32).astype(np.int64)
    lp_tuned = np.fromfile(f"{folder}/lp_tuned.f64", dtype=np.float64)
    lp_base = np.fromfile(f"{folder}/lp_base.f64", dtype=np.float64)
    rank_tuned = np.fromfile(f"{folder}/rank_tuned.i32", dtype=np.int32).astype(np.int64)
    rank_base = np.fromfile(f"{folder}/rank_base.i32", dtype=np.int32).astype(np.int64)
    ids = np.fromfile(f"{folder}/ids.i32", dtype=np.int32).astype(np.int64)
    assert offsets[-1] == tokens and len(offsets) == samples + 1

    pca_times, token_times = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        d, updated, shifts = pca_shift(base, tuned)
        pca_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        kl, mrs, share, top_ids, top_counts = token_shift(offsets, lp_tuned, lp_base, rank_tuned, rank_base, ids)
        token_times.append(time.perf_counter() - start)
    print(json.dumps({
        "numpy": np.__version__, "sklearn": sklearn_version,
        "pca_seconds": min(pca_times), "token_seconds": min(token_times),
        "d": d, "updated": updated, "shifts": shifts,
        "kl": kl, "mean_rank_shift": mrs, "shifted_share": share, "top_ids": top_ids, "top_counts": top_counts,
    }))


if __name__ == "__main__":
    main()
