#!/usr/bin/env python3
"""An independent discard server for the interop tests: listens on 127.0.0.1 (any port,
printed first), takes CONNECTIONS connections, reads each to its end checking benchtop's
pattern (byte n of a stream is n % 251), then prints "TOTAL <bytes> <streams on pattern>".
Usage: discard_server.py CONNECTIONS"""
import socket
import sys
import threading

PERIOD = 251
REF = bytes(i % PERIOD for i in range(PERIOD * 1100))
lock = threading.Lock()
total = [0, 0]


def serve(conn):
    offset, ok = 0, True
    with conn:
        while True:
            data = conn.recv(1 << 18)
            if not data:
                break
            view = memoryview(data)
            while len(view):
                n = min(len(view), len(REF) - PERIOD)
                phase = offset % PERIOD
                if ok and view[:n] != REF[phase:phase + n]:
                    ok = False
                offset += n
                view = view[n:]
    with lock:
        total[0] += offset
        total[1] += 1 if ok else 0


want = int(sys.argv[1])
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(128)
print(srv.getsockname()[1], flush=True)
threads = []
for _ in range(want):
    c, _ = srv.accept()
    t = threading.Thread(target=serve, args=(c,))
    t.start()
    threads.append(t)
for t in threads:
    t.join()
print("TOTAL", total[0], total[1], flush=True)
