"""Folder throughput of `n2n denoise` against the network alone, on the same images.

    python benchmarks/folder_throughput.py [--set ../shared/data/test/Kodak24] [--backend auto]

Network-only: the Denoiser's network on the already-decoded images (pre/post-processing
included, no file I/O). Folder: `denoise_files` on the folder (decode, network, encode and write,
pipelined), with the same Denoiser, model loading excluded. Prints one JSON line."""

import argparse
import json
import tempfile
import time

from noise2noise.data.folders import list_images
from noise2noise.denoiser import Denoiser
from noise2noise.deploy.bench import cpu_name
from noise2noise.files import denoise_files, plan
from noise2noise.images import read_image

ap = argparse.ArgumentParser()
ap.add_argument("--set", default="../shared/data/test/Kodak24")
ap.add_argument("--backend", default="auto")
ap.add_argument("--precision", default="auto")
a = ap.parse_args()
den = Denoiser.from_weights(backend=a.backend, precision=a.precision)
paths = list_images([a.set])
images = [read_image(p) for p in paths]
den(images[0].pixels)  # warm-up
t = time.perf_counter()
for im in images:
    den(im.pixels)
network = time.perf_counter() - t
with tempfile.TemporaryDirectory() as d:
    jobs = plan([a.set], d)
    t = time.perf_counter()
    failures = denoise_files(jobs, den, progress=False)
    folder = time.perf_counter() - t
row = {
    "images": len(paths),
    "backend": den.meta["backend"],
    "precision": den.meta["precision"],
    "network_only_img_per_s": round(len(paths) / network, 2),
    "folder_img_per_s": round(len(paths) / folder, 2),
    "folder_vs_network": round(network / folder, 3),
    "failures": failures,
    "cpu": cpu_name(),
}
print(json.dumps(row))
