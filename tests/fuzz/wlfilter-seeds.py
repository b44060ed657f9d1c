#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Writes the seed corpus of fuzz_wlfilter (tests/fuzz/wlfilter-corpus):
# scripts of requests and events in the harness's chunk format.
#   python3 tests/fuzz/wlfilter-seeds.py tests/fuzz/wlfilter-corpus
import os
import struct
import sys


def msg(obj, op, *args):
    body = b''
    for a in args:
        if isinstance(a, int):
            body += struct.pack('<I', a)
        else:
            s = a.encode() if isinstance(a, str) else a
            s += b'\0'
            body += struct.pack('<I', len(s)) + s + b'\0' * (-len(s) % 4)
    return struct.pack('<II', obj, (8 + len(body)) << 16 | op) + body


def chunk(data, event=False, fds=0, paste=False, copy=False):
    return (bytes([int(event) | fds << 1 | int(paste) << 4 | int(copy) << 5]) +
            struct.pack('<H', len(data)) + data)


def req(*m, fds=0, paste=False, copy=False):
    return chunk(b''.join(m), False, fds, paste, copy)


def ev(*m, fds=0):
    return chunk(b''.join(m), True, fds)


window = [
    req(msg(1, 1, 2)),
    ev(msg(2, 0, 1, 'wl_compositor', 4), msg(2, 0, 2, 'xdg_wm_base', 2),
       msg(2, 0, 3, 'wl_seat', 7), msg(2, 0, 4, 'wl_data_device_manager', 3),
       msg(2, 0, 5, 'wl_shm', 1), msg(2, 0, 6, 'zwlr_layer_shell_v1', 4),
       msg(2, 0, 7, 'zxdg_decoration_manager_v1', 1)),
    req(msg(2, 0, 1, 'wl_compositor', 4, 3), msg(3, 0, 4),
        msg(2, 0, 2, 'xdg_wm_base', 2, 5), msg(5, 2, 9, 4), msg(9, 1, 10)),
]
# The window configured at 400x300 and mapped with a 400x300 buffer (20),
# wl_subcompositor as 8, wl_shm's pool as 12.
mapped = window + [
    ev(msg(2, 0, 8, 'wl_subcompositor', 1)),
    req(msg(2, 0, 8, 'wl_subcompositor', 1, 8), msg(2, 0, 5, 'wl_shm', 1, 11),
        msg(11, 0, 12, 1 << 24), fds=1),
    req(msg(12, 0, 20, 0, 400, 300, 1600, 0)),
    ev(msg(10, 0, 400, 300, 0), msg(9, 0, 77)),
    req(msg(9, 4, 77), msg(4, 1, 20, 0, 0), msg(4, 6)),
]


def popup(n, parent, x, y, w, h, extra=()):
    # popup n: surface 10n, xdg_surface 10n+1, positioner 10n+2, xdg_popup
    # 10n+3, placed at x, y; a w x h buffer 10n+4 attached and committed
    b = n * 10
    return [
        req(msg(3, 0, b), msg(5, 2, b + 1, b), msg(5, 1, b + 2), msg(b + 2, 1, w, h),
            msg(b + 2, 2, 0, 0, 1, 1), msg(b + 1, 2, b + 3, parent, b + 2), msg(b, 6)),
        ev(msg(b + 3, 0, x & 0xffffffff, y & 0xffffffff, w, h), msg(b + 1, 0, 90 + n)),
        req(msg(b + 1, 4, 90 + n), msg(12, 0, b + 4, 0, w, h, w * 4, 0), *extra,
            msg(b, 1, b + 4, 0, 0), msg(b, 6)),
    ]


seeds = {
    'window': window,
    'hostile-title': window + [req(msg(10, 2, '[bank] \u202e<b>x</b>\x1b'), msg(10, 3, 'x'))],
    'bind-layer-shell': window + [req(msg(2, 0, 6, 'zwlr_layer_shell_v1', 4, 11))],
    'bind-guessed': window + [req(msg(2, 0, 1, 'zwlr_screencopy_manager_v1', 3, 11))],
    'fullscreen': window + [req(msg(10, 11, 0), msg(4, 6))],
    'clipboard': window + [
        req(msg(2, 0, 4, 'wl_data_device_manager', 3, 11), msg(2, 0, 3, 'wl_seat', 7, 12),
            msg(11, 1, 13, 12), msg(11, 0, 14), msg(13, 1, 14, 5)),
        ev(msg(13, 0, 0xff000001), msg(0xff000001, 0, 'text/plain'), msg(13, 5, 0xff000001)),
        req(msg(0xff000001, 1, 'text/plain'), fds=1)],
    # the user's paste: offered, received, the old offer destroyed, a
    # second paste, then the guest's own selection ends it
    'paste': window + [
        req(msg(2, 0, 4, 'wl_data_device_manager', 3, 11), msg(2, 0, 3, 'wl_seat', 7, 12),
            msg(11, 1, 13, 12)),
        ev(msg(13, 0, 0xff000000), msg(0xff000000, 0, 'text/plain'), msg(13, 5, 0xff000000)),
        req(msg(0xff000000, 1, 'text/plain;charset=utf-8'), fds=1, paste=True),
        req(msg(0xff000000, 1, 'image/png'), msg(0xff000000, 0, 1, 'text/plain'), fds=1),
        req(msg(0xff000000, 2), paste=True),
        req(msg(0xff000000, 1, 'UTF8_STRING'), msg(11, 0, 14), msg(13, 1, 14, 5),
            msg(0xff000000, 1, 'text/plain'), fds=2)],
    # the user's copy: of no selection, of one with text, of a destroyed one
    'copy': window + [
        req(msg(2, 0, 4, 'wl_data_device_manager', 3, 11), msg(2, 0, 3, 'wl_seat', 7, 12),
            msg(11, 1, 13, 12), msg(11, 0, 14), msg(14, 0, 'text/plain'), copy=True),
        req(msg(13, 1, 14, 5), copy=True),
        req(msg(14, 1), copy=True),
        req(msg(1, 0, 2), copy=True)],
    'cursor': mapped + [
        req(msg(2, 0, 3, 'wl_seat', 7, 40), msg(40, 0, 41), msg(3, 0, 42),
            msg(12, 0, 43, 0, 300, 300, 1200, 0), msg(42, 1, 43, 0, 0), msg(42, 6),
            msg(41, 0, 1, 42, 0, 0))],
    'huge-window': window + [req(msg(10, 8, 4000, 3000), msg(10, 7, 4000, 3000), msg(10, 1, 0))],
    'shm-fd': window + [req(msg(2, 0, 5, 'wl_shm', 1, 11), msg(11, 0, 12, 4096), fds=1),
                        req(msg(12, 0, 13, 0, 16, 16, 64, 0))],
    'keymap-fd': window + [req(msg(2, 0, 3, 'wl_seat', 7, 11), msg(11, 1, 12)),
                           ev(msg(12, 0, 1, 4096), fds=1)],
    'delete-id': [req(msg(1, 0, 2)), ev(msg(2, 0, 7), msg(1, 1, 2)), req(msg(1, 0, 2))],
    'oversized': [req(struct.pack('<II', 1, 4100 << 16 | 1) + b'\0' * 4092)],
    'split': [req(msg(1, 1, 2)[:5]), req(msg(1, 1, 2)[5:])],
    'popup-inside': mapped + popup(3, 9, 10, 10, 100, 50),
    'popup-outside': mapped + popup(3, 9, -200, -30, 100, 50),
    'popup-huge-buffer': mapped + popup(3, 9, 10, 10, 2000, 2000),
    'popup-scale-transform': mapped + popup(3, 9, 10, 10, 380, 200,
                                            (msg(30, 8, 2), msg(30, 7, 1))),
    'popup-geometry-offset': mapped + popup(3, 9, 10, 10, 100, 50,
                                            (msg(31, 3, 50, 0, 50, 50), msg(30, 10, 5, 5))),
    'popup-nested': mapped + popup(3, 9, 10, 10, 100, 50) + popup(4, 31, 350, 0, 100, 50),
    'popup-subsurface': mapped + popup(3, 9, 10, 10, 100, 50) + [
        req(msg(3, 0, 60), msg(8, 1, 61, 60, 30))],
    'popup-window-shrinks': mapped + popup(3, 9, 250, 10, 100, 50) + [
        ev(msg(10, 0, 200, 300, 0), msg(9, 0, 78)),
        req(msg(9, 4, 78), msg(4, 6), msg(10, 0), msg(30, 6))],
    'popup-no-parent': mapped + [req(msg(3, 0, 30), msg(5, 2, 31, 30), msg(5, 1, 32),
                                     msg(31, 2, 33, 0, 32))],
}
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for name, chunks in seeds.items():
    with open(os.path.join(out, name), 'wb') as f:
        f.write(b'\0' + b''.join(chunks))
