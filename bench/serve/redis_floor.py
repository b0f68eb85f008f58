"""The Redis floor's data for bench/serve.sh and bench/serve_reads.sh: one 32-field
hash per user for 1e4 users (`user:%012d`), as Redis protocol on stdout for
`redis-cli --pipe`."""
import sys

out = sys.stdout
for u in range(10000):
    args = ["HSET", "user:%012d" % u]
    for f in range(1, 33):
        args += ["f%d" % f, str(u * 0.5 + f)]
    out.write("*%d\r\n" % len(args))
    for a in args:
        out.write("$%d\r\n%s\r\n" % (len(a.encode()), a))
