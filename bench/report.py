#!/usr/bin/env python3
"""Turns bench/run.sh's raw measurements into the table of medians, its ratios and the targets' status.

Writes <prefix>.csv and <prefix>.md and prints the Markdown table. Medians are over the interleaved rounds.
"""
import argparse
import csv
import statistics
from collections import defaultdict


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(value, digits=0):
    if value is None:
        return "–"
    return f"{value:.{digits}f}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("raw")
    parser.add_argument("big")
    parser.add_argument("prefix")
    for name in ["big-rss-kb", "bouncer-note", "replay-qps", "pgbench-one-tps", "replay-note", "monitor-line",
                 "monitor-note", "rounds", "duration", "big-rows", "baseline", "baseline-rss-kb",
                 "baseline-replay-qps", "display", "fidelity-line"]:
        parser.add_argument("--" + name, default="")
    args = parser.parse_args()

    runs = defaultdict(lambda: defaultdict(list))
    with open(args.raw) as f:
        for row in csv.DictReader(f):
            key = (row["mode"], int(row["clients"]), row["target"])
            runs[key]["tps"].append(float(row["tps"]))
            runs[key]["lat"].append(float(row["latency_ms"]) if row["latency_ms"] else None)
            runs[key]["cpu"].append(float(row["cpu_us_per_tx"]) if row["cpu_us_per_tx"] else None)
    med = {key: {m: median(v) for m, v in metrics.items()} for key, metrics in runs.items()}
    modes = sorted({k[0] for k in med}, key=["simple", "extended", "prepared"].index)
    clients = sorted({k[1] for k in med})
    has_bouncer = any(k[2] == "pgbouncer" for k in med)

    header = ["mode", "clients", "direct tps", "pgbouncer tps", "pgreel tps", "pgreel --no-record tps",
              "pgreel/direct", "pgbouncer/direct", "pgreel/pgbouncer", "record/no-record", "added latency µs",
              "pgbouncer added µs", "pgreel CPU µs/tx", "pgbouncer CPU µs/tx"]
    rows = []
    status = []
    for mode in modes:
        for c in clients:
            d = med.get((mode, c, "direct"), {})
            b = med.get((mode, c, "pgbouncer"), {})
            r = med.get((mode, c, "pgreel"), {})
            n = med.get((mode, c, "pgreel_norecord"), {})
            ratio_direct = r["tps"] / d["tps"] if r and d else None
            ratio_bouncer = r["tps"] / b["tps"] if r and b else None
            ratio_record = r["tps"] / n["tps"] if r and n else None
            added = (r["lat"] - d["lat"]) * 1000 if r.get("lat") is not None and d.get("lat") is not None else None
            # The same for pgbouncer: what any proxy in the path costs here, for judging pgreel's figures.
            bouncer_direct = b["tps"] / d["tps"] if b and d else None
            bouncer_added = (b["lat"] - d["lat"]) * 1000 if b.get("lat") is not None and d.get("lat") is not None else None
            rows.append([mode, c, fmt(d.get("tps")), fmt(b.get("tps")), fmt(r.get("tps")), fmt(n.get("tps")),
                         fmt(ratio_direct, 2), fmt(bouncer_direct, 2), fmt(ratio_bouncer, 2), fmt(ratio_record, 2),
                         fmt(added, 1) if c == 1 else "", fmt(bouncer_added, 1) if c == 1 else "",
                         fmt(r.get("cpu"), 1), fmt(b.get("cpu"), 1)])
            if c >= 8:
                status.append((f"{mode} c={c}: pgreel ≥ 0.65 × direct ({fmt(ratio_direct, 2)}; pgbouncer "
                               f"{fmt(bouncer_direct, 2)})", ratio_direct, 0.65))
                if has_bouncer:
                    status.append((f"{mode} c={c}: pgreel ≥ 1.0 × pgbouncer ({fmt(ratio_bouncer, 2)})",
                                   ratio_bouncer, 1.0))
                status.append((f"{mode} c={c}: recording ≥ 0.9 × no-record ({fmt(ratio_record, 2)})",
                               ratio_record, 0.9))
            if c == 1 and added is not None:
                status.append((f"{mode} c=1: added latency ≤ 50 µs ({fmt(added, 1)}; pgbouncer "
                               f"{fmt(bouncer_added, 1)})", -added, -50.0))
            if has_bouncer and r.get("cpu") is not None and b.get("cpu") is not None:
                status.append((f"{mode} c={c}: pgreel CPU/tx ≤ pgbouncer's ({fmt(r['cpu'], 1)} vs {fmt(b['cpu'], 1)} µs)",
                               -r["cpu"], -b["cpu"]))

    big = defaultdict(list)
    with open(args.big) as f:
        for row in csv.DictReader(f):
            big[(row["test"], row["target"])].append(float(row["seconds"]))
    big_rows = []
    for test in ["select", "copy_in", "copy_out"]:
        d = median(big.get((test, "direct"), []))
        p = median(big.get((test, "pgreel"), []))
        ratio = p / d if d and p else None
        big_rows.append([test, fmt(d, 3), fmt(p, 3), fmt(ratio, 2)])
        status.append((f"{args.big_rows}-row {test}: ≤ 1.2 × direct wall time ({fmt(ratio, 2)})",
                       -ratio if ratio else None, -1.2))
    rss_mib = int(args.big_rss_kb) / 1024 if args.big_rss_kb else None
    status.append((f"pgreel peak RSS with recording < 64 MiB ({fmt(rss_mib, 1)} MiB)", -rss_mib if rss_mib else None, -64.0))

    extra = []
    if args.replay_qps and args.pgbench_one_tps:
        ratio = float(args.replay_qps) / float(args.pgbench_one_tps)
        extra.append(f"- Replay: {args.replay_qps} queries/s vs pgbench one connection {float(args.pgbench_one_tps):.0f} tps"
                     f" → ratio {ratio:.2f}")
        status.append((f"replay ≥ 0.8 × pgbench's one-connection rate ({ratio:.2f})", ratio, 0.8))
    elif args.replay_note:
        extra.append(f"- Replay: {args.replay_note}")
    if args.fidelity_line and "|" in args.fidelity_line:
        text, p95 = args.fidelity_line.rsplit("|", 1)
        extra.append(f"- Replay at recorded timing (--realtime): {text}")
        try:
            status.append((f"replay --realtime lag p95 ≤ 5 ms ({float(p95):.2f} ms)", -float(p95), -5.0))
        except ValueError:
            pass
    if args.monitor_line:
        fields = dict(item.split("=", 1) for item in args.monitor_line.split() if "=" in item)
        ratio = float(fields["ratio"]) if fields.get("ratio") else None
        extra.append(
            f"- Monitor vs headless (pgbench -S -c 8, dashboard in a 120x40 tmux): {fields.get('monitor_tps', '?')} vs "
            f"{fields.get('headless_tps', '?')} tps → ratio {fields.get('ratio', '?')}; pgreel CPU "
            f"{fields.get('monitor_us', '?')} vs {fields.get('headless_us', '?')} µs/tx; keys answered during the flood "
            f"{fields.get('keys', '?')} (median {fields.get('median_key_ms', '?')} ms, slowest {fields.get('slowest_ms', '?')} ms); monitor peak RSS "
            f"{fields.get('peak_mib', '?')} MiB; events dropped for the dashboard {fields.get('dropped', '?')}")
        status.append((f"monitor ≥ 0.9 × headless throughput ({fmt(ratio, 3)})", ratio, 0.9))
    elif args.monitor_note:
        extra.append(f"- Monitor: {args.monitor_note}")
    if args.bouncer_note:
        extra.append(f"- pgbouncer: {args.bouncer_note}")

    # BASELINE: an older build measured beside this one (recording on), for a change's before/after.
    baseline_md = []
    if args.baseline:
        baseline_md = ["", f"Before/after: this build vs BASELINE={args.baseline} (both recording, same rounds):", "",
                       "| mode | clients | baseline tps | pgreel tps | pgreel/baseline | baseline CPU µs/tx | "
                       "pgreel CPU µs/tx |", "|---|---|---|---|---|---|---|"]
        for mode in modes:
            for c in clients:
                r = med.get((mode, c, "pgreel"), {})
                o = med.get((mode, c, "baseline"), {})
                ratio = r["tps"] / o["tps"] if r and o else None
                baseline_md.append(f"| {mode} | {c} | {fmt(o.get('tps'))} | {fmt(r.get('tps'))} | {fmt(ratio, 2)} | "
                                   f"{fmt(o.get('cpu'), 1)} | {fmt(r.get('cpu'), 1)} |")
        baseline_md += ["", "| test | baseline s | pgreel s | pgreel/baseline |", "|---|---|---|---|"]
        for test in ["select", "copy_in", "copy_out"]:
            o = median(big.get((test, "baseline"), []))
            p = median(big.get((test, "pgreel"), []))
            baseline_md.append(f"| {test} | {fmt(o, 3)} | {fmt(p, 3)} | {fmt(p / o if o and p else None, 2)} |")
        base_rss = int(args.baseline_rss_kb) / 1024 if args.baseline_rss_kb else None
        baseline_md.append(f"\n- peak RSS after the big tests: baseline {fmt(base_rss, 1)} MiB, pgreel {fmt(rss_mib, 1)} MiB")
        if args.baseline_replay_qps and args.replay_qps:
            baseline_md.append(f"- replay: baseline {args.baseline_replay_qps} queries/s, pgreel {args.replay_qps} queries/s")

    with open(args.prefix + ".csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
        writer.writerow([])
        writer.writerow(["test", "direct s", "pgreel s", "pgreel/direct"])
        writer.writerows(big_rows)

    md = [f"pgbench -S, medians of {args.rounds} interleaved rounds of {args.duration} s "
          f"(targets: direct, pgbouncer, pgreel, pgreel --no-record):", "",
          "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    md += ["| " + " | ".join(str(x) for x in row) + " |" for row in rows]
    md += ["", f"{args.big_rows} rows through psql (median wall seconds):", "",
           "| test | direct s | pgreel s | pgreel/direct |", "|---|---|---|---|"]
    md += ["| " + " | ".join(row) + " |" for row in big_rows]
    md += ["", f"- pgreel peak RSS (recording on, after the big tests): {fmt(rss_mib, 1)} MiB"]
    md += extra
    md += baseline_md
    if args.display:
        with open(args.display) as f:
            display = [line.rstrip("\n") for line in f if not line.startswith("RESULT ")]
        worst = None
        with open(args.display) as f:
            for line in f:
                if line.startswith("RESULT display worst_ratio="):
                    worst = float(line.split("=", 1)[1])
        md += [""] + display
        status.append((f"display cost: a 50 MiB value costs what a 1 MiB one does (worst ratio {fmt(worst, 2)})",
                       -worst if worst is not None else None, -1.5))
    md += ["", "Targets:", ""]
    for name, value, limit in status:
        if value is None:
            md.append(f"- ⚠️  {name}: not measured")
        else:
            md.append(f"- {'✅' if value >= limit else '❌'} {name}")
    text = "\n".join(md) + "\n"
    with open(args.prefix + ".md", "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
