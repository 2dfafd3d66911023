"""One Reptile update on a linear model, against the closed form."""

from __future__ import annotations

import torch
from torch import nn

from metacore.methods.reptile import reptile_update


def test_one_reptile_update():
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(8, 3, generator=g), torch.randn(8, generator=g)
    w0 = torch.randn(3, generator=g)
    param = nn.Parameter(w0.clone())
    alpha, eps, steps = 0.05, 0.3, 2

    def loss_fn(p, step):
        return 0.5 * ((x @ p["w"] - y) ** 2).sum()

    reptile_update(loss_fn, {"w": param}, {}, steps=steps,
                   lrs={"w": torch.full((steps,), alpha)}, meta_step=eps)
    phi = w0.clone()
    for _ in range(steps):
        phi = phi - alpha * x.T @ (x @ phi - y)
    torch.testing.assert_close(param.detach(), w0 + eps * (phi - w0))
