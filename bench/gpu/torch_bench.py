#!/usr/bin/env python3
"""Times PyTorch (CUDA, FP32, TF32 off) on the cases GpuCheck wrote to ours.json and prints the ratios.

usage: torch_bench.py OURS_JSON OUT_DIR
Writes OUT_DIR/torch.json and OUT_DIR/gpu-results.md (the table for the README). Ratio = ours / PyTorch
for throughputs (above 1: we are faster)."""
import json, sys, time

import torch
import torch.nn as nn
import torch.nn.functional as F

ours_path, out_dir = sys.argv[1], sys.argv[2]
ours = json.load(open(ours_path))
dev = torch.device("cuda")
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
torch.backends.cudnn.benchmark = True


def best_time(fn, budget=1.0, min_reps=3, max_reps=50):
    fn(); fn(); torch.cuda.synchronize()
    best, reps, start = float("inf"), 0, time.perf_counter()
    while reps < min_reps or (time.perf_counter() - start < budget and reps < max_reps):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record(); fn(); e.record(); torch.cuda.synchronize()
        best = min(best, s.elapsed_time(e) / 1000.0)
        reps += 1
    return best


def measure(case):
    name = case["case"]
    if name.startswith("sgemm_"):
        n = int(name.split("_")[1])
        a, b = torch.randn(n, n, device=dev), torch.randn(n, n, device=dev)
        return 2.0 * n ** 3 / best_time(lambda: a @ b) / 1e9
    if name.startswith("conv_"):
        d = dict(kv.split("=") for kv in case["detail"].split() if "=" in kv)
        parts = case["detail"].split()
        r = int(parts[4].split("x")[0]); stride = int(parts[6])
        n, c, h, k = int(d["N"]), int(d["C"]), int(d["H"]), int(d["K"])
        pad = {7: 3, 3: 1, 1: 0}[r]
        x, w = torch.randn(n, c, h, h, device=dev), torch.randn(k, c, r, r, device=dev) * 0.05
        y = F.conv2d(x, w, stride=stride, padding=pad)
        return 2.0 * y.numel() * c * r * r / best_time(lambda: F.conv2d(x, w, stride=stride, padding=pad)) / 1e9
    if name.startswith("softmax_"):
        rows, cols = map(int, name.split("_")[1].split("x"))
        x = torch.randn(rows, cols, device=dev)
        return 2.0 * rows * cols * 4 / best_time(lambda: torch.softmax(x, 1)) / 1e9
    if name.startswith("lenet_step_b"):
        batch = int(name.split("b")[-1])
        model = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                              nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                              nn.Linear(84, 10)).to(dev)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        x, labels = torch.randn(batch, 1, 28, 28, device=dev), torch.randint(0, 10, (batch,), device=dev)

        def step():
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(x), labels).backward()
            opt.step()
        return 1.0 / best_time(step, budget=2.0)
    return None


rows, theirs = [], {}
for case in ours["cases"]:
    t = measure(case)
    theirs[case["case"]] = t
    ratio = case["ours"] / t if t else float("nan")
    rows.append(f"| {case['case']} | {case['unit']} | {case['ours']:.1f} | {t:.1f} | {ratio:.2f} |")
conf = ours["conformance"]
head = [f"GPU check on {ours['device_name']} ({ours['device']}), {ours['date']}; PyTorch {torch.__version__}, CUDA {torch.version.cuda}, TF32 off",
        f"conformance suite on the device: {conf['passed']} passed, {conf['failed']} failed, {conf['skipped']} skipped", "",
        "| case | unit | ours | PyTorch | ratio |", "| --- | --- | ---: | ---: | ---: |"]
table = "\n".join(head + rows)
print(table)
json.dump(theirs, open(f"{out_dir}/torch.json", "w"), indent=1)
open(f"{out_dir}/gpu-results.md", "w").write(table + "\n")
