"""Training LeafScout: data discovery, augmentation presets, the training recipe, calibration and reports."""
