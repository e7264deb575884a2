#!/usr/bin/env python3
"""Independent-client check of the Shtrih-M emulator with pyshtrih.

pyshtrih (PyPI, MIT, github.com/oleg-golovanov/pyshtrih) is a third-party
Shtrih-M driver that knows nothing of masterkassa. This script drives an
emulator already serving on PORT through it and checks that the answers
are correct: status, shift open, a classic sale receipt, the FN status and
archive, the OFD queue, and the Z-report.

Usage: pyshtrih_check.py PORT [BAUD]
Exit status 0 when every check passes; a failure names the check.
Needs: pip install pyshtrih  (pulls pyserial and unilog).
"""

import sys

import pyshtrih


def check(cond, what):
    if not cond:
        raise SystemExit("FAILED: " + what)
    print("ok   " + what)


def main():
    port = sys.argv[1]
    baud = int(sys.argv[2]) if len(sys.argv) > 2 else 115200
    dev = pyshtrih.ShtrihM01F(port=port, baudrate=baud, timeout=5)
    dev.connect()  # ENQ/NAK handshake, then 0xFC device type
    check(dev.name == u"ШТРИХ-М-01Ф", "0xFC device name %r" % dev.name)

    st = dev.state()
    check(st[u"Код ошибки"] == 0, "0x10 short status succeeds")
    check(st[u"Режим ФР"].state[0] == 4, "0x10 mode 4: shift closed, got %s" % st[u"Режим ФР"])
    check(st[u"Подрежим ФР"].state == 0, "0x10 submode 0: paper present")

    full = dev.full_state()
    check(full[u"Режим ФР"].state[0] == 4, "0x11 mode 4")
    check(full[u"Заводской номер"] == 12345678, "0x11 serial %r" % full[u"Заводской номер"])

    fs = dev.fs_state()
    serial = bytes(fs[u"Номер ФН"]).decode("ascii")
    check(serial == "9999078900012345", "0xFF01 FN serial %r" % serial)
    first_fd = fs[u"Номер последнего ФД"]
    check(first_fd >= 1, "0xFF01 last FD number %r" % first_fd)

    dev.open_shift()
    check(dev.state()[u"Режим ФР"].state[0] == 2, "0xE0 opened the shift (mode 2)")
    params = dev.fs_shift_params()
    check(params[u"Номер смены"] >= 1, "0xFF40 shift number %r" % params[u"Номер смены"])

    # Sale: 2 x 45.50 (quantity in thousandths, price in kopecks), tax 1.
    dev.sale((u"Хлеб", 2000, 4550), tax1=1)
    dev.sale((u"Молоко", 1000, 8990), tax1=2)
    check(dev.state()[u"Режим ФР"].state == (8, 0), "0x80 opened a sale receipt (mode 8.0)")
    closed = dev.close_check(cash=20000)
    change = closed[u"Сдача"]
    check(change == 20000 - 9100 - 8990, "0x85 change %r" % change)

    fs = dev.fs_state()
    fd = fs[u"Номер последнего ФД"]
    check(fd == first_fd + 2, "0xFF01 last FD after shift open + receipt: %r" % fd)
    doc = dev.fs_find_document_by_num(fd)
    check(doc[u"Тип фискального документа"] == 3, "0xFF0A document type 3 (receipt)")
    data = bytes(doc[u"Данные фискального документа"])
    number = int.from_bytes(data[5:9], "little")
    operation = data[13]
    total = int.from_bytes(data[14:19], "little")
    check(number == fd, "0xFF0A FD number %r" % number)
    check(operation == 1, "0xFF0A operation 1 (sale)")
    check(total == 9100 + 8990, "0xFF0A total %r" % total)

    ex = dev.fs_info_exchange()
    check(ex[u"Количество сообщений для ОФД"] >= 2, "0xFF39 OFD queue %r" % ex[u"Количество сообщений для ОФД"])
    check(dev.fs_unconfirmed_document_count()[u"Количество неподтверждённых ФД"] >= 2, "0xFF3F unsent count")

    # Errors come back typed: a wrong password.
    try:
        dev.protocol.command(0x10, 77)
        check(False, "wrong password refused")
    except pyshtrih.Error as e:
        check(e.code == 0x4F, "wrong password → 0x4F (%s)" % e)

    dev.z_report()
    check(dev.state()[u"Режим ФР"].state[0] == 4, "0x41 closed the shift (mode 4)")
    doc = dev.fs_find_document_by_num(fd + 1)
    check(doc[u"Тип фискального документа"] == 5, "0xFF0A shift close report")
    dev.disconnect()
    print("all pyshtrih checks passed")


if __name__ == "__main__":
    main()
