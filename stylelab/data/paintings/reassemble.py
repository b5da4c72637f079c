"""Putting a painting's jigsaw pieces back together without seams (see the comment below for how)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from io import BytesIO

import numpy as np
from PIL import Image

from ...errors import AssetError
from .boards import _RESOURCE_DIR, _Board

# How a painting is put back together.
#
# The boards give each piece's centre only to 3 decimals (+-0.35 px), so plain rounding leaves
# 1-3 px gaps and steps. The pieces were cut in three different ways, each placed its own way:
#
# * "interlocking" (19 boards): classic jigsaw pieces cut edge to edge; neighbours share only the
#   1-px cut line. Knobs and sockets lock every piece in place, so each piece moves by a few
#   pixels until the union covers the painting rectangle with as few holes and as few doubly
#   covered pixels as possible (coordinate descent, :func:`_interlock_layout`).
# * "overlapping" (Renoir's "Moulin de la Galette"): jigsaw pieces cut with a wide margin, the
#   same 3-8 px of painting appear on both neighbours. The colours of the overlap give the exact
#   offset of each pair; a least-squares fit turns them into positions (:func:`_overlap_layout`).
# * "tiles" (Bazille, Cassatt, Van Gogh): plain rectangles that abut; their shift along each
#   common edge is the one that continues the picture most smoothly (:func:`_tile_layout`).
#
# The placed pieces are blended by depth (:func:`_composite`): the cut line itself, smeared by the
# cutting tool and WebP, is dropped and re-filled from both sides, so no seam line is drawn; a thin
# black or white frame of the scan is cut off (:func:`_frame`); between tiles, the slow brightness
# step of separately compressed tiles is levelled (:func:`_level_seams`).

_SEARCH = 3  # pixels searched around the current position
_COLOUR_SCALE = 30.0  # colour difference (0-255, max over channels) counted as a full mismatch
_DEPTH_CAP = 6


@dataclass(frozen=True)
class _Assembly:
    """A reassembled painting plus numbers that tell how clean the reassembly was."""

    image: Image.Image
    layout: str  # "interlocking", "overlapping" or "tiles": see _place_pieces
    holes_filled: int  # pixels inside the painting that no piece covered (filled from neighbours)
    pieces: int
    owner: np.ndarray  # index of the piece each pixel comes from (-1: filled hole), for checks


def _decode_pieces(board: _Board, entries: Mapping[str, bytes]) -> list[np.ndarray]:
    """RGBA uint8 arrays of a board's pieces."""
    arrays = []
    for piece in board.pieces:
        blob = entries.get(_RESOURCE_DIR + piece.file)
        if blob is None:
            raise AssetError(f"The paintings resource lacks the puzzle piece {piece.file}.")
        try:
            with Image.open(BytesIO(blob)) as im:
                arrays.append(np.asarray(im.convert("RGBA")))
        except (OSError, ValueError) as err:
            raise AssetError(f"Puzzle piece {piece.file} is not a readable image: {err}.") from err
    return arrays


def _pair_offset(a: np.ndarray, b: np.ndarray, guess: tuple[int, int]) -> tuple[int, int, float, int] | None:
    """Best placement of ``b`` relative to ``a`` judged by the colours of their overlap.

    Args:
        a: RGBA array of the first piece.
        b: RGBA array of the second piece.
        guess: Approximate ``(dx, dy)`` of ``b``'s top-left corner relative to ``a``'s.

    Returns:
        ``(dx, dy, mean_abs_diff, overlap_pixels)`` of the best offset within ``_SEARCH`` px of
        the guess, among offsets whose overlap is at least half the largest one; None when the
        pieces barely overlap.
    """
    scores: list[tuple[float, int, int, int]] = []
    for dy in range(guess[1] - _SEARCH, guess[1] + _SEARCH + 1):
        for dx in range(guess[0] - _SEARCH, guess[0] + _SEARCH + 1):
            x0, y0 = max(0, dx), max(0, dy)
            x1, y1 = min(a.shape[1], dx + b.shape[1]), min(a.shape[0], dy + b.shape[0])
            if x1 - x0 < 2 or y1 - y0 < 2:
                continue
            sa = a[y0:y1, x0:x1]
            sb = b[y0 - dy : y1 - dy, x0 - dx : x1 - dx]
            both = (sa[..., 3] > 0) & (sb[..., 3] > 0)
            n = int(both.sum())
            if n < 50:
                continue
            diff = np.abs(sa[..., :3][both].astype(np.int16) - sb[..., :3][both]).mean()
            scores.append((float(diff), dx, dy, n))
    if not scores:
        return None
    largest = max(s[3] for s in scores)
    diff, dx, dy, n = min(s for s in scores if s[3] >= largest // 2)
    return dx, dy, diff, n


def _overlap_layout(arrays: list[np.ndarray], start: list[tuple[int, int]]) -> list[tuple[int, int]] | None:
    """Positions from colour-matched overlaps, or None if the board is not cut with margins.

    A pair counts when its best overlap has >= 800 pixels that agree to within 6 grey levels on
    average (lossy WebP noise); the board qualifies when those pairs connect all pieces.
    """
    count = len(arrays)
    edges: list[tuple[int, int, int, int, float]] = []
    for u in range(count):
        for v in range(u + 1, count):
            guess = (start[v][0] - start[u][0], start[v][1] - start[u][1])
            overlap_w = min(arrays[u].shape[1], guess[0] + arrays[v].shape[1]) - max(0, guess[0])
            overlap_h = min(arrays[u].shape[0], guess[1] + arrays[v].shape[0]) - max(0, guess[1])
            if min(overlap_w, overlap_h) + _SEARCH < 8:  # side by side at most: no margin to match
                continue
            found = _pair_offset(arrays[u], arrays[v], guess)
            if found and found[3] >= 800 and found[2] <= 6.0:
                dx, dy, diff, n = found
                edges.append((u, v, dx, dy, n / (1.0 + diff)))
        if not any(u in edge[:2] for edge in edges):  # all of u's pairs are known by now
            return None
    # Are all pieces connected by trusted pairs?
    parent = list(range(count))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for u, v, *_ in edges:
        parent[root(u)] = root(v)
    if count < 2 or len({root(i) for i in range(count)}) != 1:
        return None
    # Weighted least squares for x and y separately, piece 0 pinned at its start position.
    rows = np.zeros((len(edges) + 1, count))
    weights = np.ones(len(edges) + 1)
    rhs = np.zeros((len(edges) + 1, 2))
    for row, (u, v, dx, dy, w) in enumerate(edges):
        rows[row, u], rows[row, v] = -1.0, 1.0
        rhs[row] = dx, dy
        weights[row] = np.sqrt(w)
    rows[-1, 0] = 1.0
    rhs[-1] = start[0]
    weights[-1] = 1e3
    solution, *_ = np.linalg.lstsq(rows * weights[:, None], rhs * weights[:, None], rcond=None)
    return [(int(round(x)), int(round(y))) for x, y in solution]


def _seam_profile(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """How well ``second`` continues ``first`` to its right, for vertical shifts -_SEARCH.._SEARCH.

    Both pieces are RGB float arrays; ``second``'s left column is put right after ``first``'s
    right column, with ``second``'s row ``r`` next to ``first``'s row ``r + shift``. Each side's
    edge column is predicted by linear extrapolation from the other side; the cost is the mean
    absolute error of the two predictions (lower is better).
    """
    costs = []
    for shift in range(-_SEARCH, _SEARCH + 1):
        n = min(first.shape[0] - shift, second.shape[0]) - 2 * _SEARCH
        if n < 8:
            costs.append(np.inf)
            continue
        a = first[_SEARCH + shift : _SEARCH + shift + n]
        b = second[_SEARCH : _SEARCH + n]
        costs.append(0.5 * (np.abs(b[:, 0] - (2 * a[:, -1] - a[:, -2])).mean()
                            + np.abs(a[:, -1] - (2 * b[:, 0] - b[:, 1])).mean()))
    return np.asarray(costs)


def _tile_layout(arrays: list[np.ndarray], start: list[tuple[int, int]]) -> list[tuple[int, int]] | None:
    """Positions of plain rectangular tiles (no transparent pixel), or None for other boards.

    Neighbouring tiles abut exactly; along their common edge they are shifted by the amount
    (within ``_SEARCH`` px) that makes the picture continue most smoothly across the edge
    (:func:`_seam_profile`), trusted in proportion to how clear that minimum is. A weighted
    least-squares fit turns the pair offsets into positions.
    """
    if any((a[..., 3] < 255).any() for a in arrays) or len(arrays) < 2:
        return None
    rgb = [a[..., :3].astype(np.float32) for a in arrays]
    equations: list[tuple[int, int, int, float, float]] = []  # (axis, u, v, v - u, weight)
    for u in range(len(arrays)):
        for v in range(len(arrays)):
            hu, wu = arrays[u].shape[:2]
            hv, wv = arrays[v].shape[:2]
            (xu, yu), (xv, yv) = start[u], start[v]
            for axis in (0, 1):  # 0: v right of u, 1: v below u
                if axis == 0:
                    gap, span = xv - (xu + wu), min(yu + hu, yv + hv) - max(yu, yv)
                    first, second, size = rgb[u], rgb[v], min(hu, hv)
                else:
                    gap, span = yv - (yu + hu), min(xu + wu, xv + wv) - max(xu, xv)
                    first, second = rgb[u].transpose(1, 0, 2), rgb[v].transpose(1, 0, 2)
                    size = min(wu, wv)
                if abs(gap) > 2 * _SEARCH or span < size // 2:
                    continue
                costs = _seam_profile(first, second)
                best = int(np.argmin(costs))
                finite = costs[np.isfinite(costs)]
                clarity = float((np.median(finite) - costs[best]) / (costs[best] + 1.0))
                across = (wu, hu)[axis]
                equations.append((axis, u, v, across, 100.0))  # they abut
                equations.append((1 - axis, u, v, best - _SEARCH, max(clarity, 0.01)))
    positions = np.zeros((len(arrays), 2))
    for axis in (0, 1):
        rows = [(u, v, d, w) for a, u, v, d, w in equations if a == axis]
        matrix = np.zeros((len(rows) + 1, len(arrays)))
        rhs = np.zeros(len(rows) + 1)
        weights = np.ones(len(rows) + 1)
        for i, (u, v, d, w) in enumerate(rows):
            matrix[i, u], matrix[i, v], rhs[i], weights[i] = -1.0, 1.0, d, w
        matrix[-1, 0], rhs[-1], weights[-1] = 1.0, start[0][axis], 1e3
        solution, _, rank, _ = np.linalg.lstsq(matrix * weights[:, None], rhs * weights, rcond=None)
        if rank < len(arrays):  # some tile has no neighbour along this axis
            return None
        positions[:, axis] = solution
    return [(int(round(x)), int(round(y))) for x, y in positions]


def _painting_rect(count: np.ndarray) -> tuple[int, int, int, int]:
    """``(top, bottom, left, right)`` of the rows/columns that are at least half covered."""
    covered = count > 0
    if not covered.any():
        raise AssetError("A painting's puzzle pieces are all transparent.")
    rows = covered.mean(axis=1)
    cols = covered.mean(axis=0)
    r = np.flatnonzero(rows >= 0.5 * rows.max())
    c = np.flatnonzero(cols >= 0.5 * cols.max())
    return int(r[0]), int(r[-1]) + 1, int(c[0]), int(c[-1]) + 1


def _erode(mask: np.ndarray, steps: int) -> np.ndarray:
    """``mask`` shrunk by ``steps`` pixels (4-neighbourhood); outside the array counts as empty."""
    inner = mask.copy()
    for _ in range(steps):
        shrunk = np.zeros_like(inner)
        shrunk[1:-1, 1:-1] = (inner[1:-1, 1:-1] & inner[:-2, 1:-1] & inner[2:, 1:-1]
                              & inner[1:-1, :-2] & inner[1:-1, 2:])
        inner = shrunk
    return inner


def _interlock_layout(arrays: list[np.ndarray], start: list[tuple[int, int]], shape: tuple[int, int],
                      sweeps: int = 8) -> list[tuple[int, int]]:
    """Positions of edge-to-edge pieces: fill the rectangle, overlap as little as possible.

    Coordinate descent: each piece in turn moves to the offset that minimises
    ``holes + sum(overlap mismatch)`` over the canvas, where a hole inside the painting rectangle
    costs 1 and a doubly covered pixel costs its colour difference to the other pieces, scaled
    to at most 1. The first sweep searches ``_SEARCH`` px around the board's position, later
    ones 1 px; it stops when no piece moves. Only the band of each piece within ``_SEARCH + 1``
    px of its outline is scored: deeper pixels score the same wherever the piece goes.
    """
    height, width = shape
    pos = [list(p) for p in start]
    masks = [a[..., 3] > 0 for a in arrays]
    colours = [a[..., :3].astype(np.int32) for a in arrays]
    painted = [c * m[..., None] for c, m in zip(colours, masks)]
    bands = []  # per piece: flat canvas offsets (relative to its top-left) and colours of the band
    for m, c in zip(masks, colours):
        ys, xs = np.nonzero(m & ~_erode(m, _SEARCH + 1))
        bands.append((ys * width + xs, c[ys, xs]))
    count = np.zeros(height * width, np.int32)
    total = np.zeros((height * width, 3), np.int32)

    def paint(k: int, sign: int) -> None:
        x, y = pos[k]
        h, w = masks[k].shape
        view_count = count.reshape(shape)[y : y + h, x : x + w]
        view_total = total.reshape(*shape, 3)[y : y + h, x : x + w]
        if sign > 0:
            view_count += masks[k]
            view_total += painted[k]
        else:
            view_count -= masks[k]
            view_total -= painted[k]

    for k in range(len(arrays)):
        paint(k, 1)
    for sweep in range(sweeps):
        top, bottom, left, right = _painting_rect(count.reshape(shape))
        inside = np.zeros(shape, bool)
        inside[top:bottom, left:right] = True
        inside = inside.ravel()
        reach = _SEARCH if sweep == 0 else 1
        moved = False
        for k in range(len(arrays)):
            paint(k, -1)
            h, w = masks[k].shape
            offsets, band_colours = bands[k]
            best: tuple[float, int, int] | None = None
            for dy in range(-reach, reach + 1):
                for dx in range(-reach, reach + 1):
                    x, y = pos[k][0] + dx, pos[k][1] + dy
                    if x < 0 or y < 0 or x + w > width or y + h > height:
                        continue
                    where = offsets + (y * width + x)
                    c = count[where]
                    filled = int(((c == 0) & inside[where]).sum())
                    over = c > 0
                    mismatch = 0.0
                    if over.any():
                        mean = total[where[over]] / c[over][:, None]
                        diff = np.abs(band_colours[over] - mean).max(axis=1)
                        mismatch = float(np.minimum(diff / _COLOUR_SCALE, 1.0).sum())
                    energy = mismatch - filled + 1e-3 * (dx * dx + dy * dy)
                    if best is None or energy < best[0]:
                        best = (energy, dx, dy)
            if best is not None and (best[1] or best[2]):
                pos[k][0] += best[1]
                pos[k][1] += best[2]
                moved = True
            paint(k, 1)
        if not moved and sweep > 0:
            break
    return [(x, y) for x, y in pos]


def _depth(mask: np.ndarray) -> np.ndarray:
    """How deep each opaque pixel lies inside its piece: 1 on the cut contour, up to _DEPTH_CAP.

    Pixels outside the piece's image count as opaque, so the straight outer edge of a border
    piece is not a contour (only cuts are).
    """
    inner = np.pad(mask, 1, constant_values=True)
    depth = np.zeros(mask.shape, np.float32)
    for _ in range(_DEPTH_CAP):
        core = inner[1:-1, 1:-1]
        depth += core
        shrunk = np.ones_like(inner)
        shrunk[1:-1, 1:-1] = core & inner[:-2, 1:-1] & inner[2:, 1:-1] & inner[1:-1, :-2] & inner[1:-1, 2:]
        inner = shrunk
        if not inner[1:-1, 1:-1].any():
            break
    return depth * mask


def _fill_holes(rgb: np.ndarray, known: np.ndarray) -> None:
    """Fill the pixels where ``known`` is False with the mean of known 8-neighbours, in place.

    Works from the edge of each hole inwards, so wide holes get the colours around them.
    """
    known = np.pad(known, 1)
    padded = np.pad(rgb, ((1, 1), (1, 1), (0, 0)))
    ys, xs = np.nonzero(~known[1:-1, 1:-1])
    ys, xs = ys + 1, xs + 1
    steps = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx]
    while ys.size:
        acc = np.zeros((ys.size, 3), np.float32)
        num = np.zeros(ys.size, np.float32)
        for dy, dx in steps:
            ok = known[ys + dy, xs + dx]
            acc[ok] += padded[ys[ok] + dy, xs[ok] + dx]
            num += ok
        grow = num > 0
        if not grow.any():  # nothing known at all
            break
        padded[ys[grow], xs[grow]] = acc[grow] / num[grow][:, None]
        known[ys[grow], xs[grow]] = True
        ys, xs = ys[~grow], xs[~grow]
    rgb[...] = padded[1:-1, 1:-1]


def _place_pieces(board: _Board, entries: Mapping[str, bytes]) -> tuple[list[np.ndarray], list[tuple[int, int]], str]:
    """Decode a board's pieces and find the exact top-left pixel of each on a padded canvas.

    Returns:
        The RGBA arrays, their ``(x, y)`` positions, and the layout found: ``"tiles"``
        (:func:`_tile_layout`), ``"overlapping"`` (:func:`_overlap_layout`) or
        ``"interlocking"`` (:func:`_interlock_layout`).
    """
    arrays = _decode_pieces(board, entries)
    margin = _SEARCH * 8 + 8
    start = [
        (int(round(p.x * board.width - a.shape[1] / 2)) + margin,
         int(round(p.y * board.height - a.shape[0] / 2)) + margin)
        for p, a in zip(board.pieces, arrays)
    ]
    if min(min(s) for s in start) < _SEARCH * 4:
        raise AssetError(f"Board {board.level} places puzzle pieces far outside the painting.")
    positions = _tile_layout(arrays, start)
    if positions is not None:
        return arrays, positions, "tiles"
    positions = _overlap_layout(arrays, start)
    if positions is not None:
        return arrays, positions, "overlapping"
    shape = (max(y + a.shape[0] for (x, y), a in zip(start, arrays)) + margin,
             max(x + a.shape[1] for (x, y), a in zip(start, arrays)) + margin)
    return arrays, _interlock_layout(arrays, start, shape), "interlocking"


def _composite(arrays: list[np.ndarray], positions: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray, int]:
    """Blend placed pieces into one cropped RGB painting.

    Each pixel is the mean of the pieces covering it, weighted by depth squared. Contour pixels
    (depth 1: the cut line, whose colours WebP and the cutting tool smeared) get no weight; where
    nothing else covers them, and in the rare real holes, they are filled from their neighbours.

    Returns:
        ``(rgb, owner, holes)``: the float RGB array (H, W, 3), the index of the piece that gives
        each pixel most of its colour (-1 where nothing covered it), and the number of pixels
        that no piece covered at all.
    """
    left_most = min(x for x, _ in positions)
    top_most = min(y for _, y in positions)
    positions = [(x - left_most, y - top_most) for x, y in positions]
    height = max(y + a.shape[0] for (x, y), a in zip(positions, arrays)) + 1
    width = max(x + a.shape[1] for (x, y), a in zip(positions, arrays)) + 1
    weight_sum = np.zeros((height, width), np.float32)
    colour_sum = np.zeros((height, width, 3), np.float32)
    owner = np.full((height, width), -1, np.int32)
    owner_depth = np.zeros((height, width), np.float32)
    for k, ((x, y), a) in enumerate(zip(positions, arrays)):
        h, w = a.shape[:2]
        depth = _depth(a[..., 3] > 0)
        weight = np.where(depth > 1, depth**2, 0.0).astype(np.float32)
        weight_sum[y : y + h, x : x + w] += weight
        colour_sum[y : y + h, x : x + w] += a[..., :3] * weight[..., None]
        deeper = depth > owner_depth[y : y + h, x : x + w]
        owner[y : y + h, x : x + w][deeper] = k
        owner_depth[y : y + h, x : x + w][deeper] = depth[deeper]
    top, bottom, left, right = _painting_rect(owner_depth)
    # Trim border rows/columns that are not (almost) fully covered: a straight outer edge that
    # ends one pixel short leaves a thin uncovered line, not part of the painting.
    while bottom - top > 16 and right - left > 16:
        sides = {
            "top": float((owner_depth[top, left:right] == 0).mean()),
            "bottom": float((owner_depth[bottom - 1, left:right] == 0).mean()),
            "left": float((owner_depth[top:bottom, left] == 0).mean()),
            "right": float((owner_depth[top:bottom, right - 1] == 0).mean()),
        }
        side = max(sides, key=sides.__getitem__)
        if sides[side] <= 0.01:
            break
        if side == "top":
            top += 1
        elif side == "bottom":
            bottom -= 1
        elif side == "left":
            left += 1
        else:
            right -= 1
    weights = weight_sum[top:bottom, left:right]
    rgb = colour_sum[top:bottom, left:right] / np.maximum(weights, 1e-6)[..., None]
    owner = owner[top:bottom, left:right]
    holes = int((owner < 0).sum())
    known = weights > 0
    if not known.all():
        _fill_holes(rgb, known)
    top, bottom, left, right = _frame(rgb)
    return rgb[top:bottom, left:right], owner[top:bottom, left:right], holes


def _frame(rgb: np.ndarray, threshold: float = 24.0, most: int = 6) -> tuple[int, int, int, int]:
    """Rows/columns to keep so that a thin frame around the painting is cut off.

    Some scans carry a black or white border, and some pieces a light outer line. Working from
    each side inwards, a row (column) is dropped while its mean brightness differs by more than
    ``threshold`` from that of the rows 6-10 px further in, at most ``most`` per side.

    Returns:
        ``(top, bottom, left, right)`` slice bounds.
    """
    grey = rgb.mean(axis=2)
    if min(grey.shape) < 4 * (most + 5):
        return 0, grey.shape[0], 0, grey.shape[1]
    cuts = []
    for lines in (grey, grey[::-1], grey.T, grey.T[::-1]):
        means = lines[: most + 5].mean(axis=1)
        reference = float(np.median(means[most : most + 5]))
        cut = 0
        while cut < most and abs(means[cut] - reference) > threshold:
            cut += 1
        cuts.append(cut)
    return cuts[0], grey.shape[0] - cuts[1], cuts[2], grey.shape[1] - cuts[3]


def _level_seams(rgb: np.ndarray, owner: np.ndarray, window: int = 15, reach: int = 6) -> None:
    """Even out the brightness step along the straight cuts between rectangular tiles, in place.

    Each tile was WebP-compressed on its own, so two tiles disagree slightly (a few grey levels,
    varying slowly) along their common edge. Across every vertical and horizontal cut we measure
    that step (the jump minus the gradient on both sides), average it over ``window`` px along
    the cut and spread half of the correction over ``reach`` px into each tile.
    """
    for transposed in (False, True):
        image = rgb.transpose(1, 0, 2) if transposed else rgb  # a view: edits land in rgb
        labels = owner.T if transposed else owner
        seam = (labels[:, 1:] != labels[:, :-1]) & (labels[:, 1:] >= 0) & (labels[:, :-1] >= 0)
        seam[:, :1] = False
        seam[:, -2:] = False
        columns = np.flatnonzero(seam.sum(axis=0) >= window)
        for x in columns:
            rows = seam[:, x]
            left, right = image[:, x], image[:, x + 1]
            step = (right - left) - 0.5 * ((left - image[:, x - 1]) + (image[:, x + 2] - right))
            step = step * rows[:, None]
            kernel = np.ones(window, np.float32)
            total = np.stack([np.convolve(step[:, c], kernel, "same") for c in range(3)], axis=1)
            count = np.convolve(rows.astype(np.float32), kernel, "same")
            level = np.where(rows[:, None], total / np.maximum(count, 1.0)[:, None], 0.0)
            for k in range(min(reach, x + 1, image.shape[1] - x - 1)):
                share = 0.5 * (reach - k) / reach
                image[:, x - k] += level * share
                image[:, x + 1 + k] -= level * share


def _assemble(board: _Board, entries: Mapping[str, bytes]) -> _Assembly:
    """Rebuild one painting from its puzzle pieces."""
    arrays, positions, layout = _place_pieces(board, entries)
    rgb, owner, holes = _composite(arrays, positions)
    if layout == "tiles":
        _level_seams(rgb, owner)
    image = Image.fromarray(np.clip(np.rint(rgb), 0, 255).astype(np.uint8), "RGB")
    return _Assembly(image, layout, holes, len(arrays), owner)

