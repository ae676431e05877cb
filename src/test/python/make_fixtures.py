#!/usr/bin/python3
"""Generate PyTorch reference fixtures for Carousel's Java LSTM engine tests.

Usage (from the repo root; needs Debian's python3-torch 1.13 + numpy, so use
/usr/bin/python3 explicitly):

    /usr/bin/python3 src/test/python/make_fixtures.py [--out DIR]

DIR defaults to src/test/resources/parity. The output is deterministic
(fixed seeds, single-threaded torch): rerunning produces byte-identical files.

Model
=====
torch.nn.LSTM(input_size=D, hidden_size=H, num_layers=L, batch_first=True,
bias=True, dropout=0) followed by torch.nn.Linear(H, O) (the "head") applied to
the last layer's h at every time step. Gate order inside the 4H rows is
PyTorch's own: i, f, g, o (rows [0,H), [H,2H), [2H,3H), [3H,4H)).

    i = sigmoid(W_ii x + b_ii + W_hi h + b_hi)     f = sigmoid(...)
    g = tanh(...)                                  o = sigmoid(...)
    c' = f * c + i * g        h' = o * tanh(c')    out = head.weight @ h'_{L-1} + head.bias

Parameter names (no prefix), in this order, for n in 0..L-1:
    weight_ih_l{n} [4H, D_in]   (D_in = D for n=0, H otherwise)
    weight_hh_l{n} [4H, H]
    bias_ih_l{n}   [4H]
    bias_hh_l{n}   [4H]
then
    head.weight    [O, H]
    head.bias      [O]
Below, <param> stands for each of these names. Default PyTorch init
(uniform(-1/sqrt(H), 1/sqrt(H)) for the LSTM, kaiming-uniform for the Linear),
drawn from torch.manual_seed(seed) in float32, constructed LSTM first then head,
then converted to float64 where the case is F64.

Loss: torch.nn.MSELoss() (mean over batch, steps and outputs).

File format
===========
safetensors, written by hand: 8-byte little-endian unsigned header length N,
N bytes of UTF-8 JSON header (padded with trailing spaces so that 8+N is a
multiple of 8), then the raw little-endian C-contiguous tensor bytes. The
header maps each tensor name to {"dtype": "F64"|"F32", "shape": [...],
"data_offsets": [begin, end]} (offsets relative to the data section start;
tensors are packed in header order without gaps) plus "__metadata__", a
JSON object whose values are all strings. Readers should use data_offsets and
not rely on key order. Scalars are stored as 1-element tensors of shape [1].

Floats in metadata are Python repr() strings (e.g. "0.01", "1e-08");
"betas" is "b1,b2"; options that do not apply to an optimizer are "n/a".

Files
=====
fwd_bwd_l1.safetensors       D=3, H=5,  L=1, O=2, B=4, T=7   all F64
fwd_bwd_l2.safetensors       D=2, H=4,  L=2, O=3, B=3, T=6   all F64
fwd_bwd_l1_h32.safetensors   D=1, H=32, L=1, O=1, B=2, T=20  all F64
fwd_bwd_huber.safetensors    D=3, H=5,  L=1, O=2, B=4, T=7   all F64; y = randn * 3
                             and the loss torch.nn.HuberLoss(delta=1.0) (metadata
                             also: loss = "huber", huber_delta = "1.0")
    metadata: input_size, hidden_size, num_layers, output_size, batch, seq_len, seed
    init.<param>   initial parameters (shapes as above)
    x    [B, T, D]  inputs, randn
    y    [B, T, O]  targets, randn
    h0   [L, B, H]  initial hidden state, randn * 0.5
    c0   [L, B, H]  initial cell state,   randn * 0.5
    out  [B, T, O]  head outputs
    hn   [L, B, H]  final hidden state per layer
    cn   [L, B, H]  final cell state per layer
    loss [1]        MSELoss(out, y) (HuberLoss(out, y) for fwd_bwd_huber)
    grad.<param>    d loss / d param (same shape as the param)
    grad.h0 [L, B, H], grad.c0 [L, B, H]   d loss / d h0, d loss / d c0

train_adam.safetensors, train_sgd.safetensors   D=2, H=8, L=2, O=1, all F64
    Reference of `model train`: series [N=200, D]; windows of Lw=10 steps,
    window k uses input rows kLw..kLw+Lw-1 and as target of step t the first O
    columns of row t+1 (rows kLw+1..kLw+Lw); a last window without Lw full
    targets is dropped -> floor((N-1)/Lw) = 19 windows. Each window starts
    from zero h and c. Bw=4 consecutive windows form a batch; the last batch
    of an epoch is smaller (here 3 windows) and is kept. Batches per epoch =
    ceil(19/4) = 5. One optimizer step per batch, loss = MSELoss over the
    batch's [b, Lw, O] outputs, epochs repeat the same batches in the same
    order (no shuffling), stop after exactly `steps`=50 optimizer steps
    (stops mid-epoch if needed; here 50 = 10 full epochs).
    Per step: zero_grad; forward; loss; backward;
    total = clip_grad_norm_(all params, max_norm=clip); optimizer.step().
    clip = 0.25 (bites on roughly half the steps; see clipped_steps).
    torch 1.13 clip_grad_norm_ (norm_type 2):
        total = || [ ||g_p||_2 for each param p ] ||_2    (= sqrt(sum g^2))
        coef  = min(1, clip / (total + 1e-6));  every g *= coef
      (applied even when coef == 1; clipped norm is clip*total/(total+1e-6),
      slightly below clip). Weight decay is added by the optimizer AFTER
      clipping, so it is not clipped.
    Adam (torch 1.13 single-tensor path, L2 decay, not AdamW), step t from 1:
        g = g + wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        denom = sqrt(v) / sqrt(1 - b2^t) + eps
        p = p - (lr / (1 - b1^t)) * m / denom
    SGD (momentum, dampening 0, no nesterov):
        g = g + wd * p  (wd = 0 here)
        buf = g on the first step, else buf = momentum * buf + g
        p = p - lr * buf
    metadata: input_size, hidden_size, num_layers, output_size, batch, seq_len,
      seed, optimizer ("adam"|"sgd"), lr, clip, steps, betas, eps,
      weight_decay, momentum, dampening, nesterov, train_batch, train_seq_len,
      series_len, windows, batches_per_epoch, clipped_steps
      train_adam: lr=0.01 betas=0.9,0.999 eps=1e-08 weight_decay=0.001 momentum=n/a
      train_sgd:  lr=0.05 momentum=0.9 dampening=0.0 nesterov=false
                  weight_decay=0.0 betas=n/a eps=n/a
    init.<param>   parameters before training
    series [200, 2]  column 0 = sin(2*pi*t/25) + 0.1*randn, column 1 = cos(2*pi*t/25)
    final.<param>  parameters after 50 optimizer steps
    loss_first [1] loss of the first batch before any step (== losses[0])
    losses [50]    loss of each step's batch, computed before that step's update
    grad_norms [50] total gradient norm returned by clip_grad_norm_ at each
                   step (pre-clipping); step s was clipped iff
                   clip / (grad_norms[s] + 1e-6) < 1

fwd_f32.safetensors          D=3, H=5, L=1, O=2, B=4, T=7, everything F32,
                             computed in float32
fwd_f32_h32.safetensors      D=3, H=32, L=2, O=1, B=2, T=500, the same: the shape
                             and length of the stream's float32 inference step
    metadata: input_size, hidden_size, num_layers, output_size, batch, seq_len, seed
    init.<param>, x [B,T,D], h0 [L,B,H], c0 [L,B,H], out [B,T,O], hn [L,B,H], cn [L,B,H]

torch_written.safetensors    D=2, H=6, L=2, O=1; a model as a PyTorch user
    saves it for Carousel: only the parameters, named <param> (no prefix), F32.
    metadata: input_size, hidden_size, num_layers, output_size (only these)
torch_written_io.safetensors F64
    metadata: input_size, hidden_size, num_layers, output_size, seq_len
    x   [T=9, D]   input, a single sequence (no batch dim)
    out [T=9, O]   head outputs from zero initial h and c, computed in
                   float64 from the float32 weights (converted to double)

carousel_written_io.safetensors   (only if DIR/carousel_written.safetensors
    exists; else a note is printed and it is skipped) F64
    The Carousel-written model (F32 or F64 params named <param>, metadata
    input_size, hidden_size, num_layers, output_size) is loaded with this
    script's reader into nn.LSTM + head in float64.
    metadata: input_size, hidden_size, num_layers, output_size, seq_len, seed
    x   [T=9, D]   torch.randn with torch.manual_seed(seed=6001), float64
    out [T=9, O]   head outputs from zero initial h and c
"""

import argparse
import hashlib
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn

# --------------------------------------------------------------------------
# safetensors writer / reader
# --------------------------------------------------------------------------

_DTYPES = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
}
_NP_TO_ST = {np.dtype("float64"): "F64", np.dtype("float32"): "F32"}


def write_safetensors(path, tensors, metadata=None):
    """tensors: ordered dict name -> torch.Tensor or np.ndarray (F32/F64)."""
    header = {}
    if metadata is not None:
        meta = {}
        for k, v in metadata.items():
            if not isinstance(v, str):
                raise TypeError("metadata value for %r must be str, got %r" % (k, v))
            meta[k] = v
        header["__metadata__"] = meta
    blobs = []
    offset = 0
    for name, t in tensors.items():
        if name == "__metadata__":
            raise ValueError("reserved tensor name")
        a = t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
        st = _NP_TO_ST.get(a.dtype)
        if st is None:
            raise TypeError("unsupported dtype %s for %s" % (a.dtype, name))
        b = np.ascontiguousarray(a, dtype=_DTYPES[st]).tobytes(order="C")
        header[name] = {
            "dtype": st,
            "shape": [int(s) for s in a.shape],
            "data_offsets": [offset, offset + len(b)],
        }
        offset += len(b)
        blobs.append(b)
    hbytes = json.dumps(header, separators=(",", ":"), ensure_ascii=True).encode("utf-8")
    pad = (-(8 + len(hbytes))) % 8
    hbytes += b" " * pad
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hbytes)))
        f.write(hbytes)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    """Returns (dict name -> np.ndarray (copy, native order), metadata dict)."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError("%s: too short" % path)
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        raise ValueError("%s: header length %d exceeds file" % (path, n))
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    meta = header.pop("__metadata__", {}) or {}
    for k, v in meta.items():
        if not isinstance(v, str):
            raise ValueError("%s: metadata %r is not a string" % (path, k))
    out = {}
    spans = []
    for name, info in header.items():
        dt = _DTYPES.get(info["dtype"])
        if dt is None:
            raise ValueError("%s: unsupported dtype %s" % (path, info["dtype"]))
        shape = [int(s) for s in info["shape"]]
        b, e = (int(v) for v in info["data_offsets"])
        count = int(np.prod(shape)) if shape else 1
        if e - b != count * dt.itemsize or b < 0 or e > len(data):
            raise ValueError("%s: bad offsets for %s" % (path, name))
        spans.append((b, e))
        out[name] = np.frombuffer(data[b:e], dtype=dt).reshape(shape).astype(dt.newbyteorder("="))
    spans.sort()
    pos = 0
    for b, e in spans:
        if b != pos:
            raise ValueError("%s: gap/overlap in data section at %d" % (path, b))
        pos = e
    if pos != len(data):
        raise ValueError("%s: %d trailing bytes" % (path, len(data) - pos))
    return out, meta


# --------------------------------------------------------------------------
# model
# --------------------------------------------------------------------------

class Carousel(nn.Module):
    def __init__(self, D, H, L, O):
        super().__init__()
        self.lstm = nn.LSTM(input_size=D, hidden_size=H, num_layers=L, batch_first=True)
        self.head = nn.Linear(H, O)

    def forward(self, x, h0=None, c0=None):
        if h0 is None:
            y, (hn, cn) = self.lstm(x)
        else:
            y, (hn, cn) = self.lstm(x, (h0, c0))
        return self.head(y), hn, cn

    def param_names(self):
        L = self.lstm.num_layers
        names = []
        for n in range(L):
            names += ["weight_ih_l%d" % n, "weight_hh_l%d" % n, "bias_ih_l%d" % n, "bias_hh_l%d" % n]
        return names + ["head.weight", "head.bias"]

    def named(self):
        """Ordered list of (carousel name, parameter)."""
        res = []
        for name in self.param_names():
            if name.startswith("head."):
                res.append((name, getattr(self.head, name[len("head."):])))
            else:
                res.append((name, getattr(self.lstm, name)))
        return res


def new_model(seed, D, H, L, O):
    torch.manual_seed(seed)
    return Carousel(D, H, L, O)


def shape_meta(D, H, L, O, **extra):
    m = {"input_size": str(D), "hidden_size": str(H), "num_layers": str(L), "output_size": str(O)}
    for k, v in extra.items():
        m[k] = v if isinstance(v, str) else str(v)
    return m


def prefixed(model, prefix, grads=False):
    d = {}
    for name, p in model.named():
        t = p.grad if grads else p
        d[prefix + name] = t.detach().clone()
    return d


# --------------------------------------------------------------------------
# cases
# --------------------------------------------------------------------------

def fwd_bwd_case(out_dir, name, seed, D, H, L, O, B, T, huber=False):
    model = new_model(seed, D, H, L, O).double()
    tensors = prefixed(model, "init.")
    x = torch.randn(B, T, D, dtype=torch.float64)
    y = torch.randn(B, T, O, dtype=torch.float64)
    if huber:
        y = y * 3.0  # errors on both sides of the bend at delta = 1
    h0 = (torch.randn(L, B, H, dtype=torch.float64) * 0.5).requires_grad_(True)
    c0 = (torch.randn(L, B, H, dtype=torch.float64) * 0.5).requires_grad_(True)
    out, hn, cn = model(x, h0, c0)
    loss = (nn.HuberLoss(delta=1.0) if huber else nn.MSELoss())(out, y)
    model.zero_grad()
    loss.backward()
    tensors.update({
        "x": x, "y": y, "h0": h0.detach(), "c0": c0.detach(),
        "out": out.detach(), "hn": hn.detach(), "cn": cn.detach(),
        "loss": loss.detach().reshape(1),
    })
    tensors.update(prefixed(model, "grad.", grads=True))
    tensors["grad.h0"] = h0.grad.detach()
    tensors["grad.c0"] = c0.grad.detach()
    write_safetensors(os.path.join(out_dir, name + ".safetensors"), tensors,
                      shape_meta(D, H, L, O, batch=B, seq_len=T, seed=seed,
                                 **({"loss": "huber", "huber_delta": "1.0"} if huber else {})))
    print("%-16s loss=%.12f" % (name, loss.item()))


def fwd_f32_case(out_dir, name, seed, D, H, L, O, B, T):
    model = new_model(seed, D, H, L, O)  # float32 throughout
    tensors = prefixed(model, "init.")
    x = torch.randn(B, T, D, dtype=torch.float32)
    h0 = torch.randn(L, B, H, dtype=torch.float32) * 0.5
    c0 = torch.randn(L, B, H, dtype=torch.float32) * 0.5
    with torch.no_grad():
        out, hn, cn = model(x, h0, c0)
    tensors.update({"x": x, "h0": h0, "c0": c0, "out": out, "hn": hn, "cn": cn})
    for k, v in tensors.items():
        assert v.dtype == torch.float32, k
    write_safetensors(os.path.join(out_dir, name + ".safetensors"), tensors,
                      shape_meta(D, H, L, O, batch=B, seq_len=T, seed=seed))


def make_windows(series, Lw, O):
    """Returns (X [W, Lw, D], Y [W, Lw, O]) per the `model train` semantics."""
    N = series.shape[0]
    W = (N - 1) // Lw
    xs, ys = [], []
    for k in range(W):
        s = k * Lw
        xs.append(series[s:s + Lw])
        ys.append(series[s + 1:s + Lw + 1, :O])
    return torch.stack(xs), torch.stack(ys)


def train_case(out_dir, name, seed, opt_name):
    D, H, L, O = 2, 8, 2, 1
    N, Lw, Bw, steps, clip = 200, 10, 4, 50, 0.25
    model = new_model(seed, D, H, L, O).double()
    tensors = prefixed(model, "init.")
    t = torch.arange(N, dtype=torch.float64)
    series = torch.stack([
        torch.sin(2 * math.pi * t / 25) + 0.1 * torch.randn(N, dtype=torch.float64),
        torch.cos(2 * math.pi * t / 25),
    ], dim=1)
    X, Y = make_windows(series, Lw, O)
    W = X.shape[0]
    assert W == (N - 1) // Lw
    batches = [(X[b:b + Bw], Y[b:b + Bw]) for b in range(0, W, Bw)]

    params = [p for _, p in model.named()]
    meta = shape_meta(D, H, L, O, batch=Bw, seq_len=Lw, seed=seed)
    if opt_name == "adam":
        lr, betas, eps, wd = 0.01, (0.9, 0.999), 1e-8, 0.001
        opt = torch.optim.Adam(params, lr=lr, betas=betas, eps=eps, weight_decay=wd,
                               amsgrad=False, foreach=False)
        meta.update(optimizer="adam", lr=repr(lr), betas="%r,%r" % betas, eps=repr(eps),
                    weight_decay=repr(wd), momentum="n/a", dampening="n/a", nesterov="n/a")
    elif opt_name == "sgd":
        lr, mom, wd = 0.05, 0.9, 0.0
        opt = torch.optim.SGD(params, lr=lr, momentum=mom, dampening=0, weight_decay=wd,
                              nesterov=False, foreach=False)
        meta.update(optimizer="sgd", lr=repr(lr), betas="n/a", eps="n/a",
                    weight_decay=repr(wd), momentum=repr(mom), dampening=repr(0.0),
                    nesterov="false")
    else:
        raise ValueError(opt_name)

    mse = nn.MSELoss()
    losses, norms = [], []
    clipped = 0
    step = 0
    while step < steps:
        for xb, yb in batches:
            if step >= steps:
                break
            opt.zero_grad()
            out, _, _ = model(xb)  # zero initial h and c per window
            loss = mse(out, yb)
            loss.backward()
            total = clip_total = torch.nn.utils.clip_grad_norm_(params, max_norm=clip)
            # torch 1.13: coef = clip / (total + 1e-6), clamped to <= 1, grads *= coef
            if clip / (clip_total.item() + 1e-6) < 1.0:
                clipped += 1
            # keep well away from the boundary so Java's rounding cannot flip it
            assert abs(clip_total.item() + 1e-6 - clip) > 1e-6, clip_total.item()
            opt.step()
            losses.append(loss.item())
            norms.append(total.item())
            step += 1
    assert 0 < clipped < steps, "clip should bite on some, not all, steps: %d" % clipped

    meta.update(clip=repr(clip), steps=str(steps), train_batch=str(Bw), train_seq_len=str(Lw),
                series_len=str(N), windows=str(W), batches_per_epoch=str(len(batches)),
                clipped_steps=str(clipped))
    tensors["series"] = series
    tensors.update(prefixed(model, "final."))
    tensors["loss_first"] = torch.tensor([losses[0]], dtype=torch.float64)
    tensors["losses"] = torch.tensor(losses, dtype=torch.float64)
    tensors["grad_norms"] = torch.tensor(norms, dtype=torch.float64)
    write_safetensors(os.path.join(out_dir, name + ".safetensors"), tensors, meta)
    print("%-16s windows=%d batches/epoch=%d (last batch %d) clipped_steps=%d/%d"
          % (name, W, len(batches), batches[-1][0].shape[0], clipped, steps))
    print("%-16s losses: %s" % ("", " ".join("%.4f" % v for v in losses[::5])))
    print("%-16s first=%.6f last=%.6f mean(first5)=%.6f mean(last5)=%.6f"
          % ("", losses[0], losses[-1], np.mean(losses[:5]), np.mean(losses[-5:])))
    assert np.mean(losses[-5:]) < np.mean(losses[:5]), "training loss did not fall"


def torch_written_case(out_dir, seed):
    D, H, L, O, T = 2, 6, 2, 1, 9
    model = new_model(seed, D, H, L, O)  # float32
    params = prefixed(model, "")
    path = os.path.join(out_dir, "torch_written.safetensors")
    write_safetensors(path, params, shape_meta(D, H, L, O))
    # io in float64 from the float32 weights
    m64 = Carousel(D, H, L, O)
    load_into(m64, {k: v.numpy() for k, v in params.items()})
    m64 = m64.double()
    x = torch.randn(T, D, dtype=torch.float64)
    with torch.no_grad():
        out, _, _ = m64(x.unsqueeze(0))
    write_safetensors(os.path.join(out_dir, "torch_written_io.safetensors"),
                      {"x": x, "out": out.squeeze(0)}, shape_meta(D, H, L, O, seq_len=T))
    # round-trip check with our reader
    back, meta = read_safetensors(path)
    assert list(back) == list(params), list(back)
    for k, v in params.items():
        assert back[k].dtype == np.float32 and np.array_equal(back[k], v.numpy()), k
    assert meta == shape_meta(D, H, L, O), meta


def load_into(model, arrays):
    expected = model.param_names()
    missing = [n for n in expected if n not in arrays]
    extra = [n for n in arrays if n not in expected]
    if missing or extra:
        raise ValueError("param names mismatch: missing=%s extra=%s" % (missing, extra))
    with torch.no_grad():
        for name, p in model.named():
            a = arrays[name]
            if tuple(a.shape) != tuple(p.shape):
                raise ValueError("%s: shape %s, expected %s" % (name, a.shape, tuple(p.shape)))
            p.copy_(torch.from_numpy(np.ascontiguousarray(a)).to(p.dtype))


def carousel_written_case(out_dir, src, seed):
    if not os.path.exists(src):
        print("note: %s does not exist; skipping carousel_written_io" % src)
        return False
    arrays, meta = read_safetensors(src)
    D, H, L, O = (int(meta[k]) for k in ("input_size", "hidden_size", "num_layers", "output_size"))
    T = 9
    model = Carousel(D, H, L, O).double()
    load_into(model, arrays)
    torch.manual_seed(seed)
    x = torch.randn(T, D, dtype=torch.float64)
    with torch.no_grad():
        out, _, _ = model(x.unsqueeze(0))
    write_safetensors(os.path.join(out_dir, "carousel_written_io.safetensors"),
                      {"x": x, "out": out.squeeze(0)},
                      shape_meta(D, H, L, O, seq_len=T, seed=seed))
    print("carousel_written_io: loaded %s (D=%d H=%d L=%d O=%d)" % (src, D, H, L, O))
    return True


# --------------------------------------------------------------------------
# verification
# --------------------------------------------------------------------------

def param_shapes(D, H, L, O):
    s = {}
    for n in range(L):
        din = D if n == 0 else H
        s["weight_ih_l%d" % n] = [4 * H, din]
        s["weight_hh_l%d" % n] = [4 * H, H]
        s["bias_ih_l%d" % n] = [4 * H]
        s["bias_hh_l%d" % n] = [4 * H]
    s["head.weight"] = [O, H]
    s["head.bias"] = [O]
    return s


def expected_shapes(fname, meta):
    D, H, L, O = (int(meta[k]) for k in ("input_size", "hidden_size", "num_layers", "output_size"))
    ps = param_shapes(D, H, L, O)
    if fname.startswith("fwd_bwd"):
        B, T = int(meta["batch"]), int(meta["seq_len"])
        e = {"init." + k: v for k, v in ps.items()}
        e.update(x=[B, T, D], y=[B, T, O], h0=[L, B, H], c0=[L, B, H], out=[B, T, O],
                 hn=[L, B, H], cn=[L, B, H], loss=[1])
        e.update({"grad." + k: v for k, v in ps.items()})
        e.update({"grad.h0": [L, B, H], "grad.c0": [L, B, H]})
        return e, "F64"
    if fname.startswith("fwd_f32"):
        B, T = int(meta["batch"]), int(meta["seq_len"])
        e = {"init." + k: v for k, v in ps.items()}
        e.update(x=[B, T, D], h0=[L, B, H], c0=[L, B, H], out=[B, T, O], hn=[L, B, H], cn=[L, B, H])
        return e, "F32"
    if fname.startswith("train_"):
        S = int(meta["steps"])
        e = {"init." + k: v for k, v in ps.items()}
        e["series"] = [int(meta["series_len"]), D]
        e.update({"final." + k: v for k, v in ps.items()})
        e.update(loss_first=[1], losses=[S], grad_norms=[S])
        return e, "F64"
    if fname == "torch_written.safetensors":
        return ps, "F32"
    if fname.endswith("_io.safetensors"):
        T = int(meta["seq_len"])
        return {"x": [T, D], "out": [T, O]}, "F64"
    raise ValueError(fname)


def verify(out_dir, files):
    total = 0
    print()
    print("%-34s %8s  %s" % ("file", "bytes", "tensors"))
    for fname in files:
        path = os.path.join(out_dir, fname)
        arrays, meta = read_safetensors(path)
        exp, dt = expected_shapes(fname, meta)
        if list(arrays) != list(exp):
            raise AssertionError("%s: names %s != %s" % (fname, list(arrays), list(exp)))
        for k, shp in exp.items():
            a = arrays[k]
            if list(a.shape) != shp:
                raise AssertionError("%s/%s: shape %s != %s" % (fname, k, list(a.shape), shp))
            if a.dtype != _DTYPES[dt]:
                raise AssertionError("%s/%s: dtype %s" % (fname, k, a.dtype))
            if not np.all(np.isfinite(a)):
                raise AssertionError("%s/%s: non-finite" % (fname, k))
        with open(path, "rb") as f:
            raw = f.read()
        (n,) = struct.unpack("<Q", raw[:8])
        assert (8 + n) % 8 == 0
        size = len(raw)
        total += size
        print("%-34s %8d  %d tensors, sha256 %s" % (fname, size, len(arrays),
                                                     hashlib.sha256(raw).hexdigest()[:12]))
        print("    metadata: %s" % ", ".join("%s=%s" % kv for kv in meta.items()))
        print("    %s" % ", ".join("%s%s" % (k, list(v.shape)) for k, v in arrays.items()))
    print("total %d bytes" % total)
    assert total < 2 * 1024 * 1024


def check_against_reference(out_dir):
    """Recompute fwd_bwd_l2 (two layers) from its stored inputs via a
    hand-written LSTM in numpy float64 to make sure the fixture semantics are what the docstring
    says (gate order, head, loss)."""
    a, meta = read_safetensors(os.path.join(out_dir, "fwd_bwd_l2.safetensors"))
    L = int(meta["num_layers"])
    H = int(meta["hidden_size"])
    x = a["x"]
    B, T, _ = x.shape
    sig = lambda z: 1.0 / (1.0 + np.exp(-z))
    inp = x
    hn, cn = np.zeros((L, B, H)), np.zeros((L, B, H))
    for n in range(L):
        Wi, Wh = a["init.weight_ih_l%d" % n], a["init.weight_hh_l%d" % n]
        b = a["init.bias_ih_l%d" % n] + a["init.bias_hh_l%d" % n]
        h, c = a["h0"][n].copy(), a["c0"][n].copy()
        ys = []
        for t in range(T):
            z = inp[:, t] @ Wi.T + h @ Wh.T + b
            i, f, g, o = sig(z[:, :H]), sig(z[:, H:2 * H]), np.tanh(z[:, 2 * H:3 * H]), sig(z[:, 3 * H:])
            c = f * c + i * g
            h = o * np.tanh(c)
            ys.append(h)
        inp = np.stack(ys, axis=1)
        hn[n], cn[n] = h, c
    out = inp @ a["init.head.weight"].T + a["init.head.bias"]
    loss = np.mean((out - a["y"]) ** 2)
    for name, got, want in (("out", out, a["out"]), ("hn", hn, a["hn"]), ("cn", cn, a["cn"]),
                            ("loss", np.array([loss]), a["loss"])):
        err = np.max(np.abs(got - want))
        assert err < 1e-12, (name, err)
    print("numpy reference LSTM matches fwd_bwd_l2 (max abs err < 1e-12)")


def check_training_formulas(out_dir, fname):
    """Replay a training fixture with hand-written windowing, clipping and
    optimizer updates (autograd only for the gradients), i.e. exactly the
    formulas in the module docstring, and compare with the stored result."""
    a, meta = read_safetensors(os.path.join(out_dir, fname))
    D, H, L, O = (int(meta[k]) for k in ("input_size", "hidden_size", "num_layers", "output_size"))
    Lw, Bw, S = int(meta["train_seq_len"]), int(meta["train_batch"]), int(meta["steps"])
    clip, lr = float(meta["clip"]), float(meta["lr"])
    wd = float(meta["weight_decay"])
    model = Carousel(D, H, L, O).double()
    load_into(model, {k[len("init."):]: v for k, v in a.items() if k.startswith("init.")})
    series = torch.from_numpy(a["series"])
    N = series.shape[0]
    wins = [(series[k * Lw:k * Lw + Lw], series[k * Lw + 1:k * Lw + Lw + 1, :O])
            for k in range((N - 1) // Lw)]
    batches = [wins[i:i + Bw] for i in range(0, len(wins), Bw)]
    params = [p for _, p in model.named()]
    state = [dict(m=torch.zeros_like(p), v=torch.zeros_like(p), buf=None) for p in params]
    losses, clipped = [], 0
    for step in range(S):
        batch = batches[step % len(batches)]
        xb = torch.stack([w[0] for w in batch])
        yb = torch.stack([w[1] for w in batch])
        for p in params:
            p.grad = None
        out, _, _ = model(xb)
        loss = ((out - yb) ** 2).sum() / out.numel()
        loss.backward()
        losses.append(loss.item())
        total = math.sqrt(sum(float((p.grad ** 2).sum()) for p in params))
        coef = min(1.0, clip / (total + 1e-6))
        clipped += coef < 1.0
        t = step + 1
        with torch.no_grad():
            for p, st in zip(params, state):
                g = p.grad * coef + wd * p
                if meta["optimizer"] == "adam":
                    b1, b2 = (float(b) for b in meta["betas"].split(","))
                    eps = float(meta["eps"])
                    st["m"] = b1 * st["m"] + (1 - b1) * g
                    st["v"] = b2 * st["v"] + (1 - b2) * g * g
                    denom = st["v"].sqrt() / math.sqrt(1 - b2 ** t) + eps
                    p -= (lr / (1 - b1 ** t)) * st["m"] / denom
                else:
                    mom = float(meta["momentum"])
                    st["buf"] = g.clone() if st["buf"] is None else mom * st["buf"] + g
                    p -= lr * st["buf"]
    assert clipped == int(meta["clipped_steps"]), (clipped, meta["clipped_steps"])
    lerr = np.max(np.abs(np.array(losses) - a["losses"]))
    perr = max(np.max(np.abs(p.detach().numpy() - a["final." + n])) for n, p in model.named())
    assert lerr < 1e-10 and perr < 1e-10, (fname, lerr, perr)
    print("%s: hand-written clip/optimizer replay matches (max |dloss| %.1e, |dparam| %.1e)"
          % (fname, lerr, perr))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join("src", "test", "resources", "parity"),
                    help="output directory (default: src/test/resources/parity)")
    ap.add_argument("--carousel", default=None,
                    help="Carousel-written model (default: OUT/carousel_written.safetensors)")
    args = ap.parse_args(argv)

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    out_dir = args.out
    os.makedirs(out_dir, exist_ok=True)
    carousel = args.carousel or os.path.join(out_dir, "carousel_written.safetensors")

    files = []
    for name, seed, shp in (("fwd_bwd_l1", 1001, (3, 5, 1, 2, 4, 7)),
                            ("fwd_bwd_l2", 1002, (2, 4, 2, 3, 3, 6)),
                            ("fwd_bwd_l1_h32", 1003, (1, 32, 1, 1, 2, 20))):
        fwd_bwd_case(out_dir, name, seed, *shp)
        files.append(name + ".safetensors")
    fwd_bwd_case(out_dir, "fwd_bwd_huber", 1004, 3, 5, 1, 2, 4, 7, huber=True)
    files.append("fwd_bwd_huber.safetensors")
    train_case(out_dir, "train_adam", 2001, "adam")
    train_case(out_dir, "train_sgd", 2002, "sgd")
    files += ["train_adam.safetensors", "train_sgd.safetensors"]
    fwd_f32_case(out_dir, "fwd_f32", 3001, 3, 5, 1, 2, 4, 7)
    files.append("fwd_f32.safetensors")
    fwd_f32_case(out_dir, "fwd_f32_h32", 3002, 3, 32, 2, 1, 2, 500)
    files.append("fwd_f32_h32.safetensors")
    torch_written_case(out_dir, 4001)
    files += ["torch_written.safetensors", "torch_written_io.safetensors"]
    if carousel_written_case(out_dir, carousel, 6001):
        files.append("carousel_written_io.safetensors")

    verify(out_dir, files)
    check_against_reference(out_dir)
    check_training_formulas(out_dir, "train_adam.safetensors")
    check_training_formulas(out_dir, "train_sgd.safetensors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
