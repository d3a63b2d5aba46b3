"""Draws images/icon.png (128x128): a rounded tile, a ring with a tail (a Q) and a spark.

Pure Python (zlib + struct), supersampled 4x for smooth edges. Run: python3 scripts/make-icon.py
"""

import math
import struct
import zlib
from pathlib import Path

SIZE, SS = 128, 4
N = SIZE * SS


def inside_rounded(x: float, y: float, r: float) -> bool:
    cx = min(max(x, r), N - r)
    cy = min(max(y, r), N - r)
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def spark(x: float, y: float, cx: float, cy: float, s: float) -> bool:
    # a four-pointed star: |dx|^0.5 + |dy|^0.5 <= s^0.5
    dx, dy = abs(x - cx) / s, abs(y - cy) / s
    return math.sqrt(dx) + math.sqrt(dy) <= 1.0


def pixel(x: float, y: float) -> tuple[float, float, float, float]:
    if not inside_rounded(x, y, 26 * SS):
        return (0, 0, 0, 0)
    t = (x + y) / (2 * N)
    bg = (0.20 + 0.25 * t, 0.16 + 0.10 * t, 0.55 + 0.25 * t)  # indigo to violet
    cx, cy = 56 * SS, 64 * SS
    d = math.hypot(x - cx, y - cy)
    ring = 27 * SS <= d <= 39 * SS
    # the Q's tail: a thick diagonal stroke to the lower right
    u = ((x - cx) + (y - cy)) / math.sqrt(2)
    v = ((x - cx) - (y - cy)) / math.sqrt(2)
    tail = 24 * SS <= u <= 54 * SS and abs(v) <= 6 * SS
    if ring or tail:
        return (1.0, 1.0, 1.0, 1.0)
    if spark(x, y, 98 * SS, 30 * SS, 18 * SS):
        return (1.0, 0.82, 0.30, 1.0)
    return (*bg, 1.0)


def main() -> None:
    rows = []
    for py in range(SIZE):
        row = bytearray([0])
        for px in range(SIZE):
            acc = [0.0, 0.0, 0.0, 0.0]
            for sy in range(SS):
                for sx in range(SS):
                    r, g, b, a = pixel(px * SS + sx + 0.5, py * SS + sy + 0.5)
                    acc[0] += r * a
                    acc[1] += g * a
                    acc[2] += b * a
                    acc[3] += a
            n = SS * SS
            alpha = acc[3] / n
            color = [c / acc[3] if acc[3] else 0 for c in acc[:3]]
            row += bytes(round(255 * c) for c in (*color, alpha))
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    png = (b"\x89PNG\r\n\x1a\n"
           + chunk(b"IHDR", struct.pack(">IIBBBBB", SIZE, SIZE, 8, 6, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
           + chunk(b"IEND", b""))
    out = Path(__file__).resolve().parent.parent / "images" / "icon.png"
    out.parent.mkdir(exist_ok=True)
    out.write_bytes(png)


if __name__ == "__main__":
    main()
