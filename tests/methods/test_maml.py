"""One MAML inner step and the meta-gradient on a linear model, against the closed form."""

from __future__ import annotations

import torch

from metacore.methods.maml import inner_loop, layer_names


def linear_task(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    xs, xq = torch.randn(6, 3, generator=g, dtype=torch.float64), torch.randn(
        5, 3, generator=g, dtype=torch.float64)
    ys, yq = torch.randn(6, generator=g, dtype=torch.float64), torch.randn(
        5, generator=g, dtype=torch.float64)
    w = torch.randn(3, generator=g, dtype=torch.float64, requires_grad=True)
    return xs, ys, xq, yq, w


def meta_gradient(second_order: bool, alpha: float = 0.1):
    xs, ys, xq, yq, w = linear_task()

    def support_loss(p, step):
        return 0.5 * ((xs @ p["w"] - ys) ** 2).sum()

    traj = inner_loop(support_loss, {"w": w}, steps=1,
                      lrs={"w": torch.tensor([alpha], dtype=torch.float64)},
                      second_order=second_order)
    w1 = traj[1]["w"]
    outer = 0.5 * ((xq @ w1 - yq) ** 2).sum()
    (g,) = torch.autograd.grad(outer, w)
    return w1.detach(), g, (xs, ys, xq, yq, w.detach())


def test_inner_step_and_second_order_meta_gradient():
    alpha = 0.1
    w1, g, (xs, ys, xq, yq, w) = meta_gradient(True, alpha)
    expected_w1 = w - alpha * xs.T @ (xs @ w - ys)
    torch.testing.assert_close(w1, expected_w1)
    jacobian = torch.eye(3, dtype=torch.float64) - alpha * xs.T @ xs  # d w1 / d w
    torch.testing.assert_close(g, jacobian @ (xq.T @ (xq @ expected_w1 - yq)))


def test_first_order_drops_the_jacobian():
    _, g1, (xs, ys, xq, yq, w) = meta_gradient(False)
    w1 = w - 0.1 * xs.T @ (xs @ w - ys)
    torch.testing.assert_close(g1, xq.T @ (xq @ w1 - yq))
    _, g2, _ = meta_gradient(True)
    assert not torch.allclose(g1, g2)


def test_adapted_part_selects_top_layers(tiny):
    names = layer_names(tiny.model, "top", 1)
    assert names and all(".layer.1." in n for n in names)
    assert layer_names(tiny.model, "head", 1) == []
    assert len(layer_names(tiny.model, "all", 1)) == len(list(tiny.model.parameters()))
