#!/usr/bin/env python3
"""The speed-ratio chart of a compare.py run: for each workload row, each peer's time
over Recur's (> 1: Recur is faster), as grouped horizontal bars on a log axis with a
line at 1.0.

compare.py calls `draw_ratios` with the rows of its workloads table (WORKLOAD_HEADER)
and writes the PNG next to the markdown file. The chart can also be drawn again from a
results file that compare.py wrote:

    python3 benchmarks/chart.py benchmarks/results/<file>.md [OUT.png]

matplotlib (Agg backend) is imported only when drawing, so compare.py can import this
module without it.
"""
import re
import sys
from pathlib import Path

# The ratio columns of compare.py's workloads table, the name in the legend, the colour.
PEERS = [("RTNeural/Recur", "RTNeural", "#e69f00"),
         ("PyTorch/Recur", "PyTorch (CPU)", "#d55e00"),
         ("ORT/Recur", "ONNX Runtime", "#0072b2")]
NOT_APPLICABLE = {"—", "-", ""}  # the peer does not run this workload (no bar, no label)


def parse_ratio(cell):
    """'28.97x' -> 28.97; 'n/a', 'not measured' -> None."""
    match = re.fullmatch(r"\s*([0-9.]+)x\s*", cell or "")
    return float(match.group(1)) if match else None


def chart_rows(header, rows):
    """[(label, {peer name: ratio or None})] for the rows with at least one peer column that
    applies (Recur-only rows, such as fp16 storage or lengths, are left out), and the peers
    that have a number in at least one row."""
    column = {name: header.index(name) for name in header}
    result, used = [], []
    for row in rows:
        id, threads, what = row[column["id"]], row[column["threads"]], row[column["workload"]]
        ratios = {}
        for key, name, _ in PEERS:
            cell = row[column[key]] if key in column else "—"
            if cell.strip() in NOT_APPLICABLE:
                continue
            ratios[name] = parse_ratio(cell)
            if ratios[name] is not None and name not in used:
                used.append(name)
        if ratios:
            label = f"{id}{'' if threads == '1' else f' ({threads} threads)'}  {what}"
            result.append((label, ratios))
    return result, [name for _, name, _ in PEERS if name in used]


def draw_ratios(path, header, rows, title, subtitle=""):
    """Draws the chart to `path` (PNG). Returns the path, or None when no row has a
    peer's ratio (nothing to draw)."""
    entries, peers = chart_rows(header, rows)
    if not peers:
        return None
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    colours = {name: colour for _, name, colour in PEERS}
    values = [r for _, ratios in entries for r in ratios.values() if r is not None]
    low = min(0.5, min(values) / 1.6)
    high = max(2.0, max(values) * 2.2)  # room for the value labels right of the bars

    figure, axes = plt.subplots(figsize=(9, 1.0 + 0.17 * len(entries) * max(2, len(peers))), dpi=100)
    for y, (_, ratios) in enumerate(entries):
        # The peers that run this workload share the row, in the legend's order.
        here = [name for name in peers if name in ratios]
        bar = 0.8 / max(2, len(here))
        for slot, name in enumerate(here):
            offset = (slot - (len(here) - 1) / 2) * bar
            ratio = ratios[name]
            if ratio is None:  # the peer runs this workload but was not measured (e.g. ORT training)
                axes.text(1.0, y + offset, " n/a", va="center", ha="left", fontsize=7, color="#888888")
                continue
            # Bars start at 1.0: to the right when Recur is faster, to the left when the peer is.
            axes.barh(y + offset, ratio - 1.0, left=1.0, height=bar * 0.9, color=colours[name])
            text = f"{ratio:.2f}x" if ratio < 10 else f"{ratio:.0f}x"
            axes.text(ratio * (1.04 if ratio >= 1 else 0.96), y + offset, text, va="center",
                      ha="left" if ratio >= 1 else "right", fontsize=7)

    axes.set_xscale("log")
    axes.set_xlim(low, high)
    ticks = [t for t in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000) if low <= t <= high]
    axes.xaxis.set_major_locator(FixedLocator(ticks))
    axes.xaxis.set_minor_locator(NullLocator())
    axes.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}x"))
    axes.axvline(1.0, color="black", linewidth=1)
    axes.grid(axis="x", color="#dddddd", linewidth=0.6)
    axes.set_axisbelow(True)
    axes.set_yticks(range(len(entries)))
    axes.set_yticklabels([label for label, _ in entries], fontsize=8)
    axes.set_ylim(len(entries) - 0.5, -0.5)  # the table's order, top to bottom
    axes.set_xlabel("peer time / Recur time (log scale; > 1: Recur is faster)", fontsize=8)
    axes.tick_params(axis="x", labelsize=8)
    top = axes.get_xaxis_transform()
    axes.text(0.97, 1.0, "← peer faster ", transform=top, ha="right", va="bottom", fontsize=7, color="#555555")
    axes.text(1.03, 1.0, " Recur faster →", transform=top, ha="left", va="bottom", fontsize=7, color="#555555")
    # The legend in the title's band, clear of the bars.
    figure.legend(handles=[Patch(color=colours[name], label=name) for name in peers], loc="upper right",
                  bbox_to_anchor=(0.995, 0.995), ncol=len(peers), fontsize=8, frameon=False)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    figure.suptitle(title, fontsize=10, x=0.01, ha="left", y=0.995)
    if subtitle:
        figure.text(0.01, 1.0 - 0.42 / figure.get_figheight(), subtitle, fontsize=8, color="#444444", ha="left")
    figure.tight_layout(pad=0.4, rect=(0, 0, 1, 1.0 - 0.5 / figure.get_figheight()))
    path = Path(path)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def read_results(markdown):
    """The workloads table and the title line of a results file compare.py wrote."""
    lines = Path(markdown).read_text().splitlines()
    title = next((line.lstrip("# ").strip() for line in lines if line.startswith("# ")), "")
    table = []
    for start, line in enumerate(lines):
        if line.startswith("| id | threads | workload |"):
            for row in lines[start:]:
                if not row.startswith("|"):
                    break
                table.append([cell.strip() for cell in row.strip().strip("|").split("|")])
            break
    if not table:
        sys.exit(f"chart.py: no workloads table in {markdown}")
    return title, table[0], [row for row in table[2:]]


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__.split("\n\n")[2].strip())
    markdown = Path(sys.argv[1])
    out = Path(sys.argv[2]) if len(sys.argv) == 3 else markdown.with_suffix(".png")
    title, header, rows = read_results(markdown)
    # "Recur vs peers, <date>, <cpu>" -> the chart's title and subtitle.
    _, _, rest = title.partition(", ")
    date, _, cpu = rest.partition(", ")
    written = draw_ratios(out, header, rows, "Recur vs peers: speed ratio (peer time / Recur time)",
                          f"{cpu}, {date}; from {markdown.name}" if cpu else markdown.name)
    if not written:
        sys.exit(f"chart.py: no peer ratios in {markdown}: nothing to draw")
    print(f"written: {written}")


if __name__ == "__main__":
    main()
