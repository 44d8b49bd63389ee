"""int8 post-training quantization of an ONNX model: our own calibration, written as QDQ.

Why our own: ONNX Runtime's built-in ``Entropy`` calibration gave ranges identical to MinMax with
its defaults and, with 2048 bins, clipped this U-Net's activations so hard its output collapsed
(6-9 dB). So the thresholds are computed here and written into the graph as
``QuantizeLinear``/``DequantizeLinear`` pairs, which ONNX Runtime and OpenVINO both execute.

Scheme: activations (the input of every quantized Conv) per tensor, uint8 asymmetric over
``[lo, hi]``; weights per output channel, int8 symmetric; biases stay float. Convolutions named in
``keep_float`` (by default the output conv, whose error goes straight into the image) stay fp32.

Range methods (``activation_range``):

* ``minmax``: the observed minimum and maximum;
* ``percentile``: the 0.01 % and 99.99 % points of the histogram;
* ``kl``: the TensorRT entropy calibration (Migacz, GTC 2017): over a fine histogram (2048 bins)
  of the positive side, choose the clipping threshold whose quantized distribution (into as many
  levels as the positive side gets) is closest in KL divergence to the clipped reference; the
  negative side keeps its observed minimum (LeakyReLU(0.1) makes it small).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ..atomic import replacing
from ..evaluation.metrics import psnr
from ..images import to_uint8

BINS = 2048
METHODS = ("kl", "minmax", "percentile")  # ours; config.INT8_METHODS adds "nncf" (int8.export_int8_nncf)


def kl_threshold(hist: np.ndarray, edges: np.ndarray, levels: int = 255, start: int = 128) -> float:
    """TensorRT-style threshold over a histogram of non-negative values: the upper edge ``edges[i]``
    minimising KL(P_i || Q_i), where P_i is the histogram clipped at bin ``i`` (outliers added to the
    last kept bin) and Q_i is P_i quantized into ``levels`` bins and expanded back over the non-empty
    bins."""
    hist = hist.astype(np.float64)
    n = len(hist)
    if hist.sum() == 0:
        return float(edges[-1])
    levels = max(2, min(levels, n))
    best_i, best_kl = n, np.inf
    for i in range(max(start, levels), n + 1):
        p = hist[:i].copy()
        p[-1] += hist[i:].sum()
        nz = p > 0
        # quantize the i reference bins into `levels` groups, spread each group's mass over its non-empty bins
        groups = np.minimum((np.arange(i) * levels) // i, levels - 1)
        mass = np.bincount(groups, weights=hist[:i], minlength=levels)
        count = np.bincount(groups, weights=(hist[:i] > 0).astype(np.float64), minlength=levels)
        q = np.where(nz, mass[groups] / np.maximum(count[groups], 1), 0.0)
        ps, qs = p[nz] / p.sum(), q[nz] / max(q.sum(), 1e-300)
        with np.errstate(divide="ignore"):
            kl = float(np.sum(ps * np.log(ps / np.maximum(qs, 1e-300))))
        if kl < best_kl:
            best_i, best_kl = i, kl
    return float(edges[best_i])


class RangeCollector:
    """Per-tensor statistics over calibration batches: min/max in a first pass, histograms of the
    positive side (fixed range [0, max]) and the negative side in a second."""

    def __init__(self) -> None:
        self.lo: dict[str, float] = {}
        self.hi: dict[str, float] = {}
        self.hist: dict[str, np.ndarray] = {}
        self.neg: dict[str, np.ndarray] = {}

    def observe_range(self, name: str, x: np.ndarray) -> None:
        self.lo[name] = min(self.lo.get(name, np.inf), float(x.min()))
        self.hi[name] = max(self.hi.get(name, -np.inf), float(x.max()))

    def observe_hist(self, name: str, x: np.ndarray) -> None:
        hi, lo = max(self.hi[name], 1e-8), min(self.lo[name], -1e-8)
        h, _ = np.histogram(x[x > 0], bins=BINS, range=(0.0, hi))
        g, _ = np.histogram(-x[x < 0], bins=BINS, range=(0.0, -lo))
        self.hist[name] = self.hist.get(name, 0) + h
        self.neg[name] = self.neg.get(name, 0) + g

    def range(self, name: str, method: str) -> tuple[float, float]:
        lo, hi = min(self.lo[name], 0.0), max(self.hi[name], 0.0)
        if method == "minmax":
            return lo, hi
        pos, neg = self.hist[name], self.neg[name]
        total = pos.sum() + neg.sum()
        if method == "percentile":
            eps = 1e-4 * total
            hi_t = float(np.searchsorted(np.cumsum(pos[::-1]), eps) if pos.sum() else 0)
            hi = hi * (1 - hi_t / BINS)
            lo_t = float(np.searchsorted(np.cumsum(neg[::-1]), eps) if neg.sum() else 0)
            lo = lo * (1 - lo_t / BINS)
            return lo, hi
        if method == "kl":
            edges = np.linspace(0.0, hi, BINS + 1)
            share = hi / (hi - lo) if hi > lo else 1.0  # the positive side's share of the 255 steps
            return lo, kl_threshold(pos, edges, levels=max(16, int(round(255 * share))))
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")


def quant_params(lo: float, hi: float) -> tuple[np.float32, np.uint8]:
    """uint8 asymmetric scale and zero point for ``[lo, hi]`` (which contains 0)."""
    scale = max((hi - lo) / 255.0, 1e-8)
    zp = int(np.clip(round(-lo / scale), 0, 255))
    return np.float32(scale), np.uint8(zp)


def conv_nodes(model) -> list:
    return [n for n in model.graph.node if n.op_type == "Conv"]


def output_conv_names(model) -> list[str]:
    """Conv nodes whose output reaches a graph output through element-wise ops only."""
    outs = {o.name for o in model.graph.output}
    producer = {o: n for n in model.graph.node for o in n.output}
    names = []
    for o in outs:
        n = producer.get(o)
        while n is not None and n.op_type != "Conv" and n.input:
            n = producer.get(n.input[0])
        if n is not None and n.op_type == "Conv":
            names.append(n.name)
    return names


def image_conv_names(model) -> list[str]:
    """Conv nodes that read the graph's input (the image) directly. They stay float by default: the
    image's uint8 grid over the noisy range (a step of ~0.009) is coarser than an 8-bit file's, and
    these convolutions have three input channels (about 1% of the work)."""
    inputs = {i.name for i in model.graph.input}
    return [n.name for n in conv_nodes(model) if n.input[0] in inputs]


def default_float(model) -> list[str]:
    """What stays float unless told otherwise: the output conv(s) and the image-reading convs."""
    return output_conv_names(model) + image_conv_names(model)


def calibrate(
    onnx_path: str | Path, batches: Iterable[np.ndarray], keep_float: list[str] | None = None
) -> tuple[RangeCollector, list[str]]:
    """Run the float model on ``batches`` and collect statistics of every quantized Conv input."""
    import onnx
    import onnxruntime as ort

    model = onnx.load(str(onnx_path))
    keep = set(default_float(model) if keep_float is None else keep_float)
    targets = sorted({n.input[0] for n in conv_nodes(model) if n.name not in keep})
    existing = {o.name for o in model.graph.output}
    for t in targets:
        if t not in existing:
            model.graph.output.append(onnx.helper.make_empty_tensor_value_info(t))
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    in_name = sess.get_inputs()[0].name
    names = [o.name for o in sess.get_outputs()]
    batches = list(batches)
    col = RangeCollector()
    for phase in ("range", "hist"):
        for b in batches:
            vals = dict(zip(names, sess.run(None, {in_name: b})))
            for t in targets:
                (col.observe_range if phase == "range" else col.observe_hist)(t, vals[t])
    return col, targets


def write_qdq(
    onnx_path: str | Path,
    out_path: str | Path,
    ranges: dict[str, tuple[float, float]],
    keep_float: list[str] | None = None,
) -> None:
    """Insert QuantizeLinear/DequantizeLinear for the given activation ranges and per-channel int8
    weights of every Conv not in ``keep_float``."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(onnx_path))
    keep = set(default_float(model) if keep_float is None else keep_float)
    inits = {i.name: i for i in model.graph.initializer}
    new_nodes, new_inits, done = [], [], {}
    for node in list(model.graph.node):
        if node.op_type == "Conv" and node.name not in keep and node.input[0] in ranges:
            x = node.input[0]
            if x not in done:
                s, z = quant_params(*ranges[x])
                sc, zp = x + "_scale", x + "_zp"
                new_inits += [
                    numpy_helper.from_array(np.array(s, np.float32), sc),
                    numpy_helper.from_array(np.array(z, np.uint8), zp),
                ]
                new_nodes += [
                    helper.make_node("QuantizeLinear", [x, sc, zp], [x + "_q"], name=x + "_Q"),
                    helper.make_node("DequantizeLinear", [x + "_q", sc, zp], [x + "_dq"], name=x + "_DQ"),
                ]
                done[x] = x + "_dq"
            node.input[0] = done[x]
            wname = node.input[1]
            if wname + "_dq" in done.values():  # a weight shared by several convs (the compact net)
                node.input[1] = wname + "_dq"
                new_nodes.append(node)
                continue
            done[wname] = wname + "_dq"
            w = numpy_helper.to_array(inits[wname]).astype(np.float32)
            ws = np.maximum(np.abs(w).reshape(w.shape[0], -1).max(axis=1) / 127.0, 1e-12).astype(np.float32)
            wq = np.clip(np.round(w / ws[:, None, None, None]), -127, 127).astype(np.int8)
            wi, wsc, wzp = wname + "_int8", wname + "_wscale", wname + "_wzp"
            new_inits += [
                numpy_helper.from_array(wq, wi),
                numpy_helper.from_array(ws, wsc),
                numpy_helper.from_array(np.zeros(w.shape[0], np.int8), wzp),
            ]
            dq = helper.make_node("DequantizeLinear", [wi, wsc, wzp], [wname + "_dq"], name=wname + "_DQ", axis=0)
            new_nodes.append(dq)
            node.input[1] = wname + "_dq"
        new_nodes.append(node)
    used = {i for n in new_nodes for i in n.input}
    kept_inits = [i for i in model.graph.initializer if i.name in used]
    del model.graph.node[:]
    model.graph.node.extend(
        _toposort(new_nodes, {i.name for i in model.graph.input} | {i.name for i in kept_inits + new_inits})
    )
    del model.graph.initializer[:]
    model.graph.initializer.extend(kept_inits + new_inits)
    onnx.checker.check_model(model)
    with replacing(out_path, ".onnx") as tmp:
        onnx.save(model, str(tmp))


def _toposort(nodes: list, available: set[str]) -> list:
    """Order nodes so each comes after the producers of its inputs (inserted Q/DQ nodes included)."""
    out, ready, pending = [], set(available) | {""}, list(nodes)
    while pending:
        rest = []
        for n in pending:
            if all(i in ready for i in n.input):
                out.append(n)
                ready.update(n.output)
            else:
                rest.append(n)
        if len(rest) == len(pending):
            raise ValueError("graph has a cycle or a missing input")
        pending = rest
    return out


def _psnr_against(onnx_path: str | Path, batches: list[np.ndarray], clean: list[np.ndarray]) -> float:
    import onnxruntime as ort

    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    scores = [psnr(to_uint8(sess.run(None, {name: b})[0]), to_uint8(c)) for b, c in zip(batches, clean)]
    return float(np.mean([min(s, 100.0) for s in scores]))  # an exact match would be inf


def quantize_onnx(
    onnx_path: str | Path,
    out_path: str | Path,
    batches: Iterable[np.ndarray],
    method: str = "kl",
    keep_float: list[str] | None = None,
    clean: list[np.ndarray] | None = None,
    max_drop_db: float = 0.05,
    log=None,
    probe: list[np.ndarray] | None = None,
) -> dict:
    """Calibrate on ``batches`` (``1x3xHxW`` float32 noisy inputs) and write the int8 QDQ model.

    With ``clean`` targets, layers are kept in float, most sensitive first, until the PSNR is within
    ``max_drop_db`` of the float model on ``batches`` and on ``probe`` (other noisy inputs of the
    same clean images, e.g. at low noise) alike; a layer's sensitivity is its larger drop of the two
    when it alone is quantized. Ranges always come from ``batches``. Returns the ranges and the
    layers kept float."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    batches = list(batches)
    col, targets = calibrate(onnx_path, batches, keep_float)
    ranges = {t: col.range(t, method) for t in targets}
    kept: list[str] = []
    report: dict = {"ranges": ranges, "float_inputs": kept}
    if clean is not None:
        tmp = Path(out_path).with_name(Path(out_path).stem + ".probe.onnx")
        sets = [batches] + ([list(probe)] if probe is not None else [])
        try:
            refs = [_psnr_against(onnx_path, b, clean) for b in sets]

            def worst_drop(path) -> float:
                return max(r - _psnr_against(path, b, clean) for r, b in zip(refs, sets))

            ref = refs[0]
            drop = {}
            for t in targets:
                write_qdq(onnx_path, tmp, {t: ranges[t]}, keep_float)
                drop[t] = worst_drop(tmp)
            order = sorted(targets, key=lambda t: -drop[t])
            active = dict(ranges)
            while True:
                write_qdq(onnx_path, tmp, active, keep_float)
                total = worst_drop(tmp)
                if log:
                    log(
                        f"int8 {method}: {len(active)}/{len(targets)} conv inputs quantized, calibration drop {total:.3f} dB"
                    )
                if total <= max_drop_db or not active:
                    break
                worst = order.pop(0)
                kept.append(worst)
                del active[worst]
            ranges = active
            report.update(calibration_psnr_fp32=ref, calibration_drop_db=total, sensitivity=drop)
        finally:
            tmp.unlink(missing_ok=True)
    write_qdq(onnx_path, out_path, ranges, keep_float)
    report["ranges"] = ranges
    return report
