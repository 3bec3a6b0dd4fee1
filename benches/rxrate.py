#!/usr/bin/env python3
"""Run a sender and measure the rate its frames are DELIVERED to an interface in this namespace.

usage: rxrate.py IFACE -- COMMAND [ARGS...]

Samples /sys/class/net/IFACE/statistics/rx_packets every millisecond while COMMAND runs and
prints one line: "<rate> <frames> <whole>", where rate is the frames delivered between the
first and the last samples that saw the counter move, over the time between them (the sending
itself, without the process's start-up and teardown), frames the total delivered, and whole
the frames delivered over the whole process's wall time (start-up included) for comparison.
The sender is bounded by its own count; this script adds a 120 s timeout.
"""
import subprocess, sys, time

iface = sys.argv[1]
cmd = sys.argv[sys.argv.index("--") + 1:]
path = f"/sys/class/net/{iface}/statistics/rx_packets"


def rx():
    with open(path) as f:
        return int(f.read())


r0 = rx()
t0 = time.monotonic()
# close_fds=False: a caller may hand the sender descriptors (benches/pacing_cpu.sh: its cgroup).
p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, close_fds=False)
first = last = None  # (time, count) of the first and last moves
prev = r0
while True:
    done = p.poll() is not None
    now, c = time.monotonic(), rx()
    if c != prev:
        if first is None:
            first = (now, c)  # frames counted from here on only (conservative)
        last = (now, c)
        prev = c
    if done:
        break
    if now - t0 > 120:
        p.kill()
        p.wait()
        break
    time.sleep(0.001)
t1 = time.monotonic()
total = prev - r0
if first is None or last[0] <= first[0]:
    print(0, total, 0)
else:
    print(round((last[1] - first[1]) / (last[0] - first[0])), total, round(total / (t1 - t0)))
