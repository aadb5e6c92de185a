"""sysgrade's driver for PyQt programs (loaded by the harness's sitecustomize.py).

It lets the harness use a PyQt5 or PyQt6 program's widgets as a person would, headless
(QT_QPA_PLATFORM=offscreen). At start-up, before any of the program's own code runs, it connects
to the unix socket named by SYSGRADE_QT_SOCKET; the harness believes only the first connection
whose peer (SO_PEERCRED) is the program's own process. When the program enters its event loop
(QApplication.exec), a QSocketNotifier on that connection wakes the GUI thread for each command,
so every widget is touched in the thread that owns it and no thread polls.

Commands arrive as JSON lines ``{"id": n, "cmd": ...}`` and each gets one reply
``{"id": n, "ok": true|false, ...}``:
- ``click`` ``name``: QAbstractButton.click() on the widget with that objectName.
- ``set`` ``name`` ``value``: spin box value, combo box index (or item text), line edit text.
- ``get`` ``name``: the widget's value, as for ``set``.
- ``image`` ``name`` (optional) ``want`` ``within_ms`` ``either_order`` (optional): waits until
  a QLabel (that one, or any) shows a pixmap whose RGBA8888 bytes are ``want`` (width, height,
  base64 bytes), or, with ``either_order``, ``want`` with red and blue swapped; replies with
  the image a label shows (the match, or the last one looked at), base64, so the harness
  compares the pixels itself.
- ``close``: closes every visible top-level window with close(), so closeEvent runs.
When the loop runs it says ``{"event": "loop"}``; once a top-level window is also visible (a
person can see it and click), ``{"event": "ready", "widgets": [...objectNames...]}``.
"""

import base64
import importlib.abc
import importlib.machinery
import json
import os
import socket
import sys
import time

_sock = None
_buffer = b""
_qt = {}
_notifier = None
_attached = False
_cache = {}
_keep = []


def _connect():
    global _sock
    path = os.environ.pop("SYSGRADE_QT_SOCKET", None)
    if not path:
        return
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        s.connect(path)
    except OSError:
        return
    _sock = s
    _send({"event": "hello", "pid": os.getpid(), "python": sys.version.split()[0]})


def _send(record):
    if _sock is None:
        return
    try:
        _sock.setblocking(True)
        _sock.sendall((json.dumps(record) + "\n").encode())
    except OSError:
        pass


class _Finder(importlib.abc.MetaPathFinder):
    """Patches QApplication.exec right after PyQt5/PyQt6.QtWidgets is imported."""

    def find_spec(self, fullname, path, target=None):
        if fullname not in ("PyQt5.QtWidgets", "PyQt6.QtWidgets"):
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return spec
        spec.loader = _Loader(spec.loader, fullname.split(".")[0])
        return spec


class _Loader(importlib.abc.Loader):
    def __init__(self, inner, binding):
        self.inner = inner
        self.binding = binding

    def create_module(self, spec):
        return self.inner.create_module(spec)

    def exec_module(self, module):
        self.inner.exec_module(module)
        try:
            _patch(module, self.binding)
        except Exception as e:  # the program must run even if the driver cannot
            _send({"event": "driver_error", "error": repr(e)})


def _patch(widgets, binding):
    core = __import__(binding + ".QtCore", fromlist=["QtCore"])
    gui = __import__(binding + ".QtGui", fromlist=["QtGui"])
    _qt.update(binding=binding, core=core, gui=gui, widgets=widgets)
    app_cls = widgets.QApplication
    for name in ("exec", "exec_"):
        original = getattr(app_cls, name, None)
        if original is None:
            continue

        def run(*args, _original=original, **kwargs):
            _attach()
            if args and isinstance(args[0], app_cls):
                args = args[1:]
            return _original(*args, **kwargs)

        setattr(app_cls, name, staticmethod(run))


def _enum(owner, scope, name):
    scoped = getattr(owner, scope, None)
    value = getattr(scoped, name, None) if scoped is not None else None
    return value if value is not None else getattr(owner, name)


def _attach():
    global _notifier, _attached
    if _attached or _sock is None:
        return
    _attached = True
    core = _qt["core"]
    _sock.setblocking(False)
    kind = _enum(core.QSocketNotifier, "Type", "Read")
    _notifier = core.QSocketNotifier(_sock.fileno(), kind)
    _notifier.activated.connect(_readable)
    core.QTimer.singleShot(0, _ready)


def _ready(first=True):
    if first:
        _send({"event": "loop"})
    app = _qt["widgets"].QApplication.instance()
    shown = app is not None and any(t.isVisible() for t in app.topLevelWidgets())
    if not shown:
        # The window is shown later (a timer of the program's own): looked for again at the
        # loop's next turns; the harness's deadline bounds the wait.
        _qt["core"].QTimer.singleShot(10, lambda: _ready(False))
        return
    _send({"event": "ready", "binding": _qt["binding"], "widgets": _names()})


def _names():
    app = _qt["widgets"].QApplication.instance()
    names = {w.objectName() for w in app.allWidgets()} if app else set()
    return sorted(n for n in names if n and not n.startswith("qt_"))


def _readable(*_):
    global _buffer
    try:
        chunk = _sock.recv(1 << 16)
    except (BlockingIOError, InterruptedError):
        return
    except OSError:
        chunk = b""
    if not chunk:
        _notifier.setEnabled(False)
        return
    _buffer += chunk
    while b"\n" in _buffer:
        line, _buffer = _buffer.split(b"\n", 1)
        try:
            request = json.loads(line)
        except ValueError:
            continue
        try:
            _serve(request)
        except Exception as e:
            _reply(request, False, error=f"{type(e).__name__}: {e}")


def _reply(request, ok, **fields):
    _send(dict(id=request.get("id"), ok=ok, **fields))


def _find(name):
    app = _qt["widgets"].QApplication.instance()
    found = [w for w in app.allWidgets() if w.objectName() == name] if app else []
    found.sort(key=lambda w: not w.isVisible())
    if not found:
        raise LookupError(f"no widget has objectName {name!r}; there are: {', '.join(_names())}")
    return found[0]


def _serve(request):
    cmd = request.get("cmd")
    w = _qt["widgets"]
    if cmd == "click":
        widget = _find(request["name"])
        if not isinstance(widget, w.QAbstractButton):
            raise TypeError(f"{request['name']!r} is a {type(widget).__name__}, not a button")
        if not widget.isEnabled():
            raise ValueError(f"{request['name']!r} is disabled")
        widget.click()
        _reply(request, True, text=widget.text())
    elif cmd == "set":
        _reply(request, True, value=_set(_find(request["name"]), request["value"]))
    elif cmd == "get":
        _reply(request, True, value=_get(_find(request["name"])))
    elif cmd == "image":
        _await_image(request)
    elif cmd == "close":
        app = w.QApplication.instance()
        windows = [t for t in app.topLevelWidgets() if t.isVisible()] if app else []
        closed = [t.close() for t in windows]
        _reply(request, True, windows=len(windows), closed=sum(1 for c in closed if c))
    else:
        _reply(request, False, error=f"unknown command {cmd!r}")


def _set(widget, value):
    w = _qt["widgets"]
    if isinstance(widget, (w.QSpinBox, w.QDoubleSpinBox)):
        widget.setValue(type(widget.value())(value))
    elif isinstance(widget, w.QComboBox):
        index = widget.findText(str(value))
        widget.setCurrentIndex(index if index >= 0 else int(value))
    elif isinstance(widget, w.QLineEdit):
        widget.setText(str(value))
        widget.textEdited.emit(str(value))
        widget.editingFinished.emit()
    elif isinstance(widget, w.QAbstractButton) and widget.isCheckable():
        widget.setChecked(bool(value))
    else:
        raise TypeError(f"cannot set a {type(widget).__name__}")
    return _get(widget)


def _get(widget):
    w = _qt["widgets"]
    if isinstance(widget, (w.QSpinBox, w.QDoubleSpinBox)):
        return widget.value()
    if isinstance(widget, w.QComboBox):
        return widget.currentIndex()
    if isinstance(widget, (w.QLineEdit, w.QAbstractButton, w.QLabel)):
        return widget.text()
    raise TypeError(f"cannot read a {type(widget).__name__}")


def _label_image(label):
    """(width, height, RGBA8888 bytes) of the pixmap `label` shows, or None."""
    pixmap = label.pixmap()
    if pixmap is None or pixmap.isNull():
        return None
    key = pixmap.cacheKey()
    hit = _cache.get(id(label))
    if hit is not None and hit[0] == key:
        return hit[1]
    fmt = _enum(_qt["gui"].QImage, "Format", "Format_RGBA8888")
    image = pixmap.toImage().convertToFormat(fmt)
    ptr = image.constBits()
    size = image.sizeInBytes() if hasattr(image, "sizeInBytes") else image.byteCount()
    ptr.setsize(size)
    data = bytes(ptr)
    stride = image.bytesPerLine()
    if stride != image.width() * 4:
        data = b"".join(data[r * stride:r * stride + image.width() * 4] for r in range(image.height()))
    seen = (image.width(), image.height(), data)
    _cache[id(label)] = (key, seen)
    return seen


def _labels(name):
    if name:
        return [_find(name)]
    app = _qt["widgets"].QApplication.instance()
    found = [x for x in app.allWidgets() if isinstance(x, _qt["widgets"].QLabel)] if app else []
    return [x for x in found if x.isVisible()] or found


def _await_image(request):
    deadline = time.monotonic() + request.get("within_ms", 1000) / 1000.0
    want = request.get("want") or {}
    want = (want.get("width"), want.get("height"), base64.b64decode(want.get("rgba", "")))
    wanted = [want]
    if request.get("either_order"):
        swapped = bytearray(want[2])
        swapped[0::4], swapped[2::4] = want[2][2::4], want[2][0::4]
        wanted.append((want[0], want[1], bytes(swapped)))
    timer = _qt["core"].QTimer()
    last = {}

    def look():
        for label in _labels(request.get("name")):
            seen = _label_image(label)
            if seen is not None:
                last["seen"] = seen
                if (seen[0], seen[1], seen[2]) in wanted:
                    return finish(True)
        if time.monotonic() >= deadline:
            finish(False)

    def finish(matched):
        timer.stop()
        if timer in _keep:
            _keep.remove(timer)
        seen = last.get("seen")
        fields = {"matched": matched, "image": None}
        if seen is not None:
            fields["image"] = {"width": seen[0], "height": seen[1],
                               "rgba": base64.b64encode(seen[2]).decode()}
        _reply(request, True, **fields)

    _keep.append(timer)
    timer.timeout.connect(look)
    timer.start(10)
    look()


_connect()
if _sock is not None:
    sys.meta_path.insert(0, _Finder())
