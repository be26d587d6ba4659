"""LeafScout: offline crop-leaf diagnosis with organic-only advice."""
__version__ = "0.1.0"
