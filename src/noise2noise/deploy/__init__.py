"""Deployment: conversion to ONNX / OpenVINO (``convert``), int8 (``quant``, ``int8``), the cache of
converted models (``cache``), the runtime choice (``choose``), export as one call (``export``) and
latency benchmarks (``bench``)."""
