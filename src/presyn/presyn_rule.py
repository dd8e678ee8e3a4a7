"""The presynaptic learning rule (eqs. 4-9; docs/protocol.md#presynaptic-learning-rule), defined once, with its backends.

One step, with ``p`` as it was during the forward pass and g = dL/dw_bar (= dL/dW_eff * scale, scale = mask / p):

    strength:  w <- w - lr * (g * (1 - p)^[modulation] + weight_decay * w)
    release:   p <- clamp(p + (1 - p) * delta, p_min, p_max),  delta = +p_up if |g| >= g_lim else -p_down,
               only where p < p_freeze (frozen synapses keep their p); not at all unless ``learn_p``.

``update`` is the definition: a functional torch expression over tensors of any shape (the network's flat
synapses, S stacked networks (S, P), the perceptron's repetitions (R, N)), float32 or float64. The backends
compute exactly its float operations in the same order, so their results are bit-identical to it
(tests/test_cpu_kernels.py, tests/test_kernel_boundaries.py, tests/test_reference_outputs.py):

- ``compiled()``: ``update`` under ``torch.compile`` (one fused loop over the synapses; GPUs);
- ``update_loop_``: a numba loop, in place, one pass over the synapses (float32 on the CPU, the default
  there: eager torch runs the expression as ~10 passes).

delta is written as [|g| >= g_lim] * (p_up + p_down) - p_down (the authors' form); it equals +p_up exactly when
p_up == p_down (every perceptron setting) and otherwise to the rounding of (p_up + p_down) - p_down.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numba
import numpy as np
import torch

F32 = np.float32
CONSTANTS = ("lr", "p_up", "p_down", "g_lim", "p_min", "p_freeze", "weight_decay", "modulation", "learn_p")


def update(
    w: torch.Tensor,
    p: torch.Tensor,
    grad: torch.Tensor,
    scale: torch.Tensor | None = None,
    *,
    lr: float,
    p_up: float,
    p_down: float,
    g_lim: float,
    p_min: float,
    p_freeze: float,
    weight_decay: float,
    modulation: bool,
    learn_p: bool,
    p_max: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """New (w, p) after one step; g = grad * scale (or grad when ``scale`` is None) is dL/dw_bar."""
    g = grad if scale is None else grad * scale
    step = g * (1.0 - p) if modulation else g
    w_new = w - lr * (step + weight_decay * w)
    if not learn_p:
        return w_new, p
    delta = (g.abs() >= g_lim).to(p.dtype) * (p_up + p_down) - p_down
    p_new = torch.clamp(p + (1.0 - p) * delta, p_min, p_max)
    if p_freeze < 1.0:
        p_new = torch.where(p < p_freeze, p_new, p)
    return w_new, p_new


_COMPILED: dict[str, Callable] = {}


def compile_cache_dir() -> None:
    """torch.compile's cache under $PRESYN_CACHE (default .cache), shared across jobs, unless already set."""
    os.environ.setdefault(
        "TORCHINDUCTOR_CACHE_DIR", str(Path(os.environ.get("PRESYN_CACHE", ".cache")).resolve() / "torchinductor")
    )


def compiled() -> Callable:
    """``update`` under torch.compile, made once per process."""
    if "update" not in _COMPILED:
        compile_cache_dir()
        _COMPILED["update"] = torch.compile(update, dynamic=False)
    return _COMPILED["update"]


# ------------------------------------------------------------------------------------- numba (CPU)
@numba.njit(cache=True, nogil=True, boundscheck=False)
def _loop(
    w, p, grad, scale, lr, p_up, p_down, g_lim, p_min, p_max, p_freeze, weight_decay, modulation, learn_p
):  # pragma: no cover
    lr, wd = F32(lr), F32(weight_decay)
    up_plus_down, down = F32(p_up + p_down), F32(p_down)
    g_lim32, p_min32, p_max32, freeze32 = F32(g_lim), F32(p_min), F32(p_max), F32(p_freeze)
    one, zero = F32(1.0), F32(0.0)
    freezing = p_freeze < 1.0
    for i in range(w.shape[0]):
        g = grad[i] * scale[i]
        pi = p[i]
        st = g * (one - pi) if modulation else g
        wi = w[i]
        w[i] = wi - lr * (st + wd * wi)
        if learn_p and not (freezing and not pi < freeze32):
            delta = (one if abs(g) >= g_lim32 else zero) * up_plus_down - down
            q = pi + (one - pi) * delta
            p[i] = min(max(q, p_min32), p_max32)


def _flat(t: torch.Tensor) -> np.ndarray:
    if t.dtype != torch.float32 or t.device.type != "cpu" or not t.is_contiguous():
        raise ValueError(
            f"the numba rule takes contiguous float32 CPU tensors, not {t.dtype} on {t.device}"
            f"{'' if t.is_contiguous() else ' (non-contiguous)'}"
        )
    return t.view(-1).numpy()


def update_loop_(
    w: torch.Tensor,
    p: torch.Tensor,
    grad: torch.Tensor,
    scale: torch.Tensor,
    *,
    lr: float,
    p_up: float,
    p_down: float,
    g_lim: float,
    p_min: float,
    p_freeze: float,
    weight_decay: float,
    modulation: bool,
    learn_p: bool,
    p_max: float = 1.0,
) -> None:
    """``update`` in place on contiguous float32 CPU tensors of any (equal) shape: one numba pass."""
    _loop(
        _flat(w),
        _flat(p),
        _flat(grad),
        _flat(scale),
        float(lr),
        float(p_up),
        float(p_down),
        float(g_lim),
        float(p_min),
        float(p_max),
        float(p_freeze),
        float(weight_decay),
        bool(modulation),
        bool(learn_p),
    )
