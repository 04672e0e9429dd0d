"""make bench helper: N WebSocket clients (stdlib only) on the coach's remote, or a stream of
API calls. Usage:
  remote-clients.py URL watch N       # N clients read /api/events until the server closes
  remote-clients.py URL cadence K GAP # K POST /api/cadence calls, +1 and -1 in turn, GAP s apart;
                                      # prints each one's time until the status shows it handed
                                      # to ALSA
  remote-clients.py URL load PID      # the server's RSS and CPU (process PID): idle, 50 pages,
                                      # 1,000 idle connections, a flood of bad requests and
                                      # half-open connections, and after it; loopback only
"""
import base64, json, os, selectors, socket, sys, time, urllib.parse

url = urllib.parse.urlparse(sys.argv[1])
token = urllib.parse.parse_qs(url.fragment)["token"][0]
host, port = url.hostname, url.port


def websocket():
    s = socket.create_connection((host, port))
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET /api/events?token=%s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (token, host, port, key)).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    s.setblocking(False)
    return s


def watch(n):
    sel = selectors.DefaultSelector()
    for _ in range(n):
        sel.register(websocket(), selectors.EVENT_READ)
    open_, received = n, 0
    while open_:
        for key, _ in sel.select():
            data = key.fileobj.recv(65536)
            if not data:
                sel.unregister(key.fileobj); key.fileobj.close(); open_ -= 1
            else:
                received += data.count(b'{"state"')
    print("clients %d messages %d" % (n, received))


def cadence(k, gap):
    """K cadence calls on one keep-alive connection. After each, the status is asked again at
    once until its target is the new cadence: the playback thread publishes the target right
    after handing the block that carries it to ALSA. Prints the milliseconds from the request
    to that answer (one loopback round trip more than the moment itself)."""
    import http.client
    conn = http.client.HTTPConnection(host, port, timeout=10)
    auth = {"Authorization": "Bearer " + token}

    def target():
        conn.request("GET", "/api/status", headers=auth)
        return json.loads(conn.getresponse().read())["target"]

    for i in range(k):
        delta = 1 if i % 2 == 0 else -1
        expected = min(max(target() + delta, 30), 300)
        started = time.monotonic()
        conn.request("POST", "/api/cadence", body=json.dumps({"delta": delta}),
                     headers=dict(auth, **{"Content-Type": "application/json"}))
        conn.getresponse().read()
        while target() != expected and time.monotonic() - started < 2:
            pass
        if target() == expected:
            print("cadence handed to ALSA %.3f ms after the request" % ((time.monotonic() - started) * 1000), flush=True)
        time.sleep(gap)
    conn.close()


def rss_kib(pid, field="VmRSS"):
    for line in open("/proc/%d/status" % pid):
        if line.startswith(field + ":"):
            return int(line.split()[1])


def anon_kib(pid):
    """The resident memory that is the process's own (heap, stacks): RSS less the pages of the
    binary and libraries it has run, which stay resident once first used but are shared and
    clean (the kernel drops them first)."""
    return rss_kib(pid, "RssAnon")


def cpu_seconds(pid):
    fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def connect_from(source):
    s = socket.socket()
    s.bind((source, 0))
    s.connect((host, port))
    return s


def get_status(tok=None, source="127.0.0.1"):
    """One GET /api/status on its own connection: (status code, seconds)."""
    started = time.monotonic()
    s = connect_from(source)
    s.settimeout(10)
    auth = ("Authorization: Bearer %s\r\n" % tok) if tok else ""
    s.sendall(("GET /api/status HTTP/1.1\r\nHost: %s:%d\r\n%sConnection: close\r\n\r\n" % (host, port, auth)).encode())
    data = b""
    while b"\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    s.close()
    code = int(data.split(b" ")[1]) if data.startswith(b"HTTP/1.1 ") else 0
    return code, time.monotonic() - started


def still_open(s):
    try:
        s.setblocking(False)
        return s.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


def load(pid):
    def phase(name, seconds, note=""):
        c0 = cpu_seconds(pid)
        time.sleep(seconds)
        print("load: %-28s RSS %6.1f MiB (own %5.1f)  CPU %5.1f %%%s" % (name, rss_kib(pid) / 1024, anon_kib(pid) / 1024,
              (cpu_seconds(pid) - c0) / seconds * 100, note), flush=True)
        return rss_kib(pid), anon_kib(pid)

    idle = phase("idle", 5)
    # 50 pages: their WebSockets, from 10 addresses (a club's phones).
    sockets = []
    for i in range(50):
        s = websocket()
        sockets.append(s)
    latencies = sorted(get_status(token)[1] for _ in range(20))
    phase("50 pages", 10, "  (status for the coach: median %.1f ms)" % (latencies[10] * 1000))
    for s in sockets:
        s.close()
    # 1,000 idle connections from 20 addresses, 50 each: past the limits they are refused.
    idle_conns = [connect_from("127.0.2.%d" % (i // 50 + 1)) for i in range(1000)]
    time.sleep(4)  # refused ones are closed after 2 s; admitted ones wait up to 10 s for a request
    admitted = sum(1 for s in idle_conns if still_open(s))
    code, took = get_status(token, "127.0.3.1")
    phase("1000 idle connections", 3, "  (%d held open, %d refused; coach: %d in %.1f ms)"
          % (admitted, 1000 - admitted, code, took * 1000))
    for s in idle_conns:
        s.close()
    # A flood: 3,000 requests with wrong tokens from one address, 2,000 half-open connections
    # from 40 more, and the coach served meanwhile.
    started = time.monotonic()
    codes = {}
    coach = []
    half = []
    for i in range(3000):
        c, _ = get_status("0" * 32, "127.0.4.1")
        codes[c] = codes.get(c, 0) + 1
        if i % 300 == 0:
            coach.append(get_status(token, "127.0.4.1"))
        if i % 3 == 0 and len(half) < 2000:
            try:
                h = connect_from("127.0.5.%d" % (len(half) // 50 + 1))
                h.sendall(b"GET /api/status HTTP/1.1\r\nHost: x")  # never finished
                half.append(h)
            except OSError:
                pass
    flood_seconds = time.monotonic() - started
    phase("flood", 1, "  (%d bad requests in %.1f s: %s; coach: %s)" % (
        sum(codes.values()), flood_seconds, " ".join("%d x%d" % kv for kv in sorted(codes.items())),
        " ".join(str(c) for c, _ in coach)))
    for h in half:
        h.close()
    after = phase("after the flood (closed)", 12)
    print("load: RSS after the flood %.2fx idle (%.1f MiB vs %.1f MiB); its own memory (heap, stacks) %.2fx idle (%.1f MiB vs %.1f MiB)"
          % (after[0] / idle[0], after[0] / 1024, idle[0] / 1024, after[1] / idle[1], after[1] / 1024, idle[1] / 1024), flush=True)


if sys.argv[2] == "load":
    load(int(sys.argv[3]))
elif sys.argv[2] == "watch":
    watch(int(sys.argv[3]))
else:
    cadence(int(sys.argv[3]), float(sys.argv[4]))
