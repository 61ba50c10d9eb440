# Draws Hearth's menu-bar template icons (black on transparent; macOS tints template images,
# 4x4 supersampling) and the app icon, as PNGs, and the macOS app icon, icon.icns. Shapes: a
# house whose door is a flame. Run it from icons/: `python3 draw.py` (no packages needed).
import struct, zlib, math
from array import array

def png_bytes(w, h, pixels):
    raw = b''.join(b'\x00' + bytes(row) for row in pixels)
    def chunk(kind, data):
        c = struct.pack('>I', len(data)) + kind + data
        return c + struct.pack('>I', zlib.crc32(kind + data) & 0xffffffff)
    data = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 6, 0, 0, 0))
    return data + chunk(b'IDAT', zlib.compress(raw, 9)) + chunk(b'IEND', b'')

def png(path, w, h, pixels):
    open(path, 'wb').write(png_bytes(w, h, pixels))

def inside_poly(x, y, poly):
    n = len(poly); c = False
    for i in range(n):
        x1, y1 = poly[i]; x2, y2 = poly[(i + 1) % n]
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            c = not c
    return c

# In a unit square (0..1), y down.
HOUSE = [(0.5, 0.08), (0.94, 0.46), (0.82, 0.46), (0.82, 0.92), (0.18, 0.92), (0.18, 0.46), (0.06, 0.46)]
def flame(x, y):
    # A drop: a circle at the bottom and a point above it.
    cx, cy, r = 0.5, 0.74, 0.13
    if (x - cx) ** 2 + (y - cy) ** 2 <= r * r:
        return True
    if 0.42 <= y <= cy:
        half = r * (y - 0.42) / (cy - 0.42)
        return abs(x - cx) <= half
    return False

def shape(state, x, y):
    house = inside_poly(x, y, HOUSE)
    if state == 'down':
        # Outline only, and a slash.
        inner = inside_poly(x, y, [(0.5, 0.2), (0.8, 0.47), (0.72, 0.47), (0.72, 0.84), (0.28, 0.84), (0.28, 0.47), (0.2, 0.47)])
        slash = abs((y - 0.06) - (x - 0.06) * 0.95) < 0.06 and 0.04 < x < 0.96
        return (house and not inner) or slash
    if not house:
        return False
    if flame(x, y):
        return False  # the flame is cut out of the house
    if state == 'degraded':
        # The right half of the house is hollow.
        inner = inside_poly(x, y, [(0.5, 0.2), (0.8, 0.47), (0.72, 0.47), (0.72, 0.84), (0.28, 0.84), (0.28, 0.47), (0.2, 0.47)])
        return not (inner and x > 0.5)
    if state == 'switching':
        # Three notches in the roof line, like a spinner's dots.
        for dx in (0.3, 0.5, 0.7):
            if (x - dx) ** 2 + (y - 0.56) ** 2 < 0.045 ** 2:
                return False
    return True

def draw(state, size, colour=(0, 0, 0)):
    pixels = []
    for py in range(size):
        row = []
        for px in range(size):
            hits = sum(shape(state, (px + (sx + 0.5) / 4) / size, (py + (sy + 0.5) / 4) / size)
                       for sx in range(4) for sy in range(4))
            row += [*colour, round(255 * hits / 16)]
        pixels.append(row)
    return pixels

for state in ('healthy', 'degraded', 'down', 'switching'):
    png(f'tray-{state}.png', 22, 22, draw(state, 22))
    png(f'tray-{state}@2x.png', 44, 44, draw(state, 44))

# The app icon: the house in Hearth's ember colour on a rounded square.
def app(size):
    pixels = []
    for py in range(size):
        row = []
        for px in range(size):
            u, v = (px + 0.5) / size, (py + 0.5) / size
            r = 0.2; dx = max(abs(u - 0.5) - (0.5 - r), 0); dy = max(abs(v - 0.5) - (0.5 - r), 0)
            if dx * dx + dy * dy > r * r:
                row += [0, 0, 0, 0]; continue
            hx, hy = (u - 0.15) / 0.7, (v - 0.12) / 0.7
            if 0 <= hx <= 1 and 0 <= hy <= 1 and shape('healthy', hx, hy):
                row += [255, 244, 230, 255]
            else:
                row += [184, 74, 30, 255]
        pixels.append(row)
    return pixels

for size in (32, 128, 256):
    png(f'icon-{size}.png', size, size, app(size))
png('icon.png', 512, 512, app(512))

# The macOS app icon: an ICNS file is 'icns' and its total length (big-endian, header
# included), then one entry per image: its type, its length (the 8-byte entry header
# included) and a PNG. Each type stands for one pixel size; ic11..ic14 are the Retina (@2x)
# versions of 16, 32, 128 and 256 points. The legacy 16 and 32 px types are left out (icp4 and
# icp5 PNGs do not show in Finder's list view); macOS scales the nearest size.
ICNS = [(b'ic07', 128), (b'ic08', 256), (b'ic09', 512), (b'ic10', 1024),
        (b'ic11', 32), (b'ic12', 64), (b'ic13', 256), (b'ic14', 512)]

# Every size is averaged down from one 1024 px drawing, 2x2 pixels at a time, so the small
# sizes are smooth. Colours are averaged premultiplied by alpha: the transparent corners must
# not darken the rounded edge.
def premultiply(pixels):
    rows = []
    for row in pixels:
        out = array('d')
        for i in range(0, len(row), 4):
            a = row[i + 3]
            out.extend((row[i] * a, row[i + 1] * a, row[i + 2] * a, a))
        rows.append(out)
    return rows

def halve(rows):
    half = []
    for y in range(0, len(rows), 2):
        top, bottom = rows[y], rows[y + 1]
        out = array('d', bytes(8 * (len(top) // 2)))
        for x in range(0, len(top), 8):
            for c in range(4):
                out[x // 2 + c] = (top[x + c] + top[x + 4 + c] + bottom[x + c] + bottom[x + 4 + c]) / 4
        half.append(out)
    return half

def unpremultiply(rows):
    pixels = []
    for row in rows:
        out = []
        for i in range(0, len(row), 4):
            a = row[i + 3]
            if a == 0:
                out += [0, 0, 0, 0]
            else:
                out += [round(row[i] / a), round(row[i + 1] / a), round(row[i + 2] / a), round(a)]
        pixels.append(out)
    return pixels

levels = {1024: premultiply(app(1024))}
size = 1024
while size > min(s for _, s in ICNS):
    levels[size // 2] = halve(levels[size])
    size //= 2
pngs = {size: png_bytes(size, size, unpremultiply(rows)) for size, rows in levels.items()}
entries = b''.join(kind + struct.pack('>I', 8 + len(pngs[size])) + pngs[size] for kind, size in ICNS)
open('icon.icns', 'wb').write(b'icns' + struct.pack('>I', 8 + len(entries)) + entries)
