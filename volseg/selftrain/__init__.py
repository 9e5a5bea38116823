"""Self-training: pseudo-labels from a supervised model, retrained rounds (``volseg selftrain``)."""

from volseg.selftrain.loop import selftrain

__all__ = ["selftrain"]
