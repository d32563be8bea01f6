"""Draw the Teams app icons: a house with its front door open and a safeguarding shield.

- ``color.png``: 192x192, full colour: a white house on the app's accent blue, the door open, and
  an amber shield with a tick.
- ``outline.png``: 32x32, white on transparent (Teams tints it): the same house and shield.

Standard library only (``zlib`` and ``struct`` write the PNGs). Shapes are polygons, each pixel is
sampled 8x8 times for smooth edges, and the output is deterministic, so the committed PNGs can be
checked against this script. Run ``python manifest/draw_icons.py`` to redraw them.
"""

from __future__ import annotations

import math
import struct
import sys
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

Point = tuple[float, float]
Polygon = Sequence[Point]
Colour = tuple[int, int, int, int]

HERE = Path(__file__).resolve().parent
ACCENT: Colour = (0x1F, 0x4E, 0x8C, 255)  # the manifest's accentColor
WHITE: Colour = (255, 255, 255, 255)
AMBER: Colour = (0xF2, 0xA9, 0x00, 255)
CLEAR: Colour = (0, 0, 0, 0)
SAMPLES = 8


def inside(point: Point, polygon: Polygon) -> bool:
    """Even-odd rule point-in-polygon test."""
    x, y = point
    result = False
    count = len(polygon)
    for index in range(count):
        x1, y1 = polygon[index]
        x2, y2 = polygon[(index + 1) % count]
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            result = not result
    return result


def rectangle(left: float, top: float, right: float, bottom: float) -> Polygon:
    return [(left, top), (right, top), (right, bottom), (left, bottom)]


def shield(cx: float, top: float, width: float, height: float) -> Polygon:
    """A heater shield: flat top, straight sides for 45% of its height, curving to a point."""
    half = width / 2
    side = top + height * 0.45
    points: list[Point] = [(cx - half, top), (cx + half, top), (cx + half, side)]
    steps = 24
    for step in range(1, steps + 1):  # right curve down to the point
        t = step / steps
        points.append(
            (cx + half * math.cos(t * math.pi / 2), side + (top + height - side) * math.sin(t * math.pi / 2))
        )
    for step in range(steps - 1, -1, -1):  # and back up the left side
        t = step / steps
        points.append(
            (cx - half * math.cos(t * math.pi / 2), side + (top + height - side) * math.sin(t * math.pi / 2))
        )
    return points


def scaled(polygon: Polygon, factor: float) -> Polygon:
    return [(x * factor, y * factor) for x, y in polygon]


def stroke(start: Point, end: Point, width: float) -> Polygon:
    """A straight line of ``width`` as a polygon."""
    (x1, y1), (x2, y2) = start, end
    length = math.hypot(x2 - x1, y2 - y1)
    nx, ny = -(y2 - y1) / length * width / 2, (x2 - x1) / length * width / 2
    return [(x1 + nx, y1 + ny), (x2 + nx, y2 + ny), (x2 - nx, y2 - ny), (x1 - nx, y1 - ny)]


# The drawing on a 192-unit canvas; the outline icon scales it down.
HOUSE: Polygon = [(96, 34), (164, 92), (146, 92), (146, 156), (46, 156), (46, 92), (28, 92)]
DOOR: Polygon = rectangle(66, 110, 92, 156)
SHIELD_RING: Polygon = shield(126, 98, 62, 74)
SHIELD: Polygon = shield(126, 106, 46, 56)
TICK: tuple[Polygon, Polygon] = (stroke((109, 132), (121, 144), 7), stroke((119, 145), (143, 119), 7))

Layer = tuple[Polygon, Colour]


def colour_layers() -> list[Layer]:
    return [
        (rectangle(0, 0, 192, 192), ACCENT),
        (HOUSE, WHITE),
        (DOOR, ACCENT),
        (SHIELD_RING, ACCENT),
        (SHIELD, AMBER),
        (TICK[0], WHITE),
        (TICK[1], WHITE),
    ]


def outline_layers() -> list[Layer]:
    factor = 32 / 192
    return [
        (scaled(HOUSE, factor), WHITE),
        (scaled(DOOR, factor), CLEAR),
        (scaled(SHIELD_RING, factor), CLEAR),
        (scaled(SHIELD, factor), WHITE),
    ]


def render(size: int, layers: list[Layer]) -> list[list[Colour]]:
    """Paint ``layers`` in order (later ones cover earlier ones), averaging SAMPLES^2 points a pixel."""
    boxes = [_bounds(polygon) for polygon, _ in layers]
    image: list[list[Colour]] = []
    for row in range(size):
        line: list[Colour] = []
        for column in range(size):
            total = [0.0, 0.0, 0.0, 0.0]
            for sy in range(SAMPLES):
                for sx in range(SAMPLES):
                    point = (column + (sx + 0.5) / SAMPLES, row + (sy + 0.5) / SAMPLES)
                    colour = CLEAR
                    for (polygon, paint), box in zip(layers, boxes, strict=True):
                        if _in_box(point, box) and inside(point, polygon):
                            colour = paint
                    # Premultiplied, so transparent samples do not darken the edges.
                    alpha = colour[3] / 255
                    total[0] += colour[0] * alpha
                    total[1] += colour[1] * alpha
                    total[2] += colour[2] * alpha
                    total[3] += alpha
            count = SAMPLES * SAMPLES
            coverage = total[3] / count
            if coverage == 0:
                line.append(CLEAR)
                continue
            line.append(
                (
                    round(total[0] / total[3]),
                    round(total[1] / total[3]),
                    round(total[2] / total[3]),
                    round(coverage * 255),
                )
            )
        image.append(line)
    return image


def _bounds(polygon: Polygon) -> tuple[float, float, float, float]:
    xs, ys = [x for x, _ in polygon], [y for _, y in polygon]
    return min(xs), min(ys), max(xs), max(ys)


def _in_box(point: Point, box: tuple[float, float, float, float]) -> bool:
    return box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3]


def png(image: list[list[Colour]]) -> bytes:
    """An 8-bit RGBA PNG (colour type 6), no interlace, filter 0 on every row."""
    height, width = len(image), len(image[0])

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    raw = b"".join(b"\x00" + bytes(channel for pixel in row for channel in pixel) for row in image)
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


ICONS: dict[str, tuple[int, Callable[[], list[Layer]]]] = {
    "color.png": (192, colour_layers),
    "outline.png": (32, outline_layers),
}


def draw(name: str) -> bytes:
    size, layers = ICONS[name]
    return png(render(size, layers()))


def main(argv: Sequence[str]) -> int:
    target = Path(argv[1]) if len(argv) > 1 else HERE
    for name in ICONS:
        (target / name).write_bytes(draw(name))
        sys.stdout.write(f"wrote {target / name}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
