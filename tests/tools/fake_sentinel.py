#!/usr/bin/python3
"""A sentinel that names whatever it is told: for tests that need a
sentinel whose knowledge is stale (it names a master a fail-over has
already demoted) or a master that is demoted without the sentinels
closing its clients' connections. Speaks just enough RESP for Flux:
AUTH, PING and SENTINEL get-master-addr-by-name.

Usage: fake_sentinel.py PORT ANSWER_FILE READY_FILE

Each get-master-addr-by-name answers the "HOST PORT" that ANSWER_FILE
holds at that moment. Creates READY_FILE once listening; runs until
SIGTERM.
"""
import signal
import socketserver
import sys


def read_command(f):
    """One RESP array of bulk strings, or None at EOF."""
    line = f.readline()
    if not line:
        return None
    if not line.startswith(b"*"):
        return line.split()
    args = []
    for _ in range(int(line[1:])):
        size = int(f.readline()[1:])
        args.append(f.read(size + 2)[:-2])
    return args


def bulk(s):
    return b"$%d\r\n%s\r\n" % (len(s), s)


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        while True:
            args = read_command(self.rfile)
            if not args:
                return
            cmd = args[0].upper()
            if cmd == b"AUTH":
                self.wfile.write(b"+OK\r\n")
            elif cmd == b"PING":
                self.wfile.write(b"+PONG\r\n")
            elif cmd == b"SENTINEL" and len(args) == 3 and \
                    args[1].lower() == b"get-master-addr-by-name":
                with open(self.server.answer, "rb") as f:
                    host, port = f.read().split()
                self.wfile.write(b"*2\r\n" + bulk(host) + bulk(port))
            else:
                self.wfile.write(b"-ERR unknown command\r\n")


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    port = int(sys.argv[1])
    server = Server(("127.0.0.1", port), Handler)
    server.answer = sys.argv[2]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    open(sys.argv[3], "w").close()
    server.serve_forever()


if __name__ == "__main__":
    main()
