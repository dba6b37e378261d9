#!/usr/bin/env python3
"""Generate format_vectors.txt: expected C printf output for f32 values widened to double.

Each line: <f32 bits as 8 hex digits> <'%g' % x> <'%.6f' % x> <'%.2f' % x>
Python's % formatting uses the C library's rules (correctly rounded, round-half-even on the
exact binary value), which is what the OVMS firmware (newlib/glibc printf, C++ ostream) prints.
Run: python3 gen_format_vectors.py > format_vectors.txt
"""
import random
import struct


def f32(x):
    return struct.unpack('<f', struct.pack('<f', x))[0]


def bits(x):
    return struct.unpack('<I', struct.pack('<f', x))[0]


def main():
    rng = random.Random(20261126)
    vals = [0.0, -0.0, 1.0, -1.0, 0.1, 0.5, 1.5, 2.5, 85.0, 300.948, -12.5, 123456.0, 123456.5,
            123457.0, 999999.0, 999999.5, 1000000.0, 1234567.0, 1234565.0, 1234575.0, 1e-5, 1e-4,
            0.0001, 0.00012345, 0.000123456789, 9.99999e-5, 9.999995e-5, 0.001, 1e10, 1e-10, 3.4e38,
            -3.4e38, 1.17549435e-38, 1e-45, 57.123456, -122.987654, 13.8, 4.2, 4.15, 100.0, 65535.0,
            0.3, 0.7, 2.675, 1.005, 12345.678, 99999.95, 999.9995, 0.99999949, 1e6 - 0.4, 12.0,
            37.7749, -122.4194, 1e15, 1e16, 1.5e-7, 6.02e23]
    for _ in range(600):
        e = rng.uniform(-12, 12)
        vals.append(rng.choice([-1, 1]) * 10 ** e)
    for _ in range(300):
        vals.append(rng.randint(-2000000, 2000000) / rng.choice([1, 10, 100, 1000, 1e4, 1e6]))
    for _ in range(200):
        b = rng.getrandbits(32)
        x = struct.unpack('<f', struct.pack('<I', b))[0]
        if x != x or x in (float('inf'), float('-inf')):
            continue
        vals.append(x)
    for v in vals:
        x = f32(v)
        print('%08x %s %s %s' % (bits(x), '%g' % x, '%.6f' % x, '%.2f' % x))


if __name__ == '__main__':
    main()
