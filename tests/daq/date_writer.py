#!/usr/bin/env python3
"""An independent writer of DATE raw-data files, for the interoperability test of `na64 dump`.

Written from the layout of DATE's event.h (v3.14) alone, with the struct module; it shares no code
with src/daq. Facts used (event.h; ALICE AliRawReaderDate::GetEquipmentSize):
  * eventHeaderStruct: 20 32-bit words = 80 bytes (EVENT_HEAD_BASE_SIZE): eventSize, eventMagic
    0xDA1E5AFE, eventHeadSize, eventVersion (major << 16 | minor), eventType (PHYSICS_EVENT 7,
    START_OF_BURST 5), eventRunNb, eventId[2] (nb in run; burst << 20 | nb in burst),
    eventTriggerPattern[4], eventDetectorPattern[1], eventTypeAttribute[3], eventLdcId, eventGdcId,
    eventTimestampSec, eventTimestampUsec. eventHeadSize > 80 is a header extension.
  * system attributes are bits 64..95, i.e. bits 0..31 of eventTypeAttribute[2]: ATTR_SUPER_EVENT 68.
  * a super event (built by a GDC) carries ATTR_SUPER_EVENT; its payload is a sequence of LDC
    sub-events, each a complete event header with its own eventLdcId followed by its equipment.
  * equipmentHeaderStruct: 7 words = 28 bytes: equipmentSize, equipmentType, equipmentId,
    equipmentTypeAttribute[3], equipmentBasicElementSize. equipmentSize counts the payload only for
    eventVersion <= 0x00030001, the header too for later versions (decided per (sub-)event).
  * a file written on a machine of the other byte order has every 32-bit word swapped; the magic
    then reads 0xFE5A1EDA.

Usage:
  date_writer.py --out FILE --manifest FILE.json [--seed N] [--events N] [--kind plain|super|swapped]
  date_writer.py --check NA64 --dir DIR     write the three kinds and check `na64 dump --summary`
The manifest states what was written: every intact event (offset, size, id, LDC count, blocks) and
every damage (kind, offset, length that a reader must report as bad).
"""
import argparse
import json
import os
import random
import re
import subprocess
import sys

MAGIC = 0xDA1E5AFE
V3_1 = 0x00030001   # equipmentSize = payload only
V3_8 = 0x00030008   # equipmentSize = header + payload
V3_14 = 0x0003000E
ATTR_SUPER = 1 << 4  # attribute 68 in eventTypeAttribute[2]
VOID_ID = 0xFFFFFFFF
PHYSICS, START_OF_BURST = 7, 5


def words(fmt_words, swapped):
    """Pack 32-bit words in little-endian (the writer's native order) or swapped (big-endian)."""
    import struct
    return struct.pack(('>' if swapped else '<') + '%dI' % len(fmt_words), *fmt_words)


def header(size, head, version, etype, nb, burst, nib, attr2, ldc, gdc, ext):
    w = [size, MAGIC, head, version, etype, 4242, nb, ((burst & 0xFFF) << 20) | (nib & 0xFFFFF),
         1 << (nb % 4), 0, 0, 0, 0x3F, 0, 0, attr2, ldc, gdc, 1530000000 + nb, nb % 1000000]
    return w + [0xE0E0E0E0] * ext


def equipment(rng, version, eq_id):
    n = rng.randrange(0, 24)
    payload = [rng.getrandbits(32) for _ in range(n)]
    size = 4 * n + (28 if version > V3_1 else 0)
    # type 0 = raw words, format attribute 1, basic element size 4
    return [size, 0, eq_id, 1, 0, 0, 4] + payload


def sub_event(rng, version, etype, nb, burst, nib, ldc, ext):
    blocks = []
    for k in range(rng.randrange(0, 4) if etype == PHYSICS else 0):
        blocks += equipment(rng, version, 100 * ldc + k)
    nblocks = 0
    i = 0
    while i < len(blocks):  # count blocks (sizes follow the convention of `version`)
        nblocks += 1
        i += (blocks[i] + (0 if version > V3_1 else 28)) // 4
    head = 80 + 4 * ext
    hw = header(head + 4 * len(blocks), head, version, etype, nb, burst, nib, 0, ldc, 1, ext)
    return hw + blocks, nblocks


def make_event(rng, kind, nb):
    """Words of one event and what it holds."""
    etype = START_OF_BURST if nb % 25 == 0 else PHYSICS
    burst, nib = 1 + nb // 25, nb % 25
    ext = 2 if rng.random() < 0.1 else 0  # sometimes a header extension
    if kind == 'plain':
        version = V3_1 if nb % 2 else V3_14  # both conventions, chosen per event
        ev, nblocks = sub_event(rng, version, etype, nb, burst, nib, 3, ext)
        return ev, {'ldcs': 0, 'blocks': nblocks, 'type': etype}
    nldc = rng.randrange(1, 5)
    body, nblocks = [], 0
    for ldc in sorted(rng.sample(range(1, 9), nldc)):
        version = rng.choice([V3_1, V3_8, V3_14])  # each LDC sub-event has its own version
        sw, nbk = sub_event(rng, version, etype, nb, burst, nib, ldc, 1 if rng.random() < 0.1 else 0)
        body += sw
        nblocks += nbk
    head = 80 + 4 * ext
    gw = header(head + 4 * len(body), head, V3_14, etype, nb, burst, nib, ATTR_SUPER, VOID_ID, 1, ext)
    return gw + body, {'ldcs': nldc, 'blocks': nblocks, 'type': etype}


def lie_inner(ev, kind):
    """Damage an inner size so that the blocks (or sub-events) no longer tile the event."""
    first = ev[2] // 4  # first word after the outer header
    ev[first] += 4 if kind == 'plain' else 0x100000
    if kind == 'plain' and len(ev) == first:  # no block to damage: claim a payload
        return False
    return True


def write_file(path, kind, seed, nevents):
    rng = random.Random(seed)
    swapped = kind == 'swapped'
    out = bytearray()
    intact, damages = [], []
    prev_ok = True
    for nb in range(nevents):
        ev, info = make_event(rng, 'plain' if kind == 'plain' else 'super', nb)
        last = nb == nevents - 1
        # one damage at most per event, never two in a row nor just before the truncated last event,
        # so that each damage is one region of its own
        r = rng.random() if prev_ok and nb < nevents - 2 else 1.0
        prev_ok = not (0.01 <= r < 0.03)
        if 0.0 <= r < 0.01 and not last:  # garbage before the event
            n = rng.randrange(1, 200)
            g = bytes(rng.randrange(0, 256) for _ in range(n))
            damages.append({'kind': 'garbage', 'offset': len(out), 'length': n})
            out += g
        if last:  # the last event is cut short
            b = words(ev, swapped)
            cut = rng.randrange(8, len(b))
            damages.append({'kind': 'truncated_last_event', 'offset': len(out), 'length': cut})
            out += b[:cut]
            break
        if 0.01 <= r < 0.02:  # wrong magic
            ev[1] = 0x0BADBEEF
            damages.append({'kind': 'wrong_magic', 'offset': len(out), 'length': 4 * len(ev)})
            out += words(ev, swapped)
            continue
        if 0.02 <= r < 0.03 and len(ev) > ev[2] // 4:  # lying inner size
            lie_inner(ev, 'plain' if kind == 'plain' else 'super')
            damages.append({'kind': 'lying_inner_size', 'offset': len(out), 'length': 4 * len(ev)})
            out += words(ev, swapped)
            continue
        intact.append({'offset': len(out), 'size': 4 * len(ev), 'id': nb, **info})
        out += words(ev, swapped)
    with open(path, 'wb') as f:
        f.write(out)
    manifest = {'file': path, 'kind': kind, 'seed': seed, 'swapped': swapped, 'bytes': len(out),
                'intact_events': intact, 'damages': damages}
    return manifest


REGION = re.compile(r'bad region at offset (\d+), (\d+) bytes skipped: (\w+)')


def check(na64, manifest):
    """`na64 dump --summary` must deliver exactly the intact events and flag each damage at its offset."""
    p = subprocess.run([na64, 'dump', '--summary', manifest['file']], capture_output=True, text=True)
    errors = []
    if p.returncode != 0:
        return ['exit status %d: %s' % (p.returncode, p.stderr[-500:])]
    got = dict(line.split(': ', 1) for line in p.stdout.splitlines() if ': ' in line)
    intact = manifest['intact_events']
    want = {
        'events': len(intact),
        'physics': sum(1 for e in intact if e['type'] == PHYSICS),
        'start_of_burst': sum(1 for e in intact if e['type'] == START_OF_BURST),
        'super_events': sum(1 for e in intact if e['ldcs'] > 0),
        'ldc_subevents': sum(e['ldcs'] for e in intact),
        'swapped_events': len(intact) if manifest['swapped'] else 0,
        'equipment_blocks': sum(e['blocks'] for e in intact),
        'bad_regions': len(manifest['damages']),
        'bytes_read': manifest['bytes'],
        'bytes_skipped': sum(d['length'] for d in manifest['damages']),
    }
    for k, v in want.items():
        if int(got.get(k, -1)) != v:
            errors.append('%s: %s, expected %d' % (k, got.get(k), v))
    regions = [(int(a), int(b), c) for a, b, c in REGION.findall(p.stderr)]
    for d in manifest['damages']:
        if not any(o == d['offset'] and n == d['length'] for o, n, _ in regions):
            errors.append('damage %s at offset %d (%d bytes) not reported; regions: %s' %
                          (d['kind'], d['offset'], d['length'], regions[:20]))
    return errors


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out')
    ap.add_argument('--manifest')
    ap.add_argument('--kind', default='super', choices=['plain', 'super', 'swapped'])
    ap.add_argument('--seed', type=int, default=7)
    ap.add_argument('--events', type=int, default=2000)
    ap.add_argument('--check', metavar='NA64')
    ap.add_argument('--dir', default='.')
    a = ap.parse_args()
    if not a.check:
        if not a.out:
            ap.error('--out or --check is required')
        m = write_file(a.out, a.kind, a.seed, a.events)
        with open(a.manifest or a.out + '.json', 'w') as f:
            json.dump(m, f, indent=1)
        return 0
    os.makedirs(a.dir, exist_ok=True)
    failed = 0
    for i, kind in enumerate(['plain', 'super', 'swapped']):
        path = os.path.join(a.dir, 'interop-%s.dat' % kind)
        m = write_file(path, kind, a.seed + i, a.events)
        with open(path + '.json', 'w') as f:
            json.dump(m, f, indent=1)
        kinds = {}
        for d in m['damages']:
            kinds[d['kind']] = kinds.get(d['kind'], 0) + 1
        errs = check(a.check, m)
        print('%s: %d bytes, %d intact events, damages %s: %s' %
              (path, m['bytes'], len(m['intact_events']), kinds, 'ok' if not errs else 'FAILED'))
        for e in errs:
            print('  ' + e)
        failed += bool(errs)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
