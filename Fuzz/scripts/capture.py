#!/usr/bin/env python3
"""Records real PostgreSQL traffic for the fuzz corpus: a plain TCP relay on 127.0.0.1:LISTEN to 127.0.0.1:UPSTREAM
that writes, per connection N, what the client sent to N.client and what the server sent to N.server.
Stops after --seconds. Used by make-corpus.sh only."""
import argparse, os, selectors, socket, time

parser = argparse.ArgumentParser()
parser.add_argument("--listen", type=int, required=True)
parser.add_argument("--upstream", type=int, required=True)
parser.add_argument("--out", required=True)
parser.add_argument("--seconds", type=float, default=120)
args = parser.parse_args()
os.makedirs(args.out, exist_ok=True)

listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", args.listen))
listener.listen(64)
listener.setblocking(False)
selector = selectors.DefaultSelector()
selector.register(listener, selectors.EVENT_READ, None)
count = 0
deadline = time.time() + args.seconds
while time.time() < deadline:
    for key, _ in selector.select(timeout=0.5):
        if key.data is None:
            client, _ = listener.accept()
            server = socket.create_connection(("127.0.0.1", args.upstream))
            count += 1
            cfile = open(os.path.join(args.out, f"{count}.client"), "wb")
            sfile = open(os.path.join(args.out, f"{count}.server"), "wb")
            selector.register(client, selectors.EVENT_READ, (server, cfile))
            selector.register(server, selectors.EVENT_READ, (client, sfile))
            continue
        source = key.fileobj
        target, log = key.data
        try:
            data = source.recv(65536)
        except OSError:
            data = b""
        if not data:
            for sock in (source, target):
                try:
                    selector.unregister(sock)
                except (KeyError, ValueError):
                    pass
                sock.close()
            log.close()
            continue
        log.write(data)
        log.flush()
        target.sendall(data)
