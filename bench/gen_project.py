#!/usr/bin/env python3
"""Generate a compose project of N services for benchmarks.

Each service has an image, a command, an environment with ${VAR:-x}
defaults, labels, published ports on every third service and depends_on
on its parent in a binary tree of services.

usage: gen_project.py N OUTDIR [--image IMAGE] [--runnable]
--runnable makes services that really run (busybox httpd) for up/down benchmarks.
"""
import argparse
import os


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("outdir")
    ap.add_argument("--image", default="berth-test/busybox:1")
    ap.add_argument("--runnable", action="store_true")
    ap.add_argument("--port-base", type=int, default=20000)
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    lines = ["services:"]
    for i in range(a.n):
        name = f"svc{i:04d}"
        lines.append(f"  {name}:")
        lines.append(f"    image: ${{IMAGE:-{a.image}}}")
        if a.runnable:
            lines.append('    command: ["httpd", "-f", "-p", "8080"]')
        else:
            lines.append(f'    command: ["serve", "--id", "{i}", "--verbose"]')
        lines.append("    environment:")
        lines.append(f"      SERVICE_ID: \"{i}\"")
        lines.append("      LOG_LEVEL: ${LOG_LEVEL:-info}")
        lines.append(f"      DB_URL: postgres://db-${{REGION:-eu}}:5432/app{i}")
        lines.append("    labels:")
        lines.append("      com.example.team: platform")
        lines.append(f"      com.example.index: \"{i}\"")
        if i % 3 == 0:
            lines.append("    ports:")
            lines.append(f"      - \"127.0.0.1:{a.port_base + i}:8080\"")
        # a dependency tree: every service but the first depends on its parent
        if i > 0:
            lines.append("    depends_on:")
            lines.append(f"      - svc{(i - 1) // 2:04d}")
    with open(os.path.join(a.outdir, "compose.yaml"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
