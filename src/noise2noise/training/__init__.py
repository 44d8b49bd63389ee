"""Training: the run (``loop``: data, validation, checkpoints), its losses, the self-supervised
objectives (``selfsup``), the run folder (``runfolder``), and ``fit``, the one optimizer loop that
fine-tuning (``--adapt``, bursts) shares."""

from .loop import train

__all__ = ["train"]
