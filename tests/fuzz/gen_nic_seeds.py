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


# rtl8139 ----------------------------------------------------------------
R = dict(TSD0=0x10, TSAD0=0x20, RBSTART=0x30, CR=0x37, CAPR=0x38, CBR=0x3a,
         IMR=0x3c, ISR=0x3e, RCR=0x44, CFG9346=0x50, MSR=0x58, TSAD=0x60,
         BMSR=0x64, TPPOLL=0xd9, CPCMD=0xe0, RDSAR=0xe4)
OWN, EOR, FS, LS, LGSEN = 1 << 31, 1 << 30, 1 << 29, 1 << 28, 1 << 27


def cp_desc(opts1, opts2, addr):
    return struct.pack('<IIQ', opts1 & 0xffffffff, opts2, addr)


def rtl_seeds():
    s = {}
    f = tcp_frame(PEER, MAC, 200)
    tx = ram(0x8000, f)
    for slot in range(6):
        tx += regw(R['TSAD0'] + 4 * (slot % 4), WIN + 0x8000) + \
            regw(R['TSD0'] + 4 * (slot % 4), len(f))
    tx += regr(R['TSAD'], 2) + regw(R['ISR'], 0xffff, 2) + \
        regw(R['TSD0'], 5000) + regw(R['TSAD0'] + 4, 0xfffffff0) + \
        regw(R['TSD0'] + 4, 64)
    s['too-tx'] = b'\x02' + tx
    rxs = b''
    cur = 0
    for i in range(12):
        fr = tcp_frame(MAC, PEER, 300 + 50 * i)
        rxs += rx(fr) + regr(R['CR'], 1) + regr(R['CBR'], 2)
        cur = (cur + len(fr) + 8 + 3) & ~3
        if i % 3:
            rxs += regw(R['CAPR'], (cur - 16) & 0xffff, 2)
    rxs += regw(R['CAPR'], 0xffff, 2) + rx(tcp_frame(MAC, PEER, 1400)) + \
        regw(R['RCR'], 0x1f | (3 << 11), 4) + rx(tcp_frame(MAC, PEER, 1000))
    s['too-rx'] = b'\x02' + rxs + link(False) + regr(R['MSR'], 1) + \
        link(True) + regr(R['ISR'], 2)
    ee = regw(R['CFG9346'], 0x80, 1) + regw(R['CFG9346'], 0x88, 1)
    for bit in [0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 1]:
        v = 0x88 | (2 if bit else 0)
        ee += regw(R['CFG9346'], v, 1) + regw(R['CFG9346'], v | 4, 1)
    for _ in range(16):
        ee += regw(R['CFG9346'], 0x8c, 1) + regr(R['CFG9346'], 1) + \
            regw(R['CFG9346'], 0x88, 1)
    ee += regw(R['CFG9346'], 0x40, 1) + regw(R['CR'], 0x10, 1)
    s['too-eeprom'] = b'\x00' + ee
    big = tcp_frame(PEER, MAC, 3000, flags=0x19)
    cptx = ram(0x8000, big) + ram(0, cp_desc(
        OWN | FS | LS | (7 << 16) | len(f), 0, WIN + 0x8000) + cp_desc(
        OWN | FS | LS | LGSEN | (1000 << 16) | len(big), 0, WIN + 0x8000) +
        cp_desc(OWN | FS | 20, (1 << 17) | 0x0500, WIN + 0x8000) + cp_desc(
        OWN | LS | EOR | 100, 0, WIN + 0x8014)) + \
        regw(R['TPPOLL'], 0x40, 1) + regr(R['ISR'], 2)
    s['cp-tx'] = b'\x05' + cptx
    bad = bytearray(tcp_frame(PEER, MAC, 100))
    bad[14] = 0x4f
    hostile = ram(0x9000, bytes(bad)) + ram(0, cp_desc(
        OWN | FS | LS | LGSEN | (1000 << 16) | len(bad), 0, WIN + 0x9000) +
        cp_desc(OWN | FS | LS | LGSEN | len(bad), 0, WIN + 0x9000) +
        cp_desc(OWN | LS | 64, 0, WIN + 0x9000)) + fill(0x30, 60, 0xff) + \
        regw(R['TPPOLL'], 0xc1, 1) + regw(R['TSD0'] + 4, 0) + \
        regw(R['TSD0'], (WIN + 0x3000) | 8)
    s['cp-hostile'] = b'\x05' + hostile
    rxd = b''.join(cp_desc(OWN | (EOR if i == 3 else 0) | 1536, 0,
                           WIN + 0x8000 + 0x800 * i) for i in range(4))
    s['cp-rx'] = b'\x05' + ram(0x1000, rxd) + \
        rx(tcp_frame(MAC, PEER, 500)) + rx(tcp_frame(MAC, PEER, 2500)) + \
        ram(0x1000, rxd) + rx(b'\xff' * 6 + PEER + b'\x81\x00\x00\x07' +
                              b'\x08\x00' + bytes(60)) + \
        regw(R['CPCMD'], 0, 2) + regw(R['CPCMD'], 0x7b, 2) + \
        rx(tcp_frame(MAC, PEER, 100))
    return s


def main():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus')
    for name, seeds in (('hw_e1000', e1000_seeds()),
                        ('hw_rtl8139', rtl_seeds())):
        d = os.path.join(root, name)
        os.makedirs(d, exist_ok=True)
        for k, v in seeds.items():
            with open(os.path.join(d, 'seed-' + k), 'wb') as fh:
                fh.write(v)
    return 0


if __name__ == '__main__':
    sys.exit(main())
