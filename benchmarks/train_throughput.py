"""Training throughput of the paper U-Net (batch 16 of 64x64): fp32, channels_last, bf16 autocast.

python benchmarks/train_throughput.py
"""

import time

import torch

from noise2noise.model import ModelConfig, build_model

torch.manual_seed(0)
for cl in (False, True):
    for bf in (False, True):
        m = build_model(ModelConfig("unet"))
        opt = torch.optim.Adam(m.parameters())
        x, y = torch.rand(16, 3, 64, 64), torch.rand(16, 3, 64, 64)
        if cl:
            m = m.to(memory_format=torch.channels_last)
            x, y = x.contiguous(memory_format=torch.channels_last), y.contiguous(memory_format=torch.channels_last)

        def step(m=m, opt=opt, x=x, y=y, bf=bf):
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf):
                out = m(x)
            loss = ((out.float() - y) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()

        step()
        step()
        t = time.perf_counter()
        for _ in range(4):
            step()
        dt = (time.perf_counter() - t) / 4
        print(f"channels_last={cl} bf16={bf}: {16 / dt:.1f} img/s")
