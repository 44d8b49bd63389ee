"""Bursts: several handheld frames of one scene merged into one clean image (``n2n burst``).

``align`` registers each frame on the first, ``merge`` learns from the aligned frames and merges them,
``job`` reads the frames, runs the merge and writes the result with its report."""
