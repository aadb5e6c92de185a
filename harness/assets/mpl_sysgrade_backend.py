"""sysgrade's headless matplotlib backend (MPLBACKEND=module://mpl_sysgrade_backend).

It stands in for a window: figures render with Agg, ``show()`` runs an event loop that fires
the figures' timers (an animation's event source) at their intervals, and every frame that
would reach the screen (a full draw or a blit) is recorded as one JSON line in the file named
by SYSGRADE_PLOT_RECORD: the time and, for each line of each axes, how many points it holds and
its last point. Draws within one turn of the event loop make one frame.
"""

import json
import math
import os
import threading
import time
import weakref

import matplotlib
from matplotlib._pylab_helpers import Gcf
from matplotlib.backend_bases import FigureManagerBase, TimerBase
from matplotlib.backends.backend_agg import FigureCanvasAgg

_lock = threading.Lock()
_record = None
_frames = 0
_pending = None
_depth = 0
# Started timers. Weak, as in a real toolkit: an animation nobody keeps is collected.
_timers = weakref.WeakSet()
_stop = False


def _open_record():
    global _record
    if _record is None:
        path = os.environ.get("SYSGRADE_PLOT_RECORD")
        if path:
            _record = open(path, "a", buffering=1, encoding="utf-8")
    return _record


def _number(v):
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _snapshot(figure):
    lines = []
    for ax in figure.axes:
        for line in ax.get_lines():
            x, y = line.get_xdata(), line.get_ydata()
            n = len(y)
            lines.append({
                "n": n,
                "x": _number(x[-1]) if len(x) else None,
                "y": _number(y[-1]) if n else None,
            })
    return {"t": time.monotonic(), "lines": lines}


def _write(frame):
    global _frames
    out = _open_record()
    _frames += 1
    if out is not None:
        frame["frame"] = _frames
        out.write(json.dumps(frame) + "\n")


def _frame(canvas):
    """A frame reached the screen: record it now, or at the end of this loop turn."""
    global _pending
    frame = _snapshot(canvas.figure)
    with _lock:
        if _depth > 0 and threading.current_thread() is threading.main_thread():
            _pending = frame
        else:
            _write(frame)


def _flush():
    global _pending
    with _lock:
        if _pending is not None:
            _write(_pending)
            _pending = None


class TimerSysgrade(TimerBase):
    """A timer fired by this backend's event loop."""

    _due = None

    def _timer_start(self):
        self._due = time.monotonic() + max(self.interval, 1) / 1000.0
        _timers.add(self)

    def _timer_stop(self):
        self._due = None
        _timers.discard(self)

    def _timer_set_interval(self):
        if self._due is not None:
            self._due = time.monotonic() + max(self.interval, 1) / 1000.0

    def _fire(self, now):
        if self.single_shot:
            self._timer_stop()
        else:
            step = max(self.interval, 1) / 1000.0
            self._due = max(self._due + step, now)
        self._on_timer()


def _loop(until=None):
    """Fires due timers until `until` (monotonic seconds) or, without it, until every figure
    is closed or stop_event_loop is called."""
    global _depth, _stop
    _depth += 1
    _stop = False
    try:
        while not _stop:
            now = time.monotonic()
            if until is not None and now >= until:
                break
            if until is None and not Gcf.get_all_fig_managers():
                break
            due = [t for t in list(_timers) if t._due is not None and t._due <= now]
            for timer in sorted(due, key=lambda t: t._due):
                if timer._due is not None:
                    timer._fire(now)
            _flush()
            wake = [t._due for t in list(_timers) if t._due is not None]
            nxt = min(wake) if wake else now + 0.05
            if until is not None:
                nxt = min(nxt, until)
            time.sleep(max(0.0, min(nxt, now + 0.05) - time.monotonic()))
    finally:
        _depth -= 1
        _flush()


class FigureCanvasSysgrade(FigureCanvasAgg):
    _timer_cls = TimerSysgrade

    def draw(self):
        super().draw()
        _frame(self)

    def blit(self, bbox=None):
        _frame(self)

    def flush_events(self):
        pass

    def start_event_loop(self, timeout=0):
        _loop(time.monotonic() + timeout if timeout and timeout > 0 else None)

    def stop_event_loop(self):
        global _stop
        _stop = True


class FigureManagerSysgrade(FigureManagerBase):
    def show(self):
        pass


FigureCanvasSysgrade.manager_class = FigureManagerSysgrade
FigureCanvas = FigureCanvasSysgrade
FigureManager = FigureManagerSysgrade


def show(*args, block=None, **kwargs):
    managers = Gcf.get_all_fig_managers()
    if not managers:
        return
    for manager in managers:
        manager.canvas.draw_idle()
    if block is None:
        block = not matplotlib.is_interactive()
    if block:
        _loop()
