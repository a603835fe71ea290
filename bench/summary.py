#!/usr/bin/env python3
"""Merges the benchmark programs' JSON into bench/results.json and prints the one table of scripts/bench:
every figure next to the floor it was measured against in the same run, the ratio, the target, and for a
missed target the reason.

Usage: summary.py --seconds S --out results.json name=part.json ...  (names: flash, ota, ram, verify, rv32)
"""
import argparse
import json
import sys


def load(parts):
    data = {}
    for part in parts:
        name, path = part.split("=", 1)
        with open(path) as f:
            data[name] = json.load(f)
    return data


def kib(n):
    return f"{n / 1024:.1f} KiB"


def rows_for(data):
    rows = []  # (figure, privota, floor, ratio, target, verdict)

    def add(figure, value, floor, ratio, target, met, why=""):
        rows.append((figure, value, floor, f"{ratio:.3f}x" if ratio is not None else "-", target,
                     "met" if met else f"MISSED: {why}" if why else "MISSED"))

    for r in data.get("flash", []):
        if r["strategy"] == "lower bound":
            floor = r
            continue
        size = f'{r["image_bytes"] // 1024} KiB'
        who = "privota" if r["strategy"].startswith("privota") else "ESP-PrivSep"
        ratio = r["vs_lower_bound"]
        if who == "privota":
            add(f"flash time, {size} user update ({who})", f'{r["device_ms"]:.1f} ms',
                f'{floor["device_ms"]:.1f} ms', ratio, "<= 1.10x", ratio <= 1.10)
            extra = r["bytes_erased"] - floor["bytes_erased"]
            add(f"bytes erased, {size} user update ({who})", f'{r["bytes_erased"]:,}',
                f'{floor["bytes_erased"]:,}', r["bytes_erased"] / floor["bytes_erased"], "image + 1 sector",
                extra <= 4096)
        else:
            rows.append((f"flash time, {size} user update ({who}, for comparison)", f'{r["device_ms"]:.1f} ms',
                         f'{floor["device_ms"]:.1f} ms', f"{ratio:.3f}x", "-", "-"))

    ota = data.get("ota", {})
    for p in ota.get("pipeline", []):
        ratio = p["vs_floor"]
        why = (f'verification hashes the image a second time, from flash, after the download '
               f'({p["pipeline_download_ms"]:.2f} ms download into flash + {p["pipeline_verify_ms"]:.2f} ms '
               f'verification, against {p["floor_ms"]:.2f} ms for a download hashed as it arrives); on '
               f'MemoryFlash {p["memory_flash_vs_floor"]:.2f}x, so the flash file is not the limit')
        add(f'HTTPS -> verified update, {kib(p["image_bytes"])} {p["case"]}', f'{p["pipeline_mb_s"]:.1f} MB/s',
            f'{p["floor_mb_s"]:.1f} MB/s', ratio, ">= 0.80x", ratio >= 0.8, why)
    ram = data.get("ram")
    if ram:
        job = ram["job_ram_bytes"]
        why = (f'x86-64 host build: the stack mark ({ram["stack_bytes"]:,} B) is the verification phase '
               f'(mbedTLS RSA-3072 + X.509 frames; the download phase reaches {ram["stack_download"]:,} B), '
               f'with 64-bit pointers and bignum limbs; rv32 is not measured here')
        add("OTA job RAM, no TLS (buffer + stack incl. OtaJob)", f"{job:,} B", "8,192 B (budget)", job / 8192,
            "<= 8 KiB", job <= 8192, why)
        rows.append(("  of which: sizeof(OtaJob) / buffer / stack", f'{ram["sizeof_job"]:,} / '
                     f'{ram["buffer_bytes"]:,} / {ram["stack_bytes"]:,} B', "-", "-", "-", "-"))
        rows.append(("  heap during the job, no TLS (mbedTLS RSA + X.509)", f'{ram["heap_peak_no_tls"]:,} B',
                     "-", "-", "-", "-"))
        rows.append(("  TLS (libcurl + OpenSSL): heap / stack beyond the job",
                     f'{ram["tls_heap_bytes"]:,} / {ram["tls_stack_bytes"]:,} B', "-", "-", "reported apart", "-"))
    ver = data.get("verify")
    if ver:
        ratio = ver["without_certificate"] / ver["floor"]
        add("boot verify, 256 KiB user app, instructions (sans cert check)", f'{ver["without_certificate"]:,}',
            f'{ver["floor"]:,}', ratio, "<= 1.10x", ratio <= 1.10, ver.get("why", ""))
        rows.append(("  with the certificate chain check", f'{ver["total"]:,}',
                     f'{ver["floor"] + ver["certificate"]:,} (floor + cert)',
                     f'{ver["total"] / (ver["floor"] + ver["certificate"]):.3f}x', "-", "-"))
        rows.append(("  the certificate check alone", f'{ver["certificate"]:,}', "-", "-", "-", "-"))
    rv = data.get("rv32")
    if rv:
        rows.append(("core .text, rv32imc -Os", f'{rv["text"]:,} B', "-", "-", "-",
                     f'{rv["files"]} files'))
    cut = ota.get("power_cut")
    if cut:
        twice = cut["max_received_twice"]
        why = ("the job commits whole 4 KiB sectors to the journal, so the partial sector plus the chunk in "
               "the job's buffer (up to one 4 KiB read) is fetched again")
        add(f'bytes received twice after a power cut ({cut["resumed"]} cuts)', f"{twice:,} B", "4,096 B (target)",
            twice / 4096, "<= 4 KiB", twice <= 4096, why)
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=0)
    ap.add_argument("--out", required=True)
    ap.add_argument("parts", nargs="+")
    args = ap.parse_args()
    data = load(args.parts)
    rows = rows_for(data)
    header = ("figure", "privota", "floor (same run)", "ratio", "target", "verdict")
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(5)]
    print()
    print("== privota benchmarks: every figure against a floor measured in the same run")
    for r in [header] + rows:
        print("  ".join(str(r[i]).ljust(widths[i]) for i in range(5)) + "  " + r[5])
    print(f"(scripts/bench took {args.seconds} s)")
    data["table"] = [dict(zip(header, r)) for r in rows]
    data["seconds"] = args.seconds
    with open(args.out, "w") as f:
        json.dump(data, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    sys.exit(main())
