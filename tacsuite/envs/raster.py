"""A small numpy canvas for `rgb_array` frames: no display, no OpenGL, no matplotlib.

Coordinates are pixels, x to the right and y downwards; shapes are drawn by masks over
pixel centres, which is fast enough for the few hundred by few hundred frames envs render.
"""

from __future__ import annotations

import numpy as np

Color = tuple[int, int, int]
BLUE, ORANGE, GREEN, RED, GREY, DARK, LIGHT = ((0, 114, 178), (213, 94, 0), (0, 158, 115),
                                               (200, 40, 40), (150, 150, 150), (60, 60, 60),
                                               (225, 225, 225))


class Canvas:
    def __init__(self, height: int, width: int, background: Color = (255, 255, 255)):
        self.image = np.empty((int(height), int(width), 3), np.uint8)
        self.image[:] = background
        self._y, self._x = np.mgrid[0:self.image.shape[0], 0:self.image.shape[1]] + 0.5

    @property
    def shape(self) -> tuple[int, int]:
        return self.image.shape[:2]

    def rect(self, x0: float, y0: float, x1: float, y1: float, color: Color) -> Canvas:
        xa, xb = sorted((x0, x1))
        ya, yb = sorted((y0, y1))
        self.image[(self._x >= xa) & (self._x <= xb) & (self._y >= ya) & (self._y <= yb)] = color
        return self

    def disc(self, cx: float, cy: float, r: float, color: Color) -> Canvas:
        self.image[(self._x - cx) ** 2 + (self._y - cy) ** 2 <= r * r] = color
        return self

    def line(self, x0: float, y0: float, x1: float, y1: float, width: float,
             color: Color) -> Canvas:
        dx, dy = x1 - x0, y1 - y0
        t = ((self._x - x0) * dx + (self._y - y0) * dy) / max(dx * dx + dy * dy, 1e-12)
        t = np.clip(t, 0.0, 1.0)
        dist2 = (self._x - x0 - t * dx) ** 2 + (self._y - y0 - t * dy) ** 2
        self.image[dist2 <= (width / 2) ** 2] = color
        return self

    def polyline(self, xs, ys, width: float, color: Color) -> Canvas:
        for i in range(len(xs) - 1):
            self.line(xs[i], ys[i], xs[i + 1], ys[i + 1], width, color)
        return self
