#!/usr/bin/env python3
"""A user-space bridge with a delay, for StrideCue's Link tests (this kernel has no netem).

Usage: delay-bridge.py TAP_A TAP_B DELAY_MS JITTER_MS READY_FILE
Makes two TAP devices, TAP_A and TAP_B, in the namespace it runs in, and carries every
Ethernet frame from one to the other DELAY_MS later (plus a uniform ±JITTER_MS, seeded, never
reordering a direction). The test moves each device into a namespace of its own and gives it an
address: two devices on one link, as far apart as two phones on a busy Wi-Fi. Writes READY_FILE
once both devices exist, and runs until it is killed.
"""
import fcntl, heapq, os, random, select, struct, sys, time

TUNSETIFF, IFF_TAP, IFF_NO_PI = 0x400454CA, 0x0002, 0x1000

def tap(name):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
    os.set_blocking(fd, False)
    return fd

a, b = tap(sys.argv[1]), tap(sys.argv[2])
delay, jitter = float(sys.argv[3]) / 1000, float(sys.argv[4]) / 1000
with open(sys.argv[5], "w") as ready:
    ready.write("ready\n")
random.seed(24)
other = {a: b, b: a}
last = {a: 0.0, b: 0.0}   # the latest due time per direction: frames keep their order
queue = []                # (due, sequence, destination, frame)
sequence = 0
while True:
    timeout = max(0.0, queue[0][0] - time.monotonic()) if queue else 1.0
    readable, _, _ = select.select([a, b], [], [], timeout)
    now = time.monotonic()
    for fd in readable:
        while True:
            try:
                frame = os.read(fd, 65536)
            except BlockingIOError:
                break
            except OSError:
                frame = b""
            if not frame:
                break
            due = max(now + delay + random.uniform(-jitter, jitter), last[fd])
            last[fd] = due
            sequence += 1
            heapq.heappush(queue, (due, sequence, other[fd], frame))
    now = time.monotonic()
    while queue and queue[0][0] <= now:
        _, _, destination, frame = heapq.heappop(queue)
        try:
            os.write(destination, frame)
        except OSError:
            pass   # the device is down for a moment: the frame is lost, as on a real link
