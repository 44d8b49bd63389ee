"""Folder throughput of `n2n denoise` against the network alone, on the same images.

    python benchmarks/folder_throughput.py [--set ../shared/data/test/Kodak24] [--backend auto] [--streams 0]

Network-only: the Denoiser's network on the already-decoded images (pre/post-processing
included, no file I/O), both one image at a time on all cores (latency) and with ``--streams``
images at once (what `n2n denoise` does on a folder with OpenVINO; 0 = OpenVINO's choice).
Folder: `denoise_files` on the folder (decode, network, encode and write) with the streams
Denoiser, model loading excluded. ``folder_vs_network`` divides by the faster network-only rate.
The three are timed in turn ``--rounds`` times (default 3) and their medians reported.
Prints one JSON line."""

import argparse
import json
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

from noise2noise.data.folders import list_images
from noise2noise.denoiser import Denoiser
from noise2noise.deploy.bench import cpu_name
from noise2noise.files import denoise_files, plan
from noise2noise.images import read_image

ap = argparse.ArgumentParser()
ap.add_argument("--set", default="../shared/data/test/Kodak24")
ap.add_argument("--backend", default="auto")
ap.add_argument("--precision", default="auto")
ap.add_argument("--streams", type=int, default=0)
ap.add_argument("--rounds", type=int, default=3)
a = ap.parse_args()
paths = list_images([a.set])
images = [read_image(p).pixels for p in paths]


def network_only(den: Denoiser) -> float:
    with ThreadPoolExecutor(den.streams) as pool:
        list(pool.map(den, images[: den.streams]))  # warm-up
        t = time.perf_counter()
        list(pool.map(den, images))
        return time.perf_counter() - t


lat_den = Denoiser.from_weights(backend=a.backend, precision=a.precision)
den = Denoiser.from_weights(backend=a.backend, precision=a.precision, streams=a.streams)


def folder_time() -> float:
    with tempfile.TemporaryDirectory() as d:
        jobs = plan([a.set], d)
        t = time.perf_counter()
        assert denoise_files(jobs, den, progress=False) == 0
        return time.perf_counter() - t


times = [(network_only(lat_den), network_only(den), folder_time()) for _ in range(a.rounds)]
latency, streams, folder = (statistics.median(t) for t in zip(*times))
row = {
    "images": len(paths),
    "backend": den.meta["backend"],
    "precision": den.meta["precision"],
    "streams": den.streams,
    "network_only_latency_img_per_s": round(len(paths) / latency, 2),
    "network_only_img_per_s": round(len(paths) / streams, 2),
    "folder_img_per_s": round(len(paths) / folder, 2),
    "folder_vs_network": round(min(latency, streams) / folder, 3),
    "rounds": a.rounds,
    "cpu": cpu_name(),
}
print(json.dumps(row))
