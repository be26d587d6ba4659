"""Int8 weights for the phone download that keep the float32 model's answers: GPTQ rounding, calibrated on
TRAIN photos, computed once per model and committed (phone/int8/), because it needs the datasets and minutes.

Rounding every weight to the nearest of 255 steps (webapp.phone.int8_weights) moves each output a little, and a
photo near a decision boundary changes its answer: on model 3.1.0 that lost 2 apple, 1 rice and 7 PlantVillage
val photos and changed 4 of the 139 fixture answers. GPTQ (Frantar et al. 2023, arXiv:2210.17323; its
per-layer step is Optimal Brain Quantization) rounds the weights of one layer column by column and moves the
columns not yet rounded so that the layer's output on real inputs stays what it was: the error of each rounding
is spread over the weights whose inputs are correlated with it, using H = X X^T of the layer's inputs X. Same
storage as int8_weights (int8, one symmetric scale per output channel, DequantizeLinear in front; the arithmetic
stays float32), only the integers differ.

The inputs X of every Conv and Einsum come from one float32 pass over calibration photos taken from the TRAIN
splits (never val, which judges the result: benchmarks/phone_weights.py), through the runtime's own
preprocessing. A file made here carries, in `<name>.json` beside it, the sha256 of the float32 model it was
made from; the phone build ships it only for that model (webapp.phone.ship_model), so a retrained model never
gets another model's integers.

    python -m leafscout.webapp.phone quantize --data-root ../shared/datasets     # writes phone/int8/*.onnx
"""
from __future__ import annotations

import hashlib
import json
import random
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
CALIBRATED_DIR = REPO / "phone" / "int8"
DAMP = 0.01          # GPTQ's dampening: this share of the mean diagonal added to H (keeps H invertible)
MAX_POSITIONS = 2048  # input positions sampled per layer and batch: H of a 96x96 layer needs no more
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
# a scene detector's leaf branch is calibrated on these field sets' TRAIN photos (leaves among leaves)
LEAF_CALIBRATION_SETS = ("apple_orchard_fgvc8", "ibean_uganda", "chilli_leaf", "rice_leaf_ph")


def sha256_of(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def calibrated_file(src: str | Path, folder: str | Path | None = None) -> Path | None:
    """The committed calibrated int8 file made from `src` (same file name in `folder`, its sidecar JSON naming
    `src`'s sha256), or None when there is none or it was made from another model."""
    folder = Path(folder) if folder else CALIBRATED_DIR
    cand, side = folder / Path(src).name, folder / (Path(src).stem + ".json")
    if not (cand.is_file() and side.is_file()):
        return None
    try:
        info = json.loads(side.read_text("utf-8"))
    except ValueError:
        return None
    ok = info.get("source_sha256") == sha256_of(src) and info.get("sha256") == sha256_of(cand)
    return cand if ok else None


# ------------------------------------------------------------------------------------------- the layer inputs

def _attrs(node) -> dict:
    from onnx import helper
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def weight_users(model) -> dict[str, list]:
    """{initializer name: the Conv/Einsum nodes that read it as their weight}."""
    inits = {i.name for i in model.graph.initializer}
    users: dict[str, list] = {}
    for node in model.graph.node:
        if node.op_type in ("Conv", "Einsum") and len(node.input) > 1 and node.input[1] in inits:
            users.setdefault(node.input[1], []).append(node)
    return users


def _patches(x: np.ndarray, node, rng: np.random.Generator) -> tuple[np.ndarray, bool]:
    """A layer's input x [N,C,H,W] as the rows its weight multiplies: (P, C*k*k) for a full convolution or the
    Einsum's per-position features (P, C), (P, C, k*k) for a depthwise one (second value True)."""
    if node.op_type == "Einsum":
        if _attrs(node)["equation"].decode().replace(" ", "") != "nchw,kc->nkhw":
            raise ValueError(f"{node.name}: only the classifier's 'nchw,kc->nkhw' Einsum is handled")
        rows = x.transpose(0, 2, 3, 1).reshape(-1, x.shape[1])
        return rows[rng.choice(len(rows), min(MAX_POSITIONS, len(rows)), replace=False)], False
    a = _attrs(node)
    group, (sh, sw), pads, (kh, kw) = a.get("group", 1), a.get("strides", [1, 1]), a.get("pads", [0, 0, 0, 0]), \
        a["kernel_shape"]
    if a.get("dilations", [1, 1]) != [1, 1] or a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise ValueError(f"{node.name}: dilated or auto-padded convolutions are not handled")
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]
    n, c, h, w = win.shape[:4]
    idx = rng.choice(n * h * w, min(MAX_POSITIONS, n * h * w), replace=False)
    rows = win.transpose(0, 2, 3, 1, 4, 5).reshape(n * h * w, c, kh * kw)[idx]
    if group == 1:
        return rows.reshape(len(rows), c * kh * kw), False
    if group != c:
        raise ValueError(f"{node.name}: grouped convolution ({group} groups of {c} channels) is not handled")
    return rows, True


def layer_hessians(model_path: str | Path, batches, threads: int = 2, seed: int = 0,
                   weights: set[str] | None = None, skip: set[str] | None = None) -> dict[str, np.ndarray]:
    """{weight name: H} summed over `batches` (float32 network inputs): X^T X of the rows each weight multiplies
    ([D, D]; [C, k*k, k*k] for depthwise), from one float32 pass with every layer input as an extra output. A
    weight several nodes read (a detector head shared by pyramid levels) sums over all of them. Only the
    `weights` given (default all) and none of `skip`: the positions sampled for a layer depend on the layers
    before it in the list, so leaving a branch out keeps the other layers' statistics what they were without it."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper

    m = onnx.load(str(model_path))
    users = {w: ns for w, ns in weight_users(m).items()
             if (weights is None or w in weights) and (skip is None or w not in skip)}
    have = {o.name for o in m.graph.output}
    for name in sorted({n.input[0] for ns in users.values() for n in ns} - have):
        m.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    sess = ort.InferenceSession(m.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    names, inp = [o.name for o in sess.get_outputs()], sess.get_inputs()[0].name
    rng = np.random.default_rng(seed)
    hess: dict[str, np.ndarray] = {}
    for batch in batches:
        outs = dict(zip(names, sess.run(None, {inp: np.ascontiguousarray(batch, np.float32)})))
        for wname, nodes in users.items():
            for node in nodes:
                rows, depthwise = _patches(outs[node.input[0]].astype(np.float64), node, rng)
                h = np.einsum("pci,pcj->cij", rows, rows) if depthwise else rows.T @ rows
                hess[wname] = hess[wname] + h if wname in hess else h
    return hess


# ------------------------------------------------------------------------------------------- GPTQ

def gptq_int8(w: np.ndarray, h: np.ndarray, damp: float = DAMP) -> tuple[np.ndarray, np.ndarray]:
    """Weights w [O, D] and H [D, D] -> (int8 q [O, D], float32 scale [O]) with w ~ q * scale[:, None]: one
    symmetric scale per output row (max|w| / 127, as int8_weights), the integers chosen by GPTQ so that
    (w - q*scale) X stays small on the calibration inputs X rather than each weight on its own. With H diagonal
    (inputs uncorrelated) this is plain rounding to nearest."""
    w = np.array(w, np.float64)
    h = np.array(h, np.float64)
    d = w.shape[1]
    scale = np.abs(w).max(axis=1) / 127.0
    scale[scale == 0] = 1.0
    dead = np.diag(h) == 0  # an input that is always zero: its weights do not matter
    h[dead, dead] = 1.0
    w[:, dead] = 0.0
    h += damp * float(np.mean(np.diag(h))) * np.eye(d)
    u = np.linalg.cholesky(np.linalg.inv(h)).T  # upper factor of H^-1, as in the paper's Algorithm 1
    q = np.zeros_like(w)
    for i in range(d):
        q[:, i] = np.clip(np.rint(w[:, i] / scale), -127, 127)
        err = (w[:, i] - q[:, i] * scale) / u[i, i]
        w[:, i:] -= np.outer(err, u[i, i:])
    return q.astype(np.int8), scale.astype(np.float32)


def calibrated_int8_weights(src: str | Path, dst: str | Path, hessians: dict[str, np.ndarray],
                            min_size: int = 256) -> dict:
    """Write `src` to `dst` with the weights int8_weights would convert stored as int8, their integers from
    `gptq_int8` with `hessians` (layer_hessians); everything else as int8_weights does (same graph, metadata,
    deterministic bytes). Returns {tensors, bytes_before, bytes_after}."""
    import onnx

    from leafscout.webapp.phone import _store_weights, dequantized, int8_weight_of

    users = weight_users(onnx.load(str(src)))

    def convert(name, base, arr, uses, n):
        if name not in hessians or arr.size < min_size or arr.ndim < 2 or not uses \
                or not all(int8_weight_of(*u) for u in uses):
            return None
        flat = arr.reshape(arr.shape[0], -1)
        node = users[name][0]
        if node.op_type == "Conv" and _attrs(node).get("group", 1) > 1:  # depthwise: one small H per channel
            pairs = [gptq_int8(flat[c:c + 1], hessians[name][c]) for c in range(len(flat))]
            q, scale = np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs])
        else:
            q, scale = gptq_int8(flat, hessians[name])
        return dequantized(name, base, q.reshape(arr.shape), scale, n)

    n, size = _store_weights(src, dst, "_int8", convert, min_opset=(13, "per-axis DequantizeLinear"))
    return {"tensors": n, "bytes_before": Path(src).stat().st_size, "bytes_after": size}


# ------------------------------------------------------------------------------------------- calibration photos

def classifier_photos(data_root: str | Path, per_dataset: int, seed: int = 0) -> list[Path]:
    """`per_dataset` TRAIN photos of every dataset of datasets/labels.yaml found under `data_root`."""
    from leafscout.model.labels import load_label_map

    rnd, out = random.Random(seed), []
    for ds in sorted(load_label_map().datasets):
        found = sorted(p for p in (Path(data_root) / ds / "train").rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        out += rnd.sample(found, min(per_dataset, len(found)))
    return out


def detector_photos(data_root: str | Path, n: int, seed: int = 0) -> list[Path]:
    """`n` TRAIN photos of the detector's dataset (rice_pest)."""
    from leafscout.training.detect_data import detection_labels, rice_pest_items  # no torch there

    _, index = detection_labels()
    items = rice_pest_items(Path(data_root) / "rice_pest", "train", index)
    return [Path(it.path) for it in random.Random(seed).sample(items, min(n, len(items)))]


def leaf_photos(data_root: str | Path, n: int, seed: int = 0) -> list[Path]:
    """`n` TRAIN photos of the field leaf sets (LEAF_CALIBRATION_SETS): leaves among leaves, what a scene
    detector's leaf branch sees in the field."""
    from leafscout.model.labels import load_label_map
    from leafscout.training.data import discover

    lm = load_label_map()
    sets = [d for d in LEAF_CALIBRATION_SETS if (Path(data_root) / d).is_dir()]
    field = [s for s in discover(data_root, sets, "train", lm, lm.labels) if lm.labels[s.label] != lm.background_label]
    return [Path(s.path) for s in random.Random(seed).sample(field, min(n, len(field)))]


def leaf_branch_weights(model_path: str | Path) -> set[str]:
    """The weights only a scene detector's leaf branch reads (its own backbone blocks, pyramid and head: nodes
    exported under /leaf_...); empty for an insect-only detector."""
    import onnx

    users = weight_users(onnx.load(str(model_path)))
    return {w for w, nodes in users.items() if all(n.name.startswith("/leaf_") for n in nodes)}


def detector_hessians(det, data_root: str | Path, n: int, threads: int = 2, log=print) -> tuple[dict, str, int]:
    """GPTQ's layer statistics for a detector -> (hessians, how they were made, photos used). Every layer shared
    with the insects (backbone, insect pyramid and head) from the same `n` rice_pest TRAIN photos as an
    insect-only detector, so those integers stay what they were; a scene detector's leaf-branch layers from `n`
    field-leaf TRAIN photos instead (rice plants are what that branch learned to ignore)."""
    rice = detector_photos(data_root, n)
    branch = leaf_branch_weights(det.path) if det.leaf_class is not None else set()
    hess = layer_hessians(det.path, detector_batches(det, rice), threads=threads, skip=branch)
    how = f"{n} rice_pest TRAIN photos"
    if not branch:
        return hess, how + ", the detector's letterbox", len(rice)
    leaves = leaf_photos(data_root, n)
    hess.update(layer_hessians(det.path, detector_batches(det, leaves), threads=threads, weights=branch))
    log(f"  leaf branch: {len(branch)} weights calibrated on {len(leaves)} field-leaf TRAIN photos")
    return hess, (how + f" (insect and shared layers); {len(branch)} leaf-branch layers from {len(leaves)} TRAIN "
                  f"photos of {', '.join(LEAF_CALIBRATION_SETS)}; the detector's letterbox"), len(rice) + len(leaves)


def classifier_batches(pred, photos: list[Path]):
    """The classifier's inputs for `photos`, through the runtime's own preprocessing (model.quantize's)."""
    from leafscout.model.quantize import calibration_batches

    return calibration_batches(pred, photos)


def detector_batches(det, photos: list[Path], batch_size: int = 4):
    """The detector's inputs for `photos`: the runtime's image gate and letterbox (model.detect)."""
    for i in range(0, len(photos), batch_size):
        yield np.stack([det.prepare(det.load(str(f))[0])[0] for f in photos[i:i + batch_size]])


def quantize_shipped(data_root: str | Path, out_dir: str | Path | None = None, classifier: str | Path | None = None,
                     detector: str | Path | None = None, per_dataset: int = 24, detector_n: int = 48,
                     threads: int = 2, log=print) -> list[Path]:
    """Make the calibrated int8 files of the shipped classifier and insect detector in `out_dir` (default
    phone/int8/), each with its sidecar JSON. Returns the files written."""
    from leafscout.model.detect import Detector, default_pests_path
    from leafscout.model.runtime import Predictor, default_model_path

    out = Path(out_dir) if out_dir else CALIBRATED_DIR
    out.mkdir(parents=True, exist_ok=True)
    jobs = []
    cls = Path(classifier) if classifier else default_model_path()
    pred = Predictor(cls, threads=threads)
    photos = classifier_photos(data_root, per_dataset)
    jobs.append((cls, lambda: (layer_hessians(cls, classifier_batches(pred, photos), threads=threads),
                               f"{per_dataset} TRAIN photos per dataset, the runtime's preprocessing", len(photos))))
    det_path = Path(detector) if detector else default_pests_path()
    if det_path and Path(det_path).is_file():
        det = Detector(det_path, threads=threads, labeler=False)
        jobs.append((Path(det_path), lambda: detector_hessians(det, data_root, detector_n, threads, log)))
    written = []
    for src, hessians in jobs:
        t0 = time.perf_counter()
        hess, how, n_photos = hessians()
        dst = out / src.name
        info = calibrated_int8_weights(src, dst, hess)
        side = {"source": src.name, "source_sha256": sha256_of(src), "sha256": sha256_of(dst),
                "method": "GPTQ weight-only int8, per output channel, symmetric; webapp/calibrated_int8.py",
                "calibration": how, "photos": n_photos, "damp": DAMP, "max_positions": MAX_POSITIONS,
                "tensors": info["tensors"], "bytes": info["bytes_after"]}
        (out / (src.stem + ".json")).write_text(json.dumps(side, indent=1) + "\n", "utf-8")
        log(f"{dst}: {info['tensors']} int8 tensors, {info['bytes_after'] / 1e6:.2f} MB, from {src.name} "
            f"({n_photos} calibration photos, {time.perf_counter() - t0:.0f} s)")
        written.append(dst)
    return written
