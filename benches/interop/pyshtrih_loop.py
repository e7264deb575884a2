#!/usr/bin/env python3
"""The simplest print loop a shop could write: pyshtrih prints N ten-position
cash sales on the Shtrih-M at PORT, the same positions as the agent benches
(`ten_position_sale` in benches/bench_support/mod.rs).

Usage: pyshtrih_loop.py PORT BAUD N
Prints one line per receipt, "receipt SEQ WALL_MS CPU_MS", where CPU is the
interpreter's own process time for that receipt (start-up excluded).
"""

import sys
import time

import pyshtrih


def main():
    port, baud, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    dev = pyshtrih.ShtrihM01F(port=port, baudrate=baud, timeout=5)
    dev.connect()
    if dev.state()[u"Режим ФР"].state[0] == 4:
        dev.open_shift()
    for seq in range(count):
        wall0, cpu0 = time.perf_counter(), time.process_time()
        total = 0
        for i in range(1, 11):
            quantity = 1 + i % 3
            price = 10000 + i * 137 + seq % 50
            total += quantity * price
            dev.sale((u"Товар %d" % i, quantity * 1000, price), tax1=1)
        dev.close_check(cash=total)
        wall1, cpu1 = time.perf_counter(), time.process_time()
        print("receipt %d %.3f %.3f" % (seq, (wall1 - wall0) * 1e3, (cpu1 - cpu0) * 1e3))
        sys.stdout.flush()
    dev.disconnect()


if __name__ == "__main__":
    main()
