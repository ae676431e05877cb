#!/usr/bin/python3
"""Carousel's LSTM engine against PyTorch 1.13 on CPU, on the same shapes, in one run.

Builds with Maven (test-compile, and dependency:build-classpath for the test classpath), runs the
JMH benchmarks io.carousel.bench.LstmStepBench and LstmTrainBench from a private copy of the
compiled classes (java -cp ... org.openjdk.jmh.Main; the same as mvn -Pbench test-compile exec:exec
-Dbench='Lstm(Step|Train)Bench'), then times PyTorch, then prints one table with the ratios.

  * one inference step, batch 1, 1 layer, output size 1, H = 16, 32, 64, 128, D = 1 and 8:
    Carousel's LstmStepper.step against torch.nn.LSTMCell + nn.Linear head called step by step
    under torch.no_grad() (also the cell alone, and the cell in float64);
  * training throughput at H = 32, L = 64, batch 32, D = 1, O = 1, in time steps per second
    (B * L per batch): LstmBptt forward + backward + Adam against nn.LSTM + nn.Linear + MSELoss +
    Adam (zero_grad, forward, loss, backward, step), torch single-threaded and at its default
    thread count.

Carousel computes in float64; torch in float32 (its default), with float64 shown for reference.
Ratios are PyTorch time / Carousel time: above 1, Carousel is faster. The machine may be shared:
compare ratios from one run, not absolute figures across runs.

  /usr/bin/python3 src/test/python/bench_vs_torch.py            # everything, about 4 minutes
  /usr/bin/python3 src/test/python/bench_vs_torch.py --jmh-json target/jmh-lstm.json   # reuse a JMH run

Needs python3-torch (apt-get install python3-torch) and, for the JMH half, mvn on PATH.
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
HIDDEN = (16, 32, 64, 128)
INPUTS = (1, 8)
TRAIN_H, TRAIN_L, TRAIN_B = 32, 64, 32
JMH_ARGS = "-f 1 -wi 3 -i 10 -w 1s -r 300ms -prof gc"


def build(offline, snapshot):
    """Compiles main and test classes, writes the test classpath, and copies the compiled classes
    to snapshot/ so that JMH runs from a private copy (target/ may be rebuilt under us meanwhile)."""
    cp_file = os.path.join(snapshot, "cp.txt")
    cmd = ["mvn", "-q"] + (["-o"] if offline else []) + [
        "test-compile", "dependency:build-classpath",
        "-Dmdep.includeScope=test", "-Dmdep.outputFile=" + cp_file]
    for attempt in range(3):
        print("$ " + " ".join(cmd), flush=True)
        subprocess.run(cmd, cwd=ROOT, check=True)
        for d in ("classes", "test-classes"):
            shutil.rmtree(os.path.join(snapshot, d), ignore_errors=True)
            shutil.copytree(os.path.join(ROOT, "target", d), os.path.join(snapshot, d))
        gen = os.path.join(snapshot, "test-classes", "io", "carousel", "bench", "jmh_generated")
        want = ("LstmStepBench_step_jmhTest.class", "LstmStepBench_Exps_exps_jmhTest.class",
                "LstmTrainBench_trainBatch_jmhTest.class")
        if all(os.path.exists(os.path.join(gen, w)) for w in want):
            break
        print("target/ changed while it was copied; building again", flush=True)
    else:
        raise SystemExit("could not get a complete build of the benchmarks")
    with open(cp_file) as f:
        deps = f.read().strip()
    return os.pathsep.join([os.path.join(snapshot, "test-classes"), os.path.join(snapshot, "classes"), deps])


def run_jmh(json_path, offline):
    with tempfile.TemporaryDirectory(prefix="carousel-bench-") as snapshot:
        cp = build(offline, snapshot)
        cmd = ["java", "-cp", cp, "org.openjdk.jmh.Main", "io.carousel.bench.Lstm(Step|Train)Bench"] + \
            JMH_ARGS.split() + ["-rf", "json", "-rff", json_path]
        print("$ java -cp <snapshot>:<cp.txt> " + " ".join(cmd[3:]), flush=True)
        subprocess.run(cmd, cwd=ROOT, check=True)


def read_jmh(json_path):
    """{(bench, hidden, input): (best, mean, error, alloc B/op)} from JMH's JSON results; best is the
    fastest measurement iteration (least disturbed by other load on a shared machine)."""
    with open(json_path) as f:
        rows = json.load(f)
    out = {}
    for r in rows:
        name = r["benchmark"].rsplit(".", 1)[-1]
        if ".Exps." in r["benchmark"]:
            name = "exps"
        p = r.get("params", {})
        pm = r["primaryMetric"]
        alloc = r.get("secondaryMetrics", {}).get("gc.alloc.rate.norm", {}).get("score")
        raw = [v for fork in pm["rawData"] for v in fork]
        best = max(raw) if pm["scoreUnit"].startswith("ops/") else min(raw)
        out[(name, int(p.get("hidden", 0)), int(p.get("input", 0)))] = (
            best, pm["score"], pm["scoreError"], alloc)
    return out


def timed(fn, target_s=0.25, reps=8):
    """(best, median) ns per call of fn over reps timed loops, each about target_s long: the same
    estimators as for the JMH side (its fastest iteration, and roughly its mean)."""
    n = 1
    while True:
        t0 = time.perf_counter_ns()
        for _ in range(n):
            fn()
        dt = time.perf_counter_ns() - t0
        if dt > target_s * 1e9 / 4 or n > 1 << 22:
            break
        n *= 2
    n = max(1, int(n * target_s * 1e9 / max(dt, 1)))
    res = []
    for _ in range(reps):
        t0 = time.perf_counter_ns()
        for _ in range(n):
            fn()
        res.append((time.perf_counter_ns() - t0) / n)
    return min(res), statistics.median(res)


def torch_step_ns(torch, hidden, inp, dtype, head=True):
    torch.manual_seed(0)
    cell = torch.nn.LSTMCell(inp, hidden).to(dtype)
    lin = torch.nn.Linear(hidden, 1).to(dtype)
    xs = [torch.rand(1, inp, dtype=dtype) * 2 - 1 for _ in range(64)]
    st = [torch.zeros(1, hidden, dtype=dtype), torch.zeros(1, hidden, dtype=dtype), 0]

    def step():
        k = st[2]
        st[2] = (k + 1) & 63
        h, c = cell(xs[k], (st[0], st[1]))
        st[0], st[1] = h, c
        if head:
            lin(h)

    with torch.no_grad():
        for _ in range(2000):
            step()
        return timed(step)


def torch_train_ns(torch, threads):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(1, TRAIN_H, batch_first=True)
    head = torch.nn.Linear(TRAIN_H, 1)
    opt = torch.optim.Adam(list(lstm.parameters()) + list(head.parameters()), lr=0.005)
    mse = torch.nn.MSELoss()
    i = torch.arange(TRAIN_B * (TRAIN_L + 1), dtype=torch.float32).reshape(TRAIN_B, TRAIN_L + 1)
    series = torch.sin(2 * 3.141592653589793 * i / 48) + 0.1 * torch.sin(i * 1.7)
    x, y = series[:, :-1, None], series[:, 1:, None]

    def batch():
        opt.zero_grad()
        out, _ = lstm(x)
        loss = mse(head(out), y)
        loss.backward()
        opt.step()

    for _ in range(20):
        batch()
    return timed(batch, target_s=0.5)


def nominal_gflops():
    """A rough float64 peak for one core: the clock in /proc/cpuinfo times 16 FLOPs per cycle (two
    256-bit FMA pipes, or a multiply and an add pipe pair, as on AMD Zen 3/4 and Intel since Haswell)."""
    mhz = None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith("cpu mhz"):
                    mhz = float(line.split(":")[1])
                    break
    except OSError:
        pass
    return (mhz, mhz * 16 / 1e3) if mhz else (None, None)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jmh-json", help="read this JMH result file instead of running JMH")
    ap.add_argument("--offline", action="store_true", help="pass -o to Maven")
    args = ap.parse_args()

    json_path = args.jmh_json or os.path.join(ROOT, "target", "jmh-lstm.json")
    t_start = time.time()
    if not args.jmh_json:
        os.makedirs(os.path.dirname(json_path), exist_ok=True)
        run_jmh(json_path, args.offline)
    jmh = read_jmh(json_path)

    import torch
    default_threads = torch.get_num_threads()  # before any set_num_threads
    torch.set_num_threads(1)
    print("torch %s, default threads %d, cpu_count %d; timing torch ..." % (
        torch.__version__, default_threads, os.cpu_count()), flush=True)
    t32, t32cell, t64 = {}, {}, {}
    for hdn in HIDDEN:
        for d in INPUTS:
            t32[hdn, d] = torch_step_ns(torch, hdn, d, torch.float32)
            t32cell[hdn, d] = torch_step_ns(torch, hdn, d, torch.float32, head=False)
            t64[hdn, d] = torch_step_ns(torch, hdn, d, torch.float64)
    steps = TRAIN_B * TRAIN_L
    ncpu = os.cpu_count() or 1
    train = {}
    for threads in sorted({1, default_threads, ncpu}):
        best, med = torch_train_ns(torch, threads)
        train[threads] = (steps / best * 1e9, steps / med * 1e9)
    torch.set_num_threads(1)
    mhz, gflops = nominal_gflops()

    print()
    print("Carousel (JMH, float64) vs PyTorch %s (float32, 1 thread), %d cores." % (torch.__version__, ncpu))
    print("Each figure is the best timed iteration/loop (median or JMH mean in brackets); ratio = torch / Carousel.")
    print()
    print("One step, batch 1, 1 layer, O = 1, ns/step")
    hdr = "%-11s %17s %9s %17s %7s %7s %10s %10s %8s" % (
        "shape", "Carousel", "alloc", "torch f32", "ratio", "(med)", "torch cell", "torch f64",
        "5H exps")
    print(hdr)
    print("-" * len(hdr))
    for hdn in HIDDEN:
        for d in INPUTS:
            best, mean, err, alloc = jmh[("step", hdn, d)]
            ex = jmh.get(("exps", hdn, 0))
            print("%-11s %7.0f (%7.0f) %9s %7.0f (%7.0f) %6.1fx %6.1fx %10.0f %10.0f %8s" % (
                "H=%d D=%d" % (hdn, d), best, mean,
                "%.3f B" % alloc if alloc is not None else "n/a",
                t32[hdn, d][0], t32[hdn, d][1], t32[hdn, d][0] / best, t32[hdn, d][1] / mean,
                t32cell[hdn, d][0], t64[hdn, d][0], "%.0f" % ex[0] if ex else "n/a"))
    print()
    best, mean, err, alloc = jmh[("trainBatch", TRAIN_H, 1)]
    print("Training H=%d L=%d B=%d D=1 O=1, forward + backward + Adam; time steps/s (B*L = %d per batch)" % (
        TRAIN_H, TRAIN_L, TRAIN_B, steps))
    print("  %-24s %8.0f (%8.0f) steps/s  %6.2f ms/batch  alloc %s/batch" % (
        "Carousel", best, mean, steps / best * 1e3,
        "%.1f B" % (alloc * steps) if alloc is not None else "n/a"))
    for threads in sorted(train):
        tb, tm = train[threads]
        label = "torch, %d thread%s%s" % (threads, "" if threads == 1 else "s",
                                           " (default)" if threads == default_threads else "")
        print("  %-24s %8.0f (%8.0f) steps/s  %6.2f ms/batch  ratio Carousel/torch %.2fx (%.2fx)" % (
            label, tb, tm, steps / tb * 1e3, best / tb, mean / tm))
    print()
    s32 = jmh[("step", 32, 1)][0]
    r32 = t32[32, 1][0] / s32
    tr1 = train[1][0]
    print("Targets (best figures)")
    print("  step H=32 D=1 under 1 us:          %7.0f ns  %s" % (s32, "MET" if s32 < 1000 else "MISSED"))
    print("  step H=32 D=1 >= 10x torch f32:    %7.1fx   %s" % (r32, "MET" if r32 >= 10 else "MISSED"))
    print("  training H=32 >= torch, 1 thread:  %7.2fx   %s" % (
        jmh[("trainBatch", TRAIN_H, 1)][0] / tr1, "MET" if jmh[("trainBatch", TRAIN_H, 1)][0] >= tr1 else "MISSED"))
    print()
    print("What bounds the step: 4H(D+H) gate + H head multiply-adds (2 FLOPs each), and 5H Math.exp calls.")
    if gflops:
        print("  rough machine rate: %.0f MHz x 16 float64 FLOPs/cycle = %.1f GFLOP/s per core" % (mhz, gflops))
    for hdn in HIDDEN:
        for d in INPUTS:
            flops = 2 * (4 * hdn * (d + hdn) + hdn)
            sc = jmh[("step", hdn, d)][0]
            ex = jmh.get(("exps", hdn, 0))
            exns = ex[0] if ex else 0.0
            peak = "%5.0f ns at that rate, " % (flops / gflops) if gflops else ""
            frac = " = %3.0f%% of it" % (100 * flops / gflops / sc) if gflops else ""
            print("  H=%-3d D=%d: %6d FLOPs: %sstep %6.0f ns, %4.1f GFLOP/s%s; the %3d exps %5.0f ns = %2.0f%% of the step" % (
                hdn, d, flops, peak, sc, flops / sc, frac, 5 * hdn, exns, 100 * exns / sc))
    print()
    print("(total %.0f s)" % (time.time() - t_start))


if __name__ == "__main__":
    sys.exit(main())
