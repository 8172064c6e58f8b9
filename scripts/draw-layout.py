#!/usr/bin/env python3
"""Draws docs/images/data-layout.png: how Recur lays out its float32 arrays.

- x, [batch][steps][features]: stream b, step t, feature i at (b*steps + t)*features + i;
- y, [batch][steps][outputs], the same way;
- the state, [batch][state_size]: per stream, layer by layer, h (and c for LSTM), for
  lstm(8) -> lstm(6) -> dense(3): state_size 28 = 8 + 8 + 6 + 6 (docs/model-format.md,
  "State layout").

    python3 scripts/draw-layout.py [OUT.png]

Needs matplotlib (pip install matplotlib). The PNG is committed; run this again after
changing the picture.
"""
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, Rectangle  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs/images/data-layout.png"

BATCH, STEPS, FEATURES, OUTPUTS = 2, 3, 4, 3
# lstm(8) -> lstm(6) -> dense(3): (name, floats, colour) in state order; dense takes none.
STATE = [("layer 0  h", 8, "#4c9a4c"), ("layer 0  c", 8, "#9bd09b"),
         ("layer 1  h", 6, "#7b5ea7"), ("layer 1  c", 6, "#c7b6e3")]
STATE_SIZE = sum(n for _, n, _ in STATE)
STREAM_COLOURS = [("#2f6db5", "#8fb6e6"), ("#d9731a", "#f5c08f")]  # stream 0, stream 1: (dark, light)
HIGHLIGHT = (1, 2, 1)  # b, t, i: the worked example in x

W, H = 800, 400  # one unit = one pixel of the PNG
figure = plt.figure(figsize=(W / 100, H / 100), dpi=100)
axes = figure.add_axes((0, 0, 1, 1))
axes.set_xlim(0, W)
axes.set_ylim(0, H)
axes.axis("off")


def cell(x, y, w, h, colour, text="", size=7, bold=False, edge="white", width=0.8, text_colour="black"):
    axes.add_patch(Rectangle((x, y), w, h, facecolor=colour, edgecolor=edge, linewidth=width))
    if text != "":
        axes.text(x + w / 2, y + h / 2, str(text), ha="center", va="center", fontsize=size,
                  fontweight="bold" if bold else "normal", color=text_colour)


def label(x, y, text, size=8, **options):
    axes.text(x, y, text, fontsize=size, **options)


ROW_H, CELL_W = 22, 33  # x and y


def grid(left, top, width, name, shape, highlight=None):
    """Rows (b, t) of `width` cells, each cell showing its flat index; returns the bottom."""
    row_h, cell_w = ROW_H, CELL_W
    label(left - 62, top + 5, name, size=10, fontweight="bold", va="bottom")
    label(left + 8, top + 5, shape, size=8.5, color="#333333", va="bottom")
    for b in range(BATCH):
        for t in range(STEPS):
            row = b * STEPS + t
            y = top - (row + 1) * row_h - (6 if b else 0)  # a gap between the streams
            dark, light = STREAM_COLOURS[b]
            label(left - 5, y + row_h / 2, f"b={b} t={t}", size=8, ha="right", va="center")
            for i in range(width):
                index = row * width + i
                hot = highlight == (b, t, i)
                cell(left + i * cell_w, y, cell_w, row_h, dark if t % 2 == 0 else light, index, size=8.5, bold=hot,
                     edge="black" if hot else "white", width=2 if hot else 0.8,
                     text_colour="white" if t % 2 == 0 and not hot else "black")
    return top - BATCH * STEPS * row_h - 6


label(10, H - 6, "Recur's arrays: float32, row-major, batch first", size=11, fontweight="bold", va="top")

# x and y, with the call between them.
x_left, y_left, top = 72, 540, 338
bottom = grid(x_left, top, FEATURES, "x", "[batch][steps][features]:  batch 2, steps 3, features 4",
              highlight=HIGHLIGHT)
grid(y_left, top, OUTPUTS, "y", "[batch][steps][outputs]:  outputs 3")
b, t, i = HIGHLIGHT
label(x_left - 62, bottom - 16, f"x[(b·steps + t)·features + i]   e.g. b={b}, t={t}, i={i}:  "
      f"({b}·{STEPS} + {t})·{FEATURES} + {i} = {(b * STEPS + t) * FEATURES + i}", size=9, va="center")
label(y_left - 62, bottom - 16, "y[(b·steps + t)·outputs + o]", size=9, va="center")
middle = top - BATCH * STEPS * ROW_H / 2 - 3
start, end = x_left + FEATURES * CELL_W + 12, y_left - 66
axes.add_patch(FancyArrowPatch((start, middle), (end, middle),
                               arrowstyle="-|>", mutation_scale=14, color="#333333", linewidth=1.2))
label((start + end) / 2, middle + 8, "recur_state_run(state, x, steps, y)", size=8.5,
      ha="center", va="bottom", family="monospace")
label((start + end) / 2, middle - 8, "a row: one step of one stream", size=8.5, ha="center", va="top",
      color="#333333")

# The state: [batch][state_size], each stream layer by layer.
left, cell_w, row_h, top = 72, 25, 22, 104
label(10, top + 26, "state", size=10, fontweight="bold", va="bottom")
label(left + 8, top + 26, f"[batch][state_size]:  lstm(8) → lstm(6) → dense(3),  state_size {STATE_SIZE} = "
      "8 + 8 + 6 + 6  (dense layers keep none)", size=8.5, va="bottom", color="#333333")
position = 0
for name, count, colour in STATE:
    x0 = left + position * cell_w
    label(x0 + count * cell_w / 2, top + 3, f"{name}  ({position}–{position + count - 1})", size=8.5,
          ha="center", va="bottom")
    position += count
for stream in range(BATCH):
    y = top - (stream + 1) * row_h - stream * 4
    label(left - 5, y + row_h / 2, f"stream {stream}", size=8, ha="right", va="center")
    position = 0
    for _, count, colour in STATE:
        for k in range(count):
            index = stream * STATE_SIZE + position + k
            first = k == 0 or k == count - 1
            cell(left + (position + k) * cell_w, y, cell_w, row_h, colour, index if first else "", size=7.5)
        position += count
label(left - 62, top - BATCH * row_h - 24, f"stream b starts at b·state_size (stream 1 at {STATE_SIZE}); "
      "recur_state_get / recur_state_set copy all batch·state_size floats", size=9, va="center")

OUT.parent.mkdir(parents=True, exist_ok=True)
figure.savefig(OUT, dpi=100)
print(f"written: {OUT.relative_to(ROOT) if OUT.is_relative_to(ROOT) else OUT}")
