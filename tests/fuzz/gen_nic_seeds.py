#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# gen_nic_seeds.py - write the seed inputs of the NIC fuzz targets (hw_e1000, hw_rtl8139) in tests/fuzz/nic_fuzz.h's language.
import os
import struct
import sys

WIN = 0x10000


def regw(off, val, size=4):
    return bytes([0, 0xff]) + struct.pack('<HBI', off, size, val & 0xffffffff)


def regr(off, size=4):
    return bytes([1, 0xff]) + struct.pack('<HB', off, size)


def ram(off, data):
    out = b''
    while data:
        chunk, data = data[:255], data[255:]
        out += bytes([2]) + struct.pack('<HB', off, len(chunk)) + chunk
        off += len(chunk)
    return out


def fill(off, n16, byte):
    return bytes([3]) + struct.pack('<HBB', off, n16, byte)


def rx(frame):
    return bytes([4]) + struct.pack('<H', len(frame)) + frame


def link(up):
    return bytes([5, 1 if up else 0])


def timer():
    return bytes([6])


def txpoll():
    return bytes([9])


MAC = bytes([0x52, 0x54, 0, 1, 2, 3])
PEER = bytes([0x52, 0x54, 0, 9, 9, 9])


def tcp_frame(dst, src, plen, seq=1000, flags=0x18):
    ip = struct.pack('>BBHHHBBH4s4s', 0x45, 0, 40 + plen, 0x1234, 0, 64, 6,
                     0, bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    tcp = struct.pack('>HHIIBBHHH', 40000, 80, seq, 0, 0x50, flags, 65535,
                      0, 0)
    return dst + src + b'\x08\x00' + ip + tcp + bytes(i & 0xff
                                                      for i in range(plen))


# e1000 ------------------------------------------------------------------
E = dict(CTRL=0, STATUS=8, EECD=0x10, EERD=0x14, MDIC=0x20, ICR=0xc0,
         ITR=0xc4, ICS=0xc8, IMS=0xd0, IMC=0xd8, RCTL=0x100, TCTL=0x400,
         RDBAL=0x2800, RDLEN=0x2808, RDH=0x2810, RDT=0x2818, TDBAL=0x3800,
         TDLEN=0x3808, TDH=0x3810, TDT=0x3818, RXCSUM=0x5000)


def e_legacy(addr, length, cmd, cso=0, css=0, special=0):
    return struct.pack('<QHBBBBH', addr, length, cso, cmd, 0, css, special)


def e_context(ipcss, ipcso, ipcse, tucss, tucso, tucse, paylen, tucmd,
              hdrlen, mss):
    return struct.pack('<BBHBBHIBBH', ipcss, ipcso, ipcse, tucss, tucso,
                       tucse, (paylen & 0xfffff) | (tucmd << 24) |
                       (0x20 << 24), 0, hdrlen, mss)


def e_data(addr, length, dcmd, popts):
    return struct.pack('<QII', addr, length | (1 << 20) |
                       ((dcmd | 0x20) << 24), popts << 8)


def e1000_seeds():
    s = {}
    buf = 0x4000
    f = tcp_frame(PEER, MAC, 100)
    s['tx-legacy'] = b'\x01' + ram(buf, f) + ram(0, e_legacy(
        WIN + buf, len(f), 0x0b) + e_legacy(WIN + buf, 30, 0) + e_legacy(
        WIN + buf + 30, len(f) - 30, 0x0f, 50, 34)) + regw(E['TDT'], 3) + \
        regr(E['ICR'])
    big = tcp_frame(PEER, MAC, 3000, flags=0x19)
    s['tx-tso'] = b'\x01' + ram(buf, big) + ram(0, e_context(
        14, 24, 33, 34, 50, 0, 3000, 0x07, 54, 1000) + e_data(
        WIN + buf, 54, 0x04, 3) + e_data(WIN + buf + 54, 3000, 0x0d, 3)) + \
        regw(E['TDT'], 3)
    s['tx-tso-bad'] = b'\x01' + ram(buf, big) + ram(0, e_context(
        14, 24, 33, 34, 250, 0, 3000, 0x07, 255, 0) + e_data(
        WIN + buf, 54, 0x04, 3) + e_data(WIN + buf + 54, 3000, 0x0d, 3) +
        e_context(0, 0, 0, 0, 0, 0, 0, 0, 0, 0)) + regw(E['TDT'], 4)
    s['tx-csum'] = b'\x01' + ram(buf, f) + ram(0, e_context(
        14, 24, 33, 34, 50, 0, 0, 0x03, 0, 0) + e_data(
        WIN + buf, len(f), 0x09, 3)) + regw(E['TDT'], 2)
    s['tx-hostile'] = b'\x01' + regw(E['TDT'], 100) + regw(E['TDH'], 40) + \
        regw(E['TDT'], 3) + regw(E['TDLEN'], 0) + regw(E['TDH'], 0) + \
        regw(E['TDT'], 5) + regw(E['TDLEN'], 256) + fill(0, 16, 0x41) + \
        regw(E['TDT'], 15) + regw(E['TDBAL'], 0xffff0) + \
        regw(E['TDT'], 7) + txpoll()
    rxd = b''.join(struct.pack('<QQ', WIN + 0x8000 + 0x800 * i, 0)
                   for i in range(16))
    s['rx'] = b'\x01' + ram(0x1000, rxd) + regw(E['RXCSUM'], 0x300) + \
        rx(tcp_frame(MAC, PEER, 100)) + rx(b'\xff' * 6 + PEER +
                                           b'\x08\x06' + bytes(46)) + \
        regw(E['RCTL'], 0x8022) + rx(tcp_frame(MAC, PEER, 4000)) + \
        regr(E['RDH']) + regw(E['RDT'], 3) + rx(b'\x81\x00' * 40) + \
        link(False) + link(True) + regr(E['ICR'])
    s['rx-hostile'] = b'\x01' + ram(0x1000, rxd) + regw(E['RDH'], 14) + \
        regw(E['RDLEN'], 128) + rx(tcp_frame(MAC, PEER, 50)) + \
        regw(E['RDLEN'], 0) + rx(tcp_frame(MAC, PEER, 50)) + \
        regw(E['RDLEN'], 256) + regw(E['RDH'], 0) + \
        ram(0x1000, struct.pack('<Q', 0xc0000000)) + \
        rx(tcp_frame(MAC, PEER, 50))
    ee = b''
    eecd = 0x40
    ee += regw(E['EECD'], eecd) + regr(E['EECD'])
    eecd |= 2
    ee += regw(E['EECD'], eecd)
    for bit in [1, 1, 0, 0, 0, 0, 0, 0, 1]:
        v = eecd | (4 if bit else 0)
        ee += regw(E['EECD'], v) + regw(E['EECD'], v | 1) + \
            regw(E['EECD'], v)
    for _ in range(16):
        ee += regw(E['EECD'], eecd | 1) + regr(E['EECD']) + \
            regw(E['EECD'], eecd)
    ee += regw(E['EECD'], 0)
    ee += regw(E['EERD'], 0x0101) + regr(E['EERD'])
    ee += regw(E['MDIC'], (1 << 21) | (2 << 16) | (2 << 26)) + \
        regr(E['MDIC']) + regw(E['MDIC'], (1 << 21) | (0x1200) |
                               (1 << 26)) + regw(E['CTRL'], 1 << 26)
    s['eeprom-phy'] = b'\x00' + ee
    s['itr'] = b'\x01' + regw(E['ITR'], 1000) + regw(E['ICS'], 0x80) + \
        regr(E['ICR']) + regw(E['ICS'], 0x80) + timer() + regr(E['ICR'])
    return s


def main():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus')
    for name, seeds in (('hw_e1000', e1000_seeds()),):
        d = os.path.join(root, name)
        os.makedirs(d, exist_ok=True)
        for k, v in seeds.items():
            with open(os.path.join(d, 'seed-' + k), 'wb') as fh:
                fh.write(v)
    return 0


if __name__ == '__main__':
    sys.exit(main())
