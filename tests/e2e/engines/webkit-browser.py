#!/usr/bin/python3
# A WebKitGTK browser for WebKitWebDriver that keeps its profile on disk. MiniBrowser under
# `--automation` runs an ephemeral session: IndexedDB refuses Blobs there, and nothing is left
# after a restart. This one stores everything (IndexedDB, Cache API, Service Worker registrations)
# under BERTH_WEBKIT_PROFILE, so a test can close the browser and open the same profile again.
# WebKitWebDriver starts it with --automation and reaches it through the remote inspector it sets
# up in the environment; each window the driver asks for is a web view of the one context.
# Debian: python3-gi, gir1.2-webkit2-4.1 (and webkit2gtk-driver, xvfb).
import ctypes
import os
import signal
import sys

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("WebKit2", "4.1")
from gi.repository import Gtk, WebKit2  # noqa: E402

# WebKitWebDriver starts this in a process group of its own: end with the driver (PR_SET_PDEATHSIG),
# and when the session's last window closes, so no browser outlives its test.
ctypes.CDLL(None).prctl(1, signal.SIGTERM)
signal.signal(signal.SIGTERM, lambda *_: Gtk.main_quit())

profile = os.environ.get("BERTH_WEBKIT_PROFILE")
if not profile or "--automation" not in sys.argv:
    sys.exit("usage: BERTH_WEBKIT_PROFILE=DIR webkit-browser.py --automation (started by WebKitWebDriver)")

data = WebKit2.WebsiteDataManager(
    base_data_directory=os.path.join(profile, "data"),
    base_cache_directory=os.path.join(profile, "cache"),
)
context = WebKit2.WebContext(website_data_manager=data)
context.set_automation_allowed(True)
windows = []


def create_web_view(_session):
    view = WebKit2.WebView(web_context=context, is_controlled_by_automation=True)
    window = Gtk.Window()
    window.set_default_size(1100, 900)
    window.add(view)
    windows.append(window)

    def closed(_view):
        window.destroy()
        windows.remove(window)
        if not windows:
            Gtk.main_quit()

    view.connect("close", closed)
    window.show_all()
    return view


def automation_started(_context, session):
    info = WebKit2.ApplicationInfo()
    info.set_name("berth-webkit")
    info.set_version(WebKit2.get_major_version(), WebKit2.get_minor_version(), WebKit2.get_micro_version())
    session.set_application_info(info)
    session.connect("create-web-view", create_web_view)


context.connect("automation-started", automation_started)
Gtk.main()
