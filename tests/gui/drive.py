#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Drives spectrum-settings through the accessibility tree (AT-SPI), as a
person with a screen reader or a mouse would: finds widgets by their role
and name, presses buttons, types into entries, reads labels.

usage: drive.py STEP FILE [SCREENSHOT]

STEP is one of:
  edit      add an instance with two bindings, see the relative mount path
            refused, fix it, save (the test's main story)
  save      press Ctrl+S on the file as opened (no edit)
  readonly  the window of a file that does not parse
  conflict  the file changes on disk while open
  delete    a resource in use, deleted with its bindings when confirmed
  device    a USB device picked from a fake sysfs ($SPECTRUM_SYSFS)
  daemon    the running view, Apply (the daemon's switch, dry run first),
            Disposable, Generations and Roll back, then spectrumd (pid
            $SS_DAEMON_PID) goes away ($SS_SPECTRUM: the spectrum binary)

Prints one line per check: "ok - WHAT" or "not ok - WHAT" (run.sh numbers
them), and "# ..." for diagnostics.
"""
import ctypes
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time

import pyatspi
from ctypes import POINTER, byref, c_int, c_uint, c_ulong, c_void_p

TIMEOUT = 30


def say(ok, what):
    print(("ok - " if ok else "not ok - ") + what, flush=True)
    return ok


def note(text):
    print("# " + text.replace("\n", "\n# "), flush=True)


def children(node):
    try:
        return [node.getChildAtIndex(i) for i in range(node.childCount)]
    except Exception:
        return []


def showing(node):
    # GTK 4.8 sets "visible" (not "showing"): pages of a stack that are
    # not shown are still visible; widget() scopes to a page for that.
    try:
        return node.getState().contains(pyatspi.STATE_VISIBLE)
    except Exception:
        return False


def find_all(root, pred, only_showing=True):
    out, todo = [], [root]
    while todo:
        n = todo.pop(0)
        if n is None:
            continue
        try:
            if (not only_showing or showing(n)) and pred(n):
                out.append(n)
        except Exception:
            pass
        todo.extend(children(n))
    return out


def wait_for(fn, what, timeout=TIMEOUT):
    """Polls fn() until it returns something true; that value, or None."""
    end = time.time() + timeout
    while time.time() < end:
        try:
            v = fn()
        except Exception:
            v = None
        if v:
            return v
        time.sleep(0.2)
    note("timed out waiting for " + what)
    return None


def app():
    desk = pyatspi.Registry.getDesktop(0)
    for a in children(desk):
        if a is not None and a.name == "spectrum-settings":
            return a
    return None


def page(title):
    """The panel of a page of the window's stack ("Instances")."""
    found = find_all(app(), lambda n: n.getRoleName() == "panel" and n.name == title)
    return found[0] if found else None


def widget(role, name, scope=None):
    """The visible widget of that role (or one of those roles, separated
    by "|") and accessible name (on page `scope` only, if given)."""
    roles = role.split("|")

    def look():
        root = page(scope) if scope else app()
        found = find_all(root, lambda n: n.getRoleName() in roles and n.name == name) if root else []
        return found[0] if found else None
    return wait_for(look, "%s %r" % (role, name))


def press(role, name, scope=None):
    w = widget(role, name, scope)
    if w is None:
        return False
    try:
        w.queryAction().doAction(0)
    except Exception:
        # No action (a check button in GTK 4.8): click its middle.
        x, y, cw, ch = w.queryComponent().getExtents(pyatspi.DESKTOP_COORDS)
        pyatspi.Registry.generateMouseEvent(x + cw // 2, y + ch // 2, "b1c")
    time.sleep(0.3)
    return True


def type_into(name, text, scope="Instances"):
    e = widget("text", name, scope)
    if e is None:
        return False
    e.queryEditableText().setTextContents(text)
    time.sleep(0.3)
    return True


def labels_with(fragment):
    return [n.name for n in find_all(app(), lambda n: n.getRoleName() == "label" and fragment in n.name)]


def status():
    """The status line: the label before spectrumd's, in the footer (a
    label's accessible name is its text)."""
    d = find_all(app(), lambda n: n.getRoleName() == "label" and n.name.startswith("spectrumd"))
    if not d:
        return ""
    first = d[0].parent.getChildAtIndex(0)
    return first.name if first is not None else ""


class Keyboard:
    """Key presses through the X server's XTest extension (libXtst, which
    the accessibility registry uses too), as a keyboard would type them.
    Without a window manager no one gives the window the input focus;
    this does, as a click would under one."""

    def __init__(self):
        x11 = ctypes.CDLL("libX11.so.6")
        xtst = ctypes.CDLL("libXtst.so.6")
        x11.XOpenDisplay.restype = c_void_p
        x11.XDefaultRootWindow.restype = c_ulong
        x11.XDefaultRootWindow.argtypes = [c_void_p]
        x11.XKeysymToKeycode.argtypes = [c_void_p, c_ulong]
        x11.XStringToKeysym.restype = c_ulong
        x11.XQueryPointer.argtypes = [c_void_p, c_ulong] + [POINTER(c_ulong)] * 2 + \
            [POINTER(c_int)] * 4 + [POINTER(c_uint)]
        x11.XSetInputFocus.argtypes = [c_void_p, c_ulong, c_int, c_ulong]
        x11.XFlush.argtypes = [c_void_p]
        xtst.XTestFakeKeyEvent.argtypes = [c_void_p, c_uint, c_int, c_ulong]
        xtst.XTestFakeMotionEvent.argtypes = [c_void_p, c_int, c_int, c_int, c_ulong]
        self.x11, self.xtst = x11, xtst
        self.dpy = x11.XOpenDisplay(None)
        self.root = x11.XDefaultRootWindow(self.dpy)

    def focus_at(self, x, y):
        """Moves the pointer to x, y and focuses the top window there."""
        self.xtst.XTestFakeMotionEvent(self.dpy, -1, x, y, 0)
        self.x11.XFlush(self.dpy)
        time.sleep(0.2)
        r, c, i, m = c_ulong(), c_ulong(), c_int(), c_uint()
        self.x11.XQueryPointer(self.dpy, self.root, byref(r), byref(c), byref(i), byref(i),
                               byref(i), byref(i), byref(m))
        if c.value:
            self.x11.XSetInputFocus(self.dpy, c.value, 2, 0)  # RevertToParent, CurrentTime
        self.x11.XFlush(self.dpy)
        time.sleep(0.3)

    def combo(self, *names):
        codes = [self.x11.XKeysymToKeycode(self.dpy, self.x11.XStringToKeysym(n.encode())) for n in names]
        for k in codes:
            self.xtst.XTestFakeKeyEvent(self.dpy, k, 1, 0)
        for k in reversed(codes):
            self.xtst.XTestFakeKeyEvent(self.dpy, k, 0, 0)
        self.x11.XFlush(self.dpy)
        time.sleep(0.5)


keyboard = None


def keys(*combo):
    """Keys typed into the window (its header bar has the pointer)."""
    global keyboard
    if keyboard is None:
        keyboard = Keyboard()
    frames = find_all(app(), lambda n: n.getRoleName() == "frame")
    x, y, w, h = frames[0].queryComponent().getExtents(pyatspi.DESKTOP_COORDS) if frames else (0, 0, 400, 300)
    keyboard.focus_at(x + w // 3, y + 12)
    keyboard.combo(*combo)


def ctrl(key):
    """Ctrl+KEY, typed into the window."""
    keys("Control_L", key)


def choose(name, wanted, scope):
    """Picks the item whose label starts with `wanted` from drop-down
    `name`, as with a keyboard: open it, Up to the top, Down to it,
    Return."""
    combo = widget("combo box", name, scope)
    if combo is None:
        return False
    combo.getChildAtIndex(0).queryAction().doAction(0)  # its button opens the list
    lists = wait_for(lambda: find_all(combo, lambda n: n.getRoleName() == "list"), "the list of " + name, 5)
    if not lists:
        return False
    items = [find_all(lists[0].getChildAtIndex(i), lambda n: n.getRoleName() == "label")
             for i in range(lists[0].childCount)]
    texts = [i[0].name if i else "" for i in items]
    note("%s offers: %s" % (name, "; ".join(texts)))
    index = next((i for i, t in enumerate(texts) if t.startswith(wanted)), None)
    if index is None:
        return False
    for _ in texts:
        keys("Up")
    for _ in range(index):
        keys("Down")
    keys("Return")
    time.sleep(0.5)
    return True


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def step_save(path):
    if not say(wait_for(app, "the application on the bus") is not None, "the window is on the accessibility bus"):
        return
    widget("push button", "Save")
    before = digest(path)
    mtime = subprocess.run(["stat", "-c", "%y", path], capture_output=True, text=True).stdout
    ctrl("s")
    ok = wait_for(lambda: "Saved" in status(), "the status to say Saved", 5)
    if not ok:
        note("Ctrl+S did not save (status: %r); pressing Save" % status())
        press("push button", "Save")
    say(wait_for(lambda: "Saved" in status(), "Saved", 10), "saved without edits: " + status())
    after = subprocess.run(["stat", "-c", "%y", path], capture_output=True, text=True).stdout
    note("digest %s -> %s, mtime %s -> %s" % (before[:12], digest(path)[:12], mtime.strip(), after.strip()))


def step_readonly(path):
    if not say(wait_for(app, "the application on the bus") is not None, "a file that does not parse opens a window"):
        return
    banner = wait_for(lambda: labels_with("Opened read-only"), "the read-only banner")
    say(bool(banner), "it says it is read-only")
    if banner:
        note(banner[0])
        say(re.search(r": 3:\d+: error: ", banner[0]) is not None, "with the line:column of the error")
    press("push button", "Save")
    say("read-only" in status(), "Save is refused: " + status())


def step_edit(path, shot):
    if not say(wait_for(app, "the application on the bus") is not None, "the window is on the accessibility bus"):
        return
    say(press("page tab", "Instances"), "open the Instances page")
    say(press("push button", "Add instance", "Instances"), "press Add instance")
    say(type_into("Name", "scratch"), "type the name scratch")
    say(press("push button", "Rename", "Instances"), "press Rename")
    say(wait_for(lambda: "Renamed" in status(), "the rename") is not None, "renamed: " + status())
    say(press("push button", "Bind downloads", "Instances"), "bind the directory downloads")
    say(press("push button", "Bind web", "Instances"), "bind the network web")
    say(wait_for(lambda: labels_with("missing key \"path\""), "the missing path error") is not None,
        "the checker asks for the mount path")
    say(type_into("Mount path of downloads", "downloads"), "type a relative mount path")
    err = wait_for(lambda: labels_with("is not absolute"), "the relative path error")
    say(bool(err), "a validation error appears next to the field")
    problems = labels_with("instances.scratch.bindings.downloads.path: error: mount path \"downloads\" is not absolute")
    say(bool(problems), "and in the Problems list, as spectrum check words it")
    for line in (err or []) + problems:
        note(line)
    if shot:
        subprocess.run(["import", "-window", "root", shot.replace(".png", "-error.png")], check=False)
    before = digest(path)
    press("push button", "Save")
    say("Not saved" in status() and digest(path) == before, "saving with the error is refused: " + status())
    say(press("toggle button|push button", "Read-write downloads", "Instances"), "make the binding read-write")
    say(type_into("Mount path of downloads", "/downloads"), "fix the mount path")
    say(wait_for(lambda: not labels_with("is not absolute"), "the error to go") is not None or not labels_with("is not absolute"),
        "the error goes")
    # Undo (Ctrl+Z) takes back the last edit; saving then would be
    # refused again, so redo it by typing.
    ctrl("z")
    undone = wait_for(lambda: labels_with("is not absolute"), "the undone fix", 5)
    note("after Ctrl+Z: " + status())
    say(bool(undone), "Ctrl+Z undoes the last edit (the error is back)")
    type_into("Mount path of downloads", "/downloads")
    ctrl("s")
    if not wait_for(lambda: "Saved" in status(), "Saved after Ctrl+S", 5):
        note("Ctrl+S did not reach the window (status: %r); pressing Save" % status())
        press("push button", "Save")
    say(wait_for(lambda: "Saved" in status(), "Saved", 10) is not None, "saved: " + status())
    if shot:
        subprocess.run(["import", "-window", "root", shot], check=False)
        say(subprocess.run(["test", "-s", shot]).returncode == 0, "screenshot " + shot)


def step_daemon(path, shot):
    """The running view while spectrumd answers: Apply and Roll back
    through its switch, Disposable; then after it is gone."""
    if not say(wait_for(app, "the application on the bus") is not None, "the window is on the accessibility bus"):
        return
    say(press("page tab", "Instances"), "open the Instances page")
    states = ("stopped", "starting", "running", "failed", "stopping")
    state = wait_for(lambda: [n for n in labels_on("Instances") if n.startswith(states)], "an instance's state")
    say(bool(state), "the instance shows its state: %s" % (state[0] if state else "-"))
    footer = wait_for(lambda: labels_with("spectrumd: "), "the daemon line")
    say(bool(footer), "the window says spectrumd answers: %s" % (footer[0] if footer else "-"))
    start = widget("push button", "Start", "Instances")
    say(start is not None and start.getState().contains(pyatspi.STATE_SENSITIVE), "Start can be pressed")
    # Apply: the daemon's own dry run shown, then the switch when confirmed.
    with open(path) as f:
        name = next(iter(json.load(f)["instances"]))  # the one selected first
    type_into("Memory", "256M")
    ctrl("s")
    say(wait_for(lambda: "Saved" in status(), "Saved", 10) is not None, "change %s's memory and save" % name)
    press("push button", "Apply")
    shown = wait_for(lambda: labels_with("%s: updated (" % name), "Apply's dry run", 20)
    say(any("spectrumd will do this" in line for line in shown or []),
        "Apply shows the daemon's dry-run lines before doing anything")
    for line in shown or []:
        note(line)
    if shot:
        subprocess.run(["import", "-window", "root", shot], check=False)
        say(subprocess.run(["test", "-s", shot]).returncode == 0, "screenshot " + shot)
    say(generations().count("\n") == 1, "the dry run made no generation: " + generations().strip())
    press("push button", "Switch")
    done = wait_for(lambda: "Applied: " in status(), "the switch's answer", 30)
    say(bool(done) and "generation 2 is current" in status(), "confirmed, the switch is done: " + status())
    say(re.search(r"^ +2 .*\(current\)$", generations(), re.M) is not None,
        "spectrum generations shows generation 2, current")
    # Disposable: a toggle (saved as "disposable": true; run.sh asks
    # spectrum plan --json).
    say(press("toggle button|push button", "Disposable", "Instances"), "press Disposable on %s" % name)
    # Display: granted, with a label colour; a wrong one is refused at
    # its field in the checker's words.
    say(press("toggle button|push button", "Display", "Instances"), "press Display (windows on the desktop)")
    say(type_into("Label colour", "c00000"), "type the label colour c00000")
    say(wait_for(lambda: labels_with("is not a colour"), "the colour error", 10) is not None,
        "the checker refuses it next to the field")
    say(type_into("Label colour", "#c00000"), "type #c00000")
    say(wait_for(lambda: not labels_with("is not a colour"), "the colour error to go", 10) is not None,
        "the error goes")
    ctrl("s")
    say(wait_for(lambda: "Saved" in status(), "Saved", 10) is not None, "save it: " + status())
    # Generations: listed, and a rollback to the previous one after its
    # dry run.
    say(press("push button", "Generations"), "open Generations")
    rows = wait_for(lambda: labels_with("(current)"), "the generations list", 10)
    say(bool(rows) and rows[0].startswith("2 "), "the list shows generation 2 current: %s" % (rows[0] if rows else "-"))
    if shot:
        subprocess.run(["import", "-window", "root", shot.replace("-apply.png", "-generations.png")], check=False)
    press("push button", "Roll back")
    back = wait_for(lambda: labels_with("Roll back to the previous generation"), "the rollback's dry run", 20)
    say(any("%s: updated (" % name in line for line in back or []),
        "Roll back shows the daemon's dry run")
    press("push button", "Switch back")
    done = wait_for(lambda: "Rolled back: " in status(), "the rollback's answer", 30)
    say(bool(done) and "generation 1 is current" in status(), "rolled back: " + status())
    say(re.search(r"^ +1 .*\(current\)$", generations(), re.M) is not None,
        "spectrum generations shows generation 1 current again")
    # A file that does not check (written behind the window's back): the
    # daemon's refusal is shown, nothing changes.
    before = generations()
    with open(path) as f:
        saved = f.read()
    with open(path, "a") as f:
        f.write("{")
    press("push button", "Apply")
    refused = wait_for(lambda: labels_with("refused by spectrumd; nothing changed"), "the daemon's refusal", 20)
    say(any("error: invalid JSON" in line for line in refused or []) and "Apply refused: " in status(),
        "a file the daemon refuses: its error is shown: " + status())
    press("push button", "Close")
    say(generations() == before, "and no generation changed")
    with open(path, "w") as f:
        f.write(saved)
    os.kill(int(os.environ["SS_DAEMON_PID"]), signal.SIGTERM)
    gone = wait_for(lambda: [n for n in labels_on("Instances") if n.startswith("spectrumd is not reachable")],
                    "the running view to say the daemon is gone", 10)
    say(bool(gone), "when spectrumd goes, one line says so: %s" % (gone[0] if gone else "-"))
    start = widget("push button", "Start", "Instances")
    say(start is not None and not start.getState().contains(pyatspi.STATE_SENSITIVE),
        "and the buttons are greyed")
    press("push button", "Apply")
    say(wait_for(lambda: "spectrumd is not reachable" in status(), "Apply without the daemon", 10) is not None
        and "nothing applied" in status() and "\n" not in status(),
        "Apply without spectrumd says so in one line: " + status())


def generations():
    """spectrum generations, as the test's user would ask."""
    return subprocess.run([os.environ["SS_SPECTRUM"], "generations"], capture_output=True, text=True).stdout


def step_conflict(path):
    """Someone else writes the file while it is open."""
    if not say(wait_for(app, "the application on the bus") is not None, "the window is on the accessibility bus"):
        return
    widget("push button", "Save")
    with open(path, "a") as f:
        f.write("\n")
    banner = wait_for(lambda: labels_with("changed on disk"), "the changed-on-disk banner", 10)
    say(bool(banner), "a change on disk is noticed: %s" % (banner[0] if banner else "-"))
    theirs = digest(path)
    press("push button", "Save")
    say("changed on disk" in status() and digest(path) == theirs, "Save does not overwrite it: " + status())
    say(press("push button", "Keep mine"), "press Keep mine")
    press("push button", "Save")
    say(wait_for(lambda: "Saved" in status(), "Saved", 10) is not None and digest(path) != theirs,
        "then Save writes ours: " + status())


def step_device(path):
    """A USB resource picked from the devices present (a fake sysfs),
    bound into an instance."""
    if not say(wait_for(app, "the application on the bus") is not None, "the window is on the accessibility bus"):
        return
    say(press("page tab", "Resources"), "open the Resources page")
    say(press("push button", "Add resource", "Resources"), "press Add resource")
    say(type_into("Name", "key", "Resources") and press("push button", "Rename", "Resources"), "name it key")
    say(choose("Type", "usb", "Resources"), "choose the type usb")
    say(wait_for(lambda: widget("combo box", "Pick a device present", "Resources"), "the device list") is not None,
        "a usb resource offers the devices present")
    say(choose("Pick a device present", "1209:0002 Spectrum Test Key", "Resources"), "pick the test key")
    say(press("page tab", "Instances"), "open the Instances page")
    say(press("push button", "Bind key", "Instances"), "bind key into the instance")
    ctrl("s")
    say(wait_for(lambda: "Saved" in status(), "Saved", 10) is not None, "saved: " + status())


def step_delete(path):
    """Deleting a resource that instances bind: refused naming them, then
    done with their bindings when the user says so."""
    if not say(wait_for(app, "the application on the bus") is not None, "the window is on the accessibility bus"):
        return
    say(press("page tab", "Resources"), "open the Resources page")
    lst = widget("list", "Resources", "Resources")
    rows = [find_all(lst.getChildAtIndex(i), lambda n: n.getRoleName() == "label")[0].name
            for i in range(lst.childCount)]
    say(lst.querySelection().selectChild(rows.index("downloads")), "select downloads")
    say(wait_for(lambda: widget("text", "Host directory", "Resources"), "the directory form") is not None,
        "its form shows")
    say(press("push button", "Delete resource", "Resources"), "press Delete resource")
    say("in use by instance browser" in status(), "refused, naming the instance: " + status())
    say(press("push button", "Delete with bindings"), "confirm: delete with its bindings")
    ctrl("s")
    say(wait_for(lambda: "Saved" in status(), "Saved", 10) is not None, "saved: " + status())


def labels_on(title):
    root = page(title)
    return [n.name for n in find_all(root, lambda n: n.getRoleName() == "label")] if root else []


def main():
    step, path = sys.argv[1], sys.argv[2]
    shot = sys.argv[3] if len(sys.argv) > 3 else None
    {"edit": lambda: step_edit(path, shot), "save": lambda: step_save(path),
     "readonly": lambda: step_readonly(path), "daemon": lambda: step_daemon(path, shot),
     "device": lambda: step_device(path), "delete": lambda: step_delete(path),
     "conflict": lambda: step_conflict(path)}[step]()


if __name__ == "__main__":
    main()
