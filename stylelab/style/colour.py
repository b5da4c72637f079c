r"""Colour preservation for style transfer (Gatys, Bethge, Hertzmann & Shechtman 2017).

Style transfer copies the style's *colours* along with its brush strokes. Two ways to keep the
photo's colours:

* **Luminance-only transfer**: work in YIQ (Y = luma, I/Q = chroma), transfer style on the
  luminance only and put the content's chroma back:

  .. math::
      \begin{pmatrix}Y\\I\\Q\end{pmatrix} =
      \begin{pmatrix}0.299 & 0.587 & 0.114\\ 0.596 & -0.274 & -0.322\\ 0.211 & -0.523 & 0.312\end{pmatrix}
      \begin{pmatrix}R\\G\\B\end{pmatrix}

  The style's luminance is first matched to the content's mean and spread:
  :math:`Y_s' = \frac{\sigma_c}{\sigma_s}(Y_s - \mu_s) + \mu_c`.

* **Colour histogram matching** (linear): before the transfer, recolour the style image so its
  pixel mean and covariance equal the content's, :math:`x' = A(x - \mu_s) + \mu_c` with
  :math:`A = \Sigma_c^{1/2}\Sigma_s^{-1/2}` (symmetric matrix square roots).

Images are ``(3, H, W)`` or ``(N, 3, H, W)`` in [0, 1].
"""

from __future__ import annotations

import torch

_RGB2YIQ = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])


def _as_batch(x: torch.Tensor, name: str = "image", rgb: bool = True) -> tuple[torch.Tensor, bool]:
    """``(N, 3, H, W)`` and whether ``x`` was one ``(3, H, W)`` picture (:func:`stylelab.validate.as_image_batch`;
    ``rgb=False`` for YIQ values, whose I and Q are signed, so no [0, 1] check)."""
    from ..validate import as_image_batch

    return as_image_batch(x, name=name, range_check=rgb)


def rgb_to_yiq(x: torch.Tensor) -> torch.Tensor:
    """RGB -> YIQ (same shape); Y in [0, 1]."""
    b, single = _as_batch(x)
    out = torch.einsum("ij,njhw->nihw", _RGB2YIQ.to(b), b)  # (N, 3, H, W)
    return out[0] if single else out


def yiq_to_rgb(x: torch.Tensor) -> torch.Tensor:
    """YIQ -> RGB (exact inverse of :func:`rgb_to_yiq`)."""
    b, single = _as_batch(x, "YIQ image", rgb=False)
    inv = torch.linalg.inv(_RGB2YIQ.double()).to(b)
    out = torch.einsum("ij,njhw->nihw", inv, b)  # (N, 3, H, W)
    return out[0] if single else out


def luminance_image(x: torch.Tensor) -> torch.Tensor:
    """The Y channel repeated to three channels (what VGG sees in luminance-only transfer)."""
    b, single = _as_batch(x)
    y = rgb_to_yiq(b)[:, :1]  # (N, 1, H, W)
    out = y.expand(-1, 3, -1, -1).contiguous()
    return out[0] if single else out


def match_luminance(style: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """Grey style image whose luminance has the content's mean and standard deviation."""
    ys = rgb_to_yiq(_as_batch(style, "style image")[0])[:, :1]  # (1, 1, Hs, Ws)
    yc = rgb_to_yiq(_as_batch(content, "content image")[0])[:, :1]
    y = (ys - ys.mean()) * (yc.std() / ys.std().clamp_min(1e-6)) + yc.mean()
    out = y.clamp(0, 1).expand(-1, 3, -1, -1).contiguous()
    return out[0] if style.ndim == 3 else out


def combine_luminance(stylised: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """Take Y from ``stylised`` and I, Q from ``content`` (resized to match); back to RGB in [0, 1]."""
    s, single = _as_batch(stylised, "stylised image")
    c = _as_batch(content, "content image")[0]
    if c.shape[-2:] != s.shape[-2:]:
        c = torch.nn.functional.interpolate(c, size=s.shape[-2:], mode="bilinear", align_corners=False)
    yiq = torch.cat([rgb_to_yiq(s)[:, :1], rgb_to_yiq(c)[:, 1:]], dim=1)  # (N, 3, H, W)
    out = yiq_to_rgb(yiq).clamp(0, 1)
    return out[0] if single else out


def _sym_sqrt(cov: torch.Tensor, inverse: bool = False) -> torch.Tensor:
    vals, vecs = torch.linalg.eigh(cov)
    vals = vals.clamp_min(1e-8)
    d = vals.rsqrt() if inverse else vals.sqrt()
    return vecs @ torch.diag(d) @ vecs.T


def match_color(style: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """Recolour ``style`` so its RGB mean and covariance equal ``content``'s (linear histogram matching)."""
    s, single = _as_batch(style, "style image")
    c = _as_batch(content, "content image")[0]
    ps = s[0].reshape(3, -1).double()  # (3, P_s)
    pc = c[0].reshape(3, -1).double()  # (3, P_c)
    mu_s, mu_c = ps.mean(1, keepdim=True), pc.mean(1, keepdim=True)
    cov_s = torch.cov(ps) + 1e-5 * torch.eye(3, dtype=ps.dtype)
    cov_c = torch.cov(pc) + 1e-5 * torch.eye(3, dtype=pc.dtype)
    a = _sym_sqrt(cov_c) @ _sym_sqrt(cov_s, inverse=True)  # (3, 3)
    out = (a @ (ps - mu_s) + mu_c).reshape(s[0].shape).to(s.dtype).clamp(0, 1).unsqueeze(0)
    return out[0] if single else out
