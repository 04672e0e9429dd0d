"""make bench helper: N WebSocket clients (stdlib only) on the coach's remote, or a stream of
API calls. Usage:
  remote-clients.py URL watch N       # N clients read /api/events until the server closes
  remote-clients.py URL cadence K GAP # K POST /api/cadence calls, +1 and -1 in turn, GAP s apart
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
    for i in range(k):
        body = json.dumps({"delta": 1 if i % 2 == 0 else -1}).encode()
        s = socket.create_connection((host, port))
        s.sendall(("POST /api/cadence HTTP/1.1\r\nHost: %s:%d\r\n" % (host, port)).encode() + b"Authorization: Bearer " + token.encode()
                  + b"\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        s.recv(4096)
        s.close()
        time.sleep(gap)


if sys.argv[2] == "watch":
    watch(int(sys.argv[3]))
else:
    cadence(int(sys.argv[3]), float(sys.argv[4]))
