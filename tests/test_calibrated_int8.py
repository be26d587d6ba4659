"""Calibrated int8 weights for the phone (webapp/calibrated_int8.py): GPTQ rounding keeps a layer's output on
real inputs closer than rounding each weight to nearest, the layer inputs it uses are the ones the convolution
really multiplies, and the build ships a calibrated file only for the model it was made from."""
from __future__ import annotations

import json

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="int8 weights need the onnx package (the dev extra)")

from leafscout.webapp import calibrated_int8 as c8  # noqa: E402
from leafscout.webapp import phone  # noqa: E402


def rtn(w):
    scale = np.abs(w).max(1) / 127.0
    return np.clip(np.rint(w / scale[:, None]), -127, 127), scale


def test_with_uncorrelated_inputs_gptq_is_rounding_to_nearest():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(8, 20))
    q, scale = c8.gptq_int8(w, np.diag(rng.uniform(0.5, 2.0, 20)), damp=0.0)
    want, want_scale = rtn(w)
    assert q.dtype == np.int8 and np.array_equal(q, want) and np.allclose(scale, want_scale)
    assert np.all(np.abs(q).max(1) == 127)  # symmetric, one scale per output row, as int8_weights


def test_gptq_keeps_the_layer_output_on_correlated_inputs_closer_than_rounding():
    """The point of calibration: inputs of a real layer are correlated (neighbouring pixels, related channels);
    GPTQ spreads each rounding error over the weights of correlated inputs, so the output moves less."""
    rng = np.random.default_rng(1)
    w = rng.normal(size=(32, 48))
    x = rng.normal(size=(48, 6)) @ rng.normal(size=(6, 2000)) + 0.05 * rng.normal(size=(48, 2000))
    q, scale = c8.gptq_int8(w, x @ x.T)
    qr, sr = rtn(w)
    err_gptq = np.linalg.norm((w - q * scale[:, None]) @ x)
    err_rtn = np.linalg.norm((w - qr * sr[:, None]) @ x)
    assert err_gptq < 0.5 * err_rtn
    assert np.abs(q).max() <= 127


def tiny_model(path, rng):
    """stem conv 3->16 (3x3, stride 2, TF-style pads 0,0,1,1) -> Clip -> depthwise 3x3 -> 1x1 conv 16->32 ->
    global mean: the shapes of the classifier's layers, small."""
    from onnx import TensorProto, helper, numpy_helper

    w1 = rng.normal(0, 0.3, (16, 3, 3, 3)).astype(np.float32)
    w2 = rng.normal(0, 0.3, (16, 1, 3, 3)).astype(np.float32)
    w3 = rng.normal(0, 0.3, (32, 16, 1, 1)).astype(np.float32)
    inits = [numpy_helper.from_array(a, n) for a, n in ((w1, "w1"), (w2, "w2"), (w3, "w3"))] + [
        numpy_helper.from_array(np.zeros(16, np.float32), "b1"), numpy_helper.from_array(np.float32(0), "lo"),
        numpy_helper.from_array(np.float32(6), "hi"), numpy_helper.from_array(np.array([2, 3], np.int64), "axes")]
    nodes = [helper.make_node("Conv", ["image", "w1", "b1"], ["c1"], kernel_shape=[3, 3], strides=[2, 2],
                              pads=[0, 0, 1, 1]),
             helper.make_node("Clip", ["c1", "lo", "hi"], ["r1"]),
             helper.make_node("Conv", ["r1", "w2"], ["c2"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=16),
             helper.make_node("Conv", ["c2", "w3"], ["c3"], kernel_shape=[1, 1]),
             helper.make_node("ReduceMean", ["c3", "axes"], ["out"], keepdims=0)]
    g = helper.make_graph(nodes, "tiny", [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["n", 3, 16, 16])],
                          [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["n", 32])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)])
    m.ir_version = 8
    m.metadata_props.add(key="leafscout.version", value="test")
    onnx.save(m, str(path))
    return w1


def smooth_images(rng, n):
    """Photo-like inputs: smooth (neighbouring pixels correlated), channels related."""
    import cv2
    base = rng.normal(size=(n, 4, 4, 3)).astype(np.float32)
    return np.stack([cv2.resize(b, (16, 16), interpolation=cv2.INTER_CUBIC) for b in base]).transpose(0, 3, 1, 2)


def test_layer_inputs_are_what_each_convolution_multiplies_and_the_int8_model_stays_close(tmp_path):
    import onnxruntime as ort

    rng = np.random.default_rng(2)
    src, dst, near = tmp_path / "m.onnx", tmp_path / "c.onnx", tmp_path / "n.onnx"
    tiny_model(src, rng)
    x = smooth_images(rng, 12)
    hess = c8.layer_hessians(src, [x[:6], x[6:]], threads=1)
    assert hess["w1"].shape == (27, 27) and hess["w2"].shape == (16, 9, 9) and hess["w3"].shape == (16, 16)
    # the stem's H by hand: every 3x3x3 patch of the padded image at stride 2 (all 64 positions are used)
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (0, 1), (0, 1)))
    rows = np.array([xp[i, :, r:r + 3, c:c + 3].ravel() for i in range(len(x)) for r in range(0, 16, 2)
                     for c in range(0, 16, 2)])
    assert np.allclose(hess["w1"], rows.T @ rows, rtol=1e-5, atol=1e-6)

    info = c8.calibrated_int8_weights(src, dst, hess, min_size=100)
    phone.int8_weights(src, near, min_size=100)
    assert info["tensors"] == 3 and info["bytes_after"] < info["bytes_before"]
    g = onnx.load(str(dst)).graph
    assert [n.op_type for n in g.node[:3]] == ["DequantizeLinear"] * 3
    assert {i.name: i.data_type for i in g.initializer}["w3_int8"] == onnx.TensorProto.INT8
    assert {p.key: p.value for p in onnx.load(str(dst)).metadata_props} == {"leafscout.version": "test"}
    run = lambda p, a: ort.InferenceSession(str(p), providers=["CPUExecutionProvider"]).run(None, {"image": a})[0]  # noqa: E731
    ref = run(src, x)
    assert np.linalg.norm(run(dst, x) - ref) < np.linalg.norm(run(near, x) - ref)
    assert np.abs(run(dst, x) - ref).max() < 0.02 * np.abs(ref).max()


def test_the_build_ships_a_calibrated_file_only_for_the_model_it_was_made_from(tmp_path, capsys):
    rng = np.random.default_rng(3)
    folder, src, other = tmp_path / "int8", tmp_path / "m.onnx", tmp_path / "other" / "m.onnx"
    folder.mkdir()
    other.parent.mkdir()
    tiny_model(src, rng)
    tiny_model(other, rng)  # same name, other weights: a retrained model
    x = smooth_images(rng, 4)
    c8.calibrated_int8_weights(src, folder / "m.onnx", c8.layer_hessians(src, [x], threads=1), min_size=100)
    side = {"source_sha256": c8.sha256_of(src), "sha256": c8.sha256_of(folder / "m.onnx")}
    (folder / "m.json").write_text(json.dumps(side))
    assert c8.calibrated_file(src, folder) == folder / "m.onnx"
    assert c8.calibrated_file(other, folder) is None
    (folder / "m.json").write_text(json.dumps({**side, "sha256": "0" * 64}))  # the int8 file was replaced
    assert c8.calibrated_file(src, folder) is None
    (folder / "m.json").write_text("{not json")
    assert c8.calibrated_file(src, folder) is None

    stored = phone.ship_model(other, tmp_path / "shipped.onnx", "int8-calibrated", "float32")
    assert stored == "float32" and (tmp_path / "shipped.onnx").read_bytes() == other.read_bytes()
    err = capsys.readouterr().err
    assert "no calibrated int8 file for m.onnx" in err and "webapp.phone quantize" in err
    with pytest.raises(phone.PhoneBuildError, match="unknown weight storage 'int4'"):
        phone.ship_model(src, tmp_path / "x.onnx", "int8-calibrated", "int4")


def test_quantize_without_the_training_photos_says_where_they_are_expected(tmp_path, capsys):
    assert phone.main(["quantize", "--data-root", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert "holds no training photos" in err and "--data-root" in err and "Traceback" not in err


def test_each_calibration_pass_computes_only_its_own_layers(tmp_path, monkeypatch):
    """A scene detector's leaf branch is calibrated on leaf photos and the insect layers on rice photos: each
    pass computes only its own layers. (Positions are sampled layer after layer from one generator, so leaving
    the branch out of the rice pass is what gives the insect layers the very integers of the insect-only
    detector: `python benchmarks/insects_unchanged.py phone/int8/pests.onnx --shipped OLD_INT8` on the files.)"""
    rng = np.random.default_rng(3)
    src = tmp_path / "m.onnx"
    tiny_model(src, rng)
    x = smooth_images(rng, 8)
    monkeypatch.setattr(c8, "MAX_POSITIONS", 16)  # fewer positions than the layers have: sampling happens
    full = c8.layer_hessians(src, [x], threads=1)
    assert set(c8.layer_hessians(src, [x], threads=1, skip={"w2"})) == {"w1", "w3"}
    only = c8.layer_hessians(src, [x], threads=1, weights={"w2"})
    assert set(only) == {"w2"} and only["w2"].shape == full["w2"].shape
    assert np.allclose(c8.layer_hessians(src, [x], threads=1, skip={"w2"})["w1"], full["w1"])


def test_the_shipped_scene_detectors_leaf_branch_is_its_own_set_of_weights():
    """The weights `phone quantize` calibrates on leaf photos are exactly those only the leaf branch reads."""
    import onnx
    from leafscout.model.detect import Detector, default_pests_path

    path = default_pests_path()
    if not path.is_file() or Detector(path, labeler=False).leaf_class is None:
        pytest.skip("no scene detector shipped")
    users = c8.weight_users(onnx.load(str(path)))
    branch = c8.leaf_branch_weights(path)
    assert branch and all(all(n.name.startswith("/leaf_") for n in users[w]) for w in branch)
    rest = set(users) - branch
    assert rest and not any(n.name.startswith("/leaf_") for w in rest for n in users[w])
