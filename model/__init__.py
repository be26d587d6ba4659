"""The LeafScout model: architecture (torch), export, and the torch-free ONNX runtime."""
