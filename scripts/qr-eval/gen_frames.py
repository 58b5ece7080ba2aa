"""Camera-like 1920x1080 luma frames with known QR codes, from a seed.

Each frame imitates the Y plane a phone camera hands the scanner: a
cluttered background under uneven light, one or more payment codes printed
on stickers or shown on a screen, seen in perspective, then the camera's
blur, sensor noise and ISP sharpening. One class per distortion the wallet
must survive, so the report can say where a strategy wins or loses:

  clean         mild tilt and blur: every decoder should read these
  perspective   strong tilt (up to ~60 degrees off-axis) and any rotation
  blur          defocus or motion blur
  glare         a saturated specular highlight across part of the code
  low_contrast  faded print in dim light: 15 to 45 grey levels of contrast
  screen        a code on a phone or monitor screen: pixel grid, moire, veil
  inverted      light modules on a dark background
  multi         two to four codes in one frame, of different sizes
  small         the code far away: 1.5 to 3 frame pixels per module
  empty         no code at all: what the camera sees while the user aims,
                and so the frame that costs the scanner the most time

Output: DIR/<class>_<n>.png (8-bit grey, lossless) and DIR/manifest.json
with each frame's expected payloads and their corner points. Nothing here
is committed; the same seed gives the same frames.
"""

import argparse
import json
import math
import os
import random

import cv2
import numpy as np
import segno

from payloads import merchant_payload

W, H = 1920, 1080
CLASSES = ["clean", "perspective", "blur", "glare", "low_contrast", "screen", "inverted", "multi", "small", "empty"]


def qr_modules(text: str, rng: random.Random, border: int) -> np.ndarray:
    error = rng.choice(["L", "M", "M", "Q"])
    q = segno.make(text, error=error, micro=False, boost_error=False)
    return np.array([list(r) for r in q.matrix_iter(border=border)], dtype=np.uint8)


def background(rng: random.Random, nrng: np.random.Generator) -> np.ndarray:
    """A table, a wall, packaging: smooth light plus clutter with edges and text."""
    base = rng.uniform(70, 170)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    gx, gy = rng.uniform(-40, 40), rng.uniform(-40, 40)
    img = base + gx * (xx / W - 0.5) + gy * (yy / H - 0.5)
    # Low-frequency texture (wood grain, fabric).
    tex = cv2.resize(nrng.normal(0, 1, (H // 40, W // 40)).astype(np.float32), (W, H), interpolation=cv2.INTER_CUBIC)
    img += tex * rng.uniform(4, 14)
    # Clutter: drawn on an 8-bit layer (OpenCV draws text only there), then pasted.
    layer, mask = np.zeros((H, W), np.uint8), np.zeros((H, W), np.uint8)
    for _ in range(rng.randint(6, 18)):
        shade = rng.randint(10, 245)
        kind = rng.random()
        x, y = rng.randint(0, W), rng.randint(0, H)
        for canvas, colour in ((layer, shade), (mask, 255)):
            r = random.Random(x * 7919 + y)  # same geometry on both canvases
            if kind < 0.45:
                cv2.rectangle(canvas, (x, y), (x + r.randint(20, 400), y + r.randint(10, 300)), colour, -1)
            elif kind < 0.7:
                cv2.circle(canvas, (x, y), r.randint(5, 120), colour, -1)
            elif kind < 0.85:
                cv2.line(canvas, (x, y), (r.randint(0, W), r.randint(0, H)), colour, r.randint(1, 6))
            else:
                txt = "".join(r.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ") for _ in range(r.randint(5, 25)))
                cv2.putText(canvas, txt, (x, y), cv2.FONT_HERSHEY_SIMPLEX, r.uniform(0.5, 2.5), colour, r.randint(1, 4))
    img = np.where(mask > 0, layer.astype(np.float32), img)
    return img


def sticker(mods: np.ndarray, rng: random.Random, dark: float, light: float, px: int) -> np.ndarray:
    """The printed code, `px` texture pixels per module."""
    tex = np.where(np.kron(mods, np.ones((px, px), np.uint8)) > 0, dark, light).astype(np.float32)
    return tex


def screen_texture(mods: np.ndarray, rng: random.Random) -> np.ndarray:
    """A code shown on a display: modules drawn on a grid of RGB sub-pixels.

    Each screen pixel is 6x6 texture pixels: three vertical sub-pixel stripes
    of different luma (R, G, B weights) and a dark gap, the structure that
    beats against the camera's sampling grid and gives moire.
    """
    spx = rng.randint(3, 7)  # screen pixels per module
    on = np.kron(mods, np.ones((spx, spx), np.uint8))  # 1 = dark module
    white, black = rng.uniform(200, 250), rng.uniform(15, 45)
    cell = np.zeros((6, 6), np.float32)
    cell[:, 0:2], cell[:, 2:4], cell[:, 4:6] = 0.299 * 3, 0.587 * 3, 0.114 * 3
    cell[5, :] = 0.15  # the gap between rows of pixels
    cell /= cell.mean()
    level = np.where(on > 0, black, white).astype(np.float32)
    tex = np.kron(level, np.ones((6, 6), np.float32)) * np.tile(cell, on.shape)
    return np.clip(tex, 0, 255), spx * 6


def place(frame: np.ndarray, tex: np.ndarray, quad: np.ndarray, interp=cv2.INTER_AREA) -> np.ndarray:
    """Warps `tex` onto `quad` (tl, tr, br, bl) of the frame; returns the mask."""
    h, w = tex.shape
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    m = cv2.getPerspectiveTransform(src, quad.astype(np.float32))
    # Pre-shrink so the warp does not alias (except for screens: aliasing is the point).
    side = max(np.linalg.norm(quad[1] - quad[0]), np.linalg.norm(quad[3] - quad[0]))
    if interp == cv2.INTER_AREA and side * 2 < w:
        f = side * 2 / w
        tex = cv2.resize(tex, (max(1, int(w * f)), max(1, int(h * f))), interpolation=cv2.INTER_AREA)
        src = np.float32([[0, 0], [tex.shape[1], 0], [tex.shape[1], tex.shape[0]], [0, tex.shape[0]]])
        m = cv2.getPerspectiveTransform(src, quad.astype(np.float32))
        interp = cv2.INTER_LINEAR
    warped = cv2.warpPerspective(tex, m, (W, H), flags=interp, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    mask = cv2.warpPerspective(np.ones_like(tex), m, (W, H), flags=cv2.INTER_LINEAR, borderValue=0)
    frame[:] = frame * (1 - mask) + warped * mask
    return m, src


def random_quad(rng: random.Random, cx: float, cy: float, side: float, tilt: float) -> np.ndarray:
    """A square of `side` rotated anywhere, its corners pushed by perspective up to `tilt` x side."""
    a = rng.uniform(0, 2 * math.pi)
    pts = []
    for k in range(4):
        ang = a + k * math.pi / 2 - 3 * math.pi / 4
        r = side / math.sqrt(2)
        pts.append([cx + r * math.cos(ang), cy + r * math.sin(ang)])
    pts = np.array(pts)
    # Perspective: shrink one edge (as a plane tilted away) and jitter corners.
    if tilt > 0:
        edge = rng.randrange(4)
        i, j = edge, (edge + 1) % 4
        mid = (pts[i] + pts[j]) / 2
        s = rng.uniform(0, tilt)
        pts[i] = pts[i] + (mid - pts[i]) * s
        pts[j] = pts[j] + (mid - pts[j]) * s
        pts += np.array([[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(4)]) * side * tilt * 0.15
    return pts


def code_corners(mods_side: int, border: int, m: np.ndarray, tex_side: float) -> list:
    """Frame coordinates of the symbol's corners (inside the quiet zone)."""
    unit = tex_side / mods_side
    a, b = border * unit, (mods_side - border) * unit
    pts = np.float32([[[a, a]], [[b, a]], [[b, b]], [[a, b]]])
    return cv2.perspectiveTransform(pts, m).reshape(-1, 2).round(1).tolist()


def camera(img: np.ndarray, rng: random.Random, nrng: np.random.Generator, blur_sigma: float,
           noise: float, motion: int = 0) -> np.ndarray:
    if motion > 1:
        k = np.zeros((motion, motion), np.float32)
        k[motion // 2, :] = 1
        rot = cv2.getRotationMatrix2D((motion / 2 - 0.5, motion / 2 - 0.5), rng.uniform(0, 180), 1)
        k = cv2.warpAffine(k, rot, (motion, motion))
        img = cv2.filter2D(img, -1, k / max(k.sum(), 1e-6))
    if blur_sigma > 0:
        img = cv2.GaussianBlur(img, (0, 0), blur_sigma)
    # Vignetting.
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    r2 = ((xx - W / 2) / (W / 2)) ** 2 + ((yy - H / 2) / (H / 2)) ** 2
    img = img * (1 - rng.uniform(0.05, 0.3) * r2 / 2)
    # Shot and read noise, then the ISP's denoise-and-sharpen.
    img = img + nrng.normal(0, noise, img.shape).astype(np.float32)
    if rng.random() < 0.6:
        soft = cv2.GaussianBlur(img, (0, 0), 1.2)
        img = img + rng.uniform(0.3, 1.0) * (img - soft)
    out = np.clip(img, 0, 255).astype(np.uint8)
    if rng.random() < 0.3:  # Some frames come through a JPEG encoder (saved photos).
        ok, enc = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, rng.randint(60, 92)])
        out = cv2.imdecode(enc, cv2.IMREAD_GRAYSCALE)
    return out


def free_spot(rng, placed, side):
    for _ in range(200):
        cx, cy = rng.uniform(side * 0.75, W - side * 0.75), rng.uniform(side * 0.75, H - side * 0.75)
        if all(math.hypot(cx - x, cy - y) > (side + s) * 0.8 for x, y, s in placed):
            return cx, cy
    return None


def make_frame(cls: str, rng: random.Random, nrng: np.random.Generator):
    img = background(rng, nrng)
    codes = []
    n = {"multi": rng.randint(2, 4), "empty": 0}.get(cls, 1)
    placed = []
    for _ in range(n):
        text = merchant_payload(rng)
        border = rng.choice([2, 4, 4])
        mods = qr_modules(text, rng, border)
        ms = mods.shape[0]
        if cls == "small":
            side = ms * rng.uniform(1.5, 3.0)
        elif cls == "multi":
            side = rng.uniform(160, 420)
        else:
            side = rng.uniform(260, 720)
        spot = free_spot(rng, placed, side)
        if spot is None:
            continue
        cx, cy = spot
        placed.append((cx, cy, side))
        tilt = {"perspective": rng.uniform(0.35, 0.6), "clean": rng.uniform(0, 0.1)}.get(cls, rng.uniform(0, 0.25))
        quad = random_quad(rng, cx, cy, side, tilt)
        if cls == "screen":
            tex, unit = screen_texture(mods, rng)
            # Screens sit in a dark bezel.
            bez = np.pad(tex, unit // 2, constant_values=rng.uniform(5, 30))
            c = (bez.shape[0] - tex.shape[0]) / 2
            m, _ = place(img, bez, quad, interp=cv2.INTER_LINEAR)
            unit_t = tex.shape[0] / ms
            a, b = c + border * unit_t, c + (ms - border) * unit_t
            pts = np.float32([[[a, a]], [[b, a]], [[b, b]], [[a, b]]])
            corners = cv2.perspectiveTransform(pts, m).reshape(-1, 2).round(1).tolist()
        else:
            if cls == "low_contrast":
                mid = rng.uniform(70, 160)
                gap = rng.uniform(15, 45)
                dark, light = mid - gap / 2, mid + gap / 2
            else:
                dark, light = rng.uniform(10, 60), rng.uniform(190, 250)
            if cls == "inverted":
                dark, light = light, dark
            px = 8
            tex = sticker(mods, rng, dark, light, px)
            m, src = place(img, tex, quad)
            corners = code_corners(ms, border, m, src[2][0])
        codes.append({"text": text, "corners": corners, "modules_per_side": ms - 2 * border})
        if cls == "glare":
            # A specular highlight: an elongated Gaussian added on top, clipped at 255.
            gx_, gy_ = cx + rng.uniform(-0.3, 0.3) * side, cy + rng.uniform(-0.3, 0.3) * side
            sx, sy = side * rng.uniform(0.08, 0.3), side * rng.uniform(0.05, 0.2)
            yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
            th = rng.uniform(0, math.pi)
            dx, dy = xx - gx_, yy - gy_
            u, v = dx * math.cos(th) + dy * math.sin(th), -dx * math.sin(th) + dy * math.cos(th)
            img += rng.uniform(120, 260) * np.exp(-(u ** 2 / (2 * sx ** 2) + v ** 2 / (2 * sy ** 2)))
    if cls == "screen":
        # Reflections on the glass: a soft veil over the whole frame.
        img = img * rng.uniform(0.7, 1.0) + rng.uniform(10, 50)
    blur, noise, motion = rng.uniform(0.4, 1.0), rng.uniform(1.5, 4), 0
    if cls == "blur":
        if rng.random() < 0.5:
            blur = rng.uniform(1.5, 3.5)
        else:
            motion = rng.randint(6, 16)
    if cls == "low_contrast":
        noise = rng.uniform(2, 6)
    if cls == "small":
        blur = rng.uniform(0.3, 0.7)
    return camera(img, rng, nrng, blur, noise, motion), codes


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=20240604)
    ap.add_argument("--per-class", type=int, default=30)
    ap.add_argument("--classes", default=",".join(CLASSES))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    manifest = []
    for ci, cls in enumerate(args.classes.split(",")):
        for i in range(args.per_class):
            seed = args.seed * 1000003 + CLASSES.index(cls) * 10007 + i
            rng, nrng = random.Random(seed), np.random.default_rng(seed)
            frame, codes = make_frame(cls, rng, nrng)
            name = f"{cls}_{i:03d}.png"
            cv2.imwrite(os.path.join(args.out, name), frame)
            manifest.append({"file": name, "class": cls, "codes": codes})
        print(f"{cls}: {args.per_class} frames", flush=True)
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump({"seed": args.seed, "width": W, "height": H, "frames": manifest}, f, indent=1)


if __name__ == "__main__":
    main()
