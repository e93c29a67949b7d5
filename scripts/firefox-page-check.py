#!/usr/bin/env python3
# `python3 scripts/firefox-page-check.py http://127.0.0.1:7860/ /abs/path/photo.png` with `fmboost serve` running and
# Debian's firefox-esr installed: the page's upload in Firefox, by hand (make test drives Chromium).
# Drives Firefox through Marionette (its built-in remote protocol: "length:json" frames on TCP 2828):
# open the page, put a photo into its file input, wait for the result image, print its size.
import json, socket, subprocess, sys, time, tempfile, os
url, photo = sys.argv[1], sys.argv[2]
profile = tempfile.mkdtemp()
ff = subprocess.Popen(["firefox-esr", "--headless", "--marionette", "--profile", profile, "--window-size", "1280,1000"],
                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
for _ in range(100):
    try:
        s = socket.create_connection(("127.0.0.1", 2828)); break
    except OSError: time.sleep(0.2)
buf = b""
def recv():
    global buf
    while b":" not in buf: buf += s.recv(65536)
    n, rest = buf.split(b":", 1); n = int(n)
    while len(rest) < n: rest += s.recv(65536)
    buf = rest[n:]; return json.loads(rest[:n])
recv()  # greeting
mid = 0
def cmd(name, params={}):
    global mid; mid += 1
    data = json.dumps([0, mid, name, params]).encode(); s.sendall(str(len(data)).encode() + b":" + data)
    while True:
        r = recv()
        if r[1] == mid:
            if r[2]: raise SystemExit(f"{name}: {r[2]}")
            return r[3]
cmd("WebDriver:NewSession", {"capabilities": {"alwaysMatch": {"acceptInsecureCerts": True}}})
cmd("WebDriver:Navigate", {"url": url})
def js(code): return cmd("WebDriver:ExecuteScript", {"script": code, "args": []})["value"]
for _ in range(100):
    if js("return document.querySelector('#upscaler option') ? 'ready' : ''"): break
    time.sleep(0.2)
el = cmd("WebDriver:FindElement", {"using": "css selector", "value": "#files"})["value"]
eid = list(el.values())[0]
cmd("WebDriver:ElementSendKeys", {"id": eid, "text": photo})
size = ""
for _ in range(600):
    size = js("const i = document.querySelector('img.result'); return i && i.complete && i.naturalWidth ? i.naturalWidth + 'x' + i.naturalHeight : ''")
    if size: break
    time.sleep(0.2)
shot = cmd("WebDriver:TakeScreenshot", {"full": False})["value"]
open(os.path.join(os.path.dirname(photo), "firefox.png"), "wb").write(__import__("base64").b64decode(shot))
print("result", size)
ff.kill()
