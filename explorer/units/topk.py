"""Top-k activations per unit, streamed over batches of images.

For unit c the candidates of one image are its spatial maxima max_{y,x} a_c(y, x) (one per image, the classic
choice) or up to m maxima picked greedily with suppression of a (2r+1) x (2r+1) window around each pick.
Streaming keeps only k per unit: top_k(S_seen ∪ S_batch) = top_k(top_k(S_seen) ∪ S_batch).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

NO_IMAGE = -1  # image id of an empty slot (fewer than k candidates seen)


def spatial_maxima(act: torch.Tensor, per_image: int = 1, radius: int = 0
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per image and unit of ``act`` ``(N, C, H, W)``: the ``per_image`` largest values with their (y, x).

    Returns ``(values, ys, xs)``, each ``(N, C, per_image)``; values are float32. After each pick, the cells with
    |y - y0| <= radius and |x - x0| <= radius are excluded; slots with nothing left hold -inf. Ties go to the
    first cell in row-major order.
    """
    if per_image == 1:
        value, y, x = single_maxima(act)
        return value[..., None], y[..., None], x[..., None]
    n, c, h, w = act.shape
    flat = act.reshape(n, c, h * w).float().clone()
    rows = torch.arange(h * w) // w
    cols = torch.arange(h * w) % w
    values, ys, xs = [], [], []
    for _ in range(per_image):
        value, idx = flat.max(dim=2)
        y, x = idx // w, idx % w
        values.append(value), ys.append(y), xs.append(x)
        near = ((rows - y[..., None]).abs() <= radius) & ((cols - x[..., None]).abs() <= radius)
        flat.masked_fill_(near, float("-inf"))
    return torch.stack(values, 2), torch.stack(ys, 2), torch.stack(xs, 2)


def single_maxima(act: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """max_{y,x} a and its (y, x), each ``(N, C)``, in two steps: each row's best column, then the best row.
    Reducing over W and H of the (N, H, W, C) view keeps the channels as the fast axis of channels_last
    activations (2x faster than one max over H*W)."""
    row_best, row_x = act.permute(0, 2, 3, 1).max(dim=2)  # (N, H, C)
    value, y = row_best.max(dim=1)  # (N, C)
    return value.float(), y, row_x.gather(1, y[:, None, :])[:, 0]


@dataclass
class TopK:
    """The best k per unit, best first: ``value`` float32 and ``image``, ``y``, ``x`` int64, each ``(C, k)``."""

    value: torch.Tensor
    image: torch.Tensor
    y: torch.Tensor
    x: torch.Tensor

    @classmethod
    def empty(cls, units: int, k: int) -> TopK:
        fill = torch.full((units, k), NO_IMAGE, dtype=torch.int64)
        return cls(torch.full((units, k), float("-inf")), fill, fill.clone(), fill.clone())

    def update(self, values: torch.Tensor, image_ids: torch.Tensor, ys: torch.Tensor, xs: torch.Tensor) -> None:
        """Merge candidates ``(N, C, m)`` of images ``image_ids`` ``(N,)`` into the kept top k."""
        n, c, m = values.shape

        def units_first(t: torch.Tensor) -> torch.Tensor:
            return t.permute(1, 0, 2).reshape(c, n * m)

        images = image_ids.view(n, 1, 1).expand(n, c, m)
        self.merge(TopK(units_first(values.float()), units_first(images), units_first(ys), units_first(xs)))

    def merge(self, other: TopK) -> None:
        """top_k(self ∪ other), per unit: the reduction that combines partial scans (batches, shards, workers).
        ``other`` holds candidates ``(C, M)`` in any order; empty slots (-inf) never displace real ones."""
        k = self.value.shape[1]
        value = torch.cat([self.value, other.value.float()], 1)
        self.value, order = value.topk(k, dim=1)
        self.image, self.y, self.x = (torch.cat([mine, theirs], 1).gather(1, order) for mine, theirs in
                                      ((self.image, other.image), (self.y, other.y), (self.x, other.x)))
        self.image.masked_fill_(self.value == float("-inf"), NO_IMAGE)

    def where_images(self, keep: torch.Tensor, offset: int = 0) -> TopK:
        """A copy holding only entries whose image id is in ``keep`` (bool, by image id), ids shifted by
        ``offset``; the rest become empty slots."""
        ok = torch.cat([keep, torch.zeros(1, dtype=torch.bool)])[self.image]  # NO_IMAGE (-1) reads the False
        return TopK(self.value.masked_fill(~ok, float("-inf")), torch.where(ok, self.image + offset, NO_IMAGE),
                    self.y.clone(), self.x.clone())

    def as_dict(self) -> dict[str, torch.Tensor]:
        return {"value": self.value, "image": self.image, "y": self.y, "x": self.x}

    def dead(self) -> torch.Tensor:
        """``(C,)`` bool: units whose maximum over the whole dataset is <= 0 (they never fire)."""
        return self.value[:, 0] <= 0
