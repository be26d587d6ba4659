"""Does a candidate detector keep model/pests.onnx's insects exactly? python benchmarks/insects_unchanged.py CANDIDATE.onnx"""
import sys, glob
import numpy as np, onnxruntime as ort
sys.path.insert(0, ".")
from leafscout.model.imageio import read_image
from leafscout.model.detect import letterbox, normalize
from leafscout.model.export import read_metadata
cand = sys.argv[1]
photos = sorted(glob.glob("../shared/datasets/rice_pest/val/images/*"))[:12] + sorted(glob.glob("../shared/datasets/rice_leaf_ph/val/*/*"))[:6] + sorted(glob.glob("../shared/datasets/chilli_leaf/val/*/*"))[:6]
m0 = read_metadata("model/pests.onnx"); m1 = read_metadata(cand)
import json
x = np.stack([normalize(letterbox(read_image(p), 384)[0], json.loads(m0["mean"]), json.loads(m0["std"])) for p in photos])
s0, b0 = ort.InferenceSession("model/pests.onnx", providers=["CPUExecutionProvider"]).run(None, {"image": x})
s1, b1 = ort.InferenceSession(cand, providers=["CPUExecutionProvider"]).run(None, {"image": x})
a, c = s0.shape[1:]
print(len(photos), "photos; max |score diff|", float(np.abs(s1[:, :a, :c] - s0).max()), "max |box diff| px", float(np.abs(b1[:, :a] - b0).max()),
      "; insect threshold", m0["score_threshold"], "->", m1["score_threshold"], "; leaf score at insect locations max", float(s1[:, :a, c].max()))
