"""Files in messages in the browser (docs/API.md, "Attachments"), two users live in one room: the
attach button (named, by the composer; the file input hidden); a real PNG chosen through the file
input shows as a chip (its name, size, a labelled progress bar, a remove button) and uploads at
once (an upload URL from the API, then a PUT straight to the file store with the signed headers
but content-length and host, which the browser sets); Enter with an empty composer sends it, waiting for an upload still
under way; both pages show it inline, loaded, with the file name as alt text, at its own size, in
a link opening it in a new tab, live and after a reload; a text file sent with words shows as a
link with its size, and downloading it gives its bytes; a file over 25 MiB and an .html file are
refused in the composer's alert before any request; files dropped on the conversation (a hint
while dragged), removed with their x; a send whose bytes never reached the store shows its
failure; nothing scrolls sideways at 360 px; axe-core on a conversation with files, chips and the
alert, light and dark. Called by client.py's main."""

import os
import tempfile
from urllib.parse import parse_qs, urlsplit

import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from browser import (API, active_id, audit, browsers, by_id, dark, fill, message_shown, no_horizontal_scroll,
                     room_button, shot, two_in_a_room, user_id, wait)
from lifecycle import history, item

PNG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "blue-40x30.png")

# Every request of the page for files (POST /chat/attachments/, and XMLHttpRequest's, the PUTs)
# is kept in window.fileRequests, the headers set on each PUT in window.putHeaders, the bodies
# of sends in window.sendBodies; window.slowPuts delays each PUT's bytes by that many ms.
RECORD_FILES = """
window.fileRequests = []; window.putHeaders = []; window.sendBodies = []; window.slowPuts = 0;
const realFetch = window.fetch;
window.fetch = (url, init = {}) => {
  if (/\\/chat\\/attachments\\//.test(String(url))) window.fileRequests.push([init.method, String(url)]);
  if (/\\/chat\\/(group|user)\\//.test(String(url)) && init.method === "POST") window.sendBodies.push(JSON.parse(init.body));
  return realFetch(url, init);
};
const open = XMLHttpRequest.prototype.open, header = XMLHttpRequest.prototype.setRequestHeader;
const send = XMLHttpRequest.prototype.send;
XMLHttpRequest.prototype.open = function (method, url, ...rest) {
  window.fileRequests.push([method, String(url)]);
  this.sentHeaders = {};
  window.putHeaders.push(this.sentHeaders);
  return open.call(this, method, url, ...rest);
};
XMLHttpRequest.prototype.setRequestHeader = function (name, value) {
  this.sentHeaders[name.toLowerCase()] = value;
  return header.call(this, name, value);
};
XMLHttpRequest.prototype.send = function (body) {
  if (window.lostPuts) {
    // The store is said to have taken the bytes, which never left.
    Object.defineProperty(this, "status", { value: 200 });
    return setTimeout(() => this.dispatchEvent(new Event("load")));
  }
  if (!window.slowPuts) return send.call(this, body);
  setTimeout(() => send.call(this, body), window.slowPuts);
};
"""

# Drags a file (arguments[0]: name, arguments[1]: text) over the conversation; drops it when
# arguments[2].
DRAG = """
const [name, text, drop] = arguments;
const zone = document.getElementById("scroller");
const data = new DataTransfer();
data.items.add(new File([text], name, { type: "text/plain" }));
const fire = (type) => zone.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: data }));
fire("dragenter");
fire("dragover");
if (drop) fire("drop");
"""

IMAGES = """
return [...document.querySelectorAll("#messages li.msg:not(.pending) .file-image img")]
  .filter((i) => i.alt === arguments[0])
  .map((i) => ({complete: i.complete, natural: [i.naturalWidth, i.naturalHeight], shown: [i.clientWidth, i.clientHeight],
                loading: i.getAttribute("loading"), placeholder: i.classList.contains("loading"),
                src: i.currentSrc || i.src, href: i.closest("a").href,
                target: i.closest("a").target}));
"""


def human_size(size):
    """As the client says it: 512 bytes, 1.5 KB, 12 KB, 3.4 MB."""
    if size < 1024:
        return f"{size} byte{'' if size == 1 else 's'}"
    value, unit = (size / 1024, "KB") if size < 1024 * 1024 else (size / 1024 / 1024, "MB")
    shown = round(value, 1) if value < 10 else round(value)
    return f"{shown:g} {unit}"


def chips(driver):
    """[{name, size, state, progress label, progress value, max}] of the files above the composer."""
    return driver.execute_script("""
        return [...document.querySelectorAll('#uploads > li')].map((li) => {
            const bar = li.querySelector('progress');
            return {name: li.querySelector('.name').textContent, size: li.querySelector('.size').textContent,
                    state: li.dataset.state, label: bar.getAttribute('aria-label'), value: bar.value, max: bar.max,
                    why: li.querySelector('.why').textContent};
        });""")


def image_loaded(driver, name, seconds=10):
    """The stored message's image `name`: shown and loaded (what the browser says of it), its
    load handled (the placeholder's box gone: `complete` can be true just before)."""
    def loaded(d):
        found = d.execute_script(IMAGES, name)
        done = found and found[0]["complete"] and found[0]["natural"][0] > 0 and not found[0]["placeholder"]
        return found[0] if done else None
    try:
        return wait(driver, seconds).until(loaded)
    except Exception:
        raise AssertionError(f"the image {name!r} is not shown loaded: {driver.execute_script(IMAGES, name)}")


def refused(driver, path, *fragments):
    """A file chosen and refused at once: the composer's alert says why, no chip, no request."""
    before = len(driver.execute_script("return window.fileRequests"))
    by_id(driver, "attach-input").send_keys(path)
    wait(driver).until(lambda d: by_id(d, "attach-error").is_displayed())
    said = by_id(driver, "attach-error").text
    assert all(f in said for f in fragments), f"the alert says {said!r}, not {fragments}"
    assert by_id(driver, "attach-error").get_attribute("role") == "alert"
    assert not [c for c in chips(driver) if c["name"] == os.path.basename(path)], "no chip for a refused file"
    assert len(driver.execute_script("return window.fileRequests")) == before, "and no request"
    return said


def attachments():
    amy, ben, a, b, room, room_id = two_in_a_room("amy", "ben", "kites")
    amy_id = user_id(a)
    amy.execute_script(RECORD_FILES)
    button = by_id(amy, "attach-button")
    assert button.is_displayed() and button.get_attribute("aria-label") == "Attach files", "the attach button"
    assert not by_id(amy, "attach-input").is_displayed(), "the file input is hidden"
    assert by_id(amy, "attach-input").get_attribute("multiple") is not None, "several files at once"
    png = open(PNG, "rb").read()

    # A real PNG through the file input, its PUT held back a little: the chip shows it uploading;
    # Enter in the empty composer sends it once uploaded, with no text.
    amy.execute_script("window.slowPuts = 1500")
    by_id(amy, "attach-input").send_keys(PNG)
    wait(amy).until(lambda d: chips(d))
    chip = chips(amy)[0]
    assert chip["name"] == "blue-40x30.png" and chip["size"] == f"{len(png)} bytes", chip
    assert chip["state"] == "uploading" and chip["label"] == "Uploading blue-40x30.png", chip
    remove = by_id(amy, "uploads").find_element(By.CSS_SELECTOR, "button")
    assert remove.get_attribute("aria-label") == "Remove blue-40x30.png", "a remove button, named"
    by_id(amy, "send-text").send_keys(Keys.ENTER)
    assert chips(amy) and chips(amy)[0]["state"] == "uploading", "the send waits for the upload"
    shown = image_loaded(amy, "blue-40x30.png")
    amy.execute_script("window.slowPuts = 0")
    assert not by_id(amy, "uploads").is_displayed() and not chips(amy), "the file left the composer"
    requests_made = amy.execute_script("return window.fileRequests")
    assert [m for m, _ in requests_made] == ["POST", "PUT"], requests_made
    headers = amy.execute_script("return window.putHeaders")[0]
    assert headers.get("content-type") == "image/png" and "x-amz-tagging" in headers, headers
    signed = parse_qs(urlsplit(requests_made[1][1]).query)["X-Amz-SignedHeaders"][0].split(";")
    assert set(headers) <= set(signed) - {"content-length", "host"}, f"signed {signed}, sent {headers}"
    body = amy.execute_script("return window.sendBodies")[-1]
    assert body["text"] == "" and len(body["attachments"]) == 1, body

    # Inline, loaded, at its own 40 x 30 (nothing stretched), lazily; a link to the whole image
    # in a new tab; its bytes are the file's. Ben sees it live, and after a reload.
    assert shown["natural"] == [40, 30] and shown["shown"] == [40, 30], shown
    assert shown["loading"] == "lazy" and shown["target"] == "_blank" and shown["href"] == shown["src"], shown
    assert urlsplit(shown["src"]).netloc != urlsplit(API).netloc, "straight from the file store"
    assert requests.get(shown["src"], timeout=10).content == png, "the image's bytes are the file's"
    assert image_loaded(ben, "blue-40x30.png", seconds=5)["shown"] == [40, 30]
    ben.refresh()
    wait(ben).until(lambda d: by_id(d, "chat").is_displayed())
    room_button(ben, room).click()
    image_loaded(ben, "blue-40x30.png")

    with tempfile.TemporaryDirectory() as folder:
        # A text file with words: a link with its name and size; downloading it gives its bytes.
        notes = os.path.join(folder, "trip notes.txt")
        words = "".join(f"line {i}: bring the red kite\n" for i in range(500)).encode()
        with open(notes, "wb") as f:
            f.write(words)
        by_id(amy, "attach-input").send_keys(notes)
        wait(amy).until(lambda d: chips(d) and chips(d)[0]["state"] == "done")
        chip = chips(amy)[0]
        assert chip["label"] == "trip notes.txt uploaded" and chip["value"] == chip["max"] == len(words), chip
        assert chip["size"] == human_size(len(words)) and human_size(len(words)).endswith(" KB"), chip
        fill(amy, "send-text", "the notes for Saturday", enter=True)
        message_shown(amy, "the notes for Saturday")
        message_shown(ben, "the notes for Saturday", seconds=5)
        link = item(ben, "the notes for Saturday").find_element(By.CSS_SELECTOR, "a.file-link")
        assert link.find_element(By.CSS_SELECTOR, ".name").text == "trip notes.txt"
        assert link.find_element(By.CSS_SELECTOR, ".size").text == human_size(len(words))
        assert link.get_attribute("download") == "trip notes.txt"
        got = requests.get(link.get_attribute("href"), timeout=10)
        assert got.status_code == 200 and got.content == words, f"the download: {got.status_code}, {len(got.content)} bytes"
        assert got.headers.get("content-disposition", "").startswith("attachment"), got.headers

        # Refused before any request: over 25 MiB (a sparse file), an HTML page; the alert says why.
        big = os.path.join(folder, "big.txt")
        with open(big, "wb") as f:
            f.truncate(26 * 1024 * 1024)
        refused(amy, big, "big.txt", "26 MB", "at most 25 MB")
        page = os.path.join(folder, "page.html")
        with open(page, "w") as f:
            f.write("<p>hello</p>")
        said = refused(amy, page, "page.html", "cannot be sent")
        assert "big.txt" not in said, "each choice explains itself"

        # With a file waiting and the alert shown: axe-core, light and dark; a picture.
        by_id(amy, "attach-input").send_keys(PNG)
        wait(amy).until(lambda d: chips(d) and chips(d)[0]["state"] == "done")
        refused(amy, page, "page.html")
        audit(amy, "a conversation with an image, a file, a file to send and a refusal")
        shot(amy, "attachments.png")
        dark(amy, True)
        audit(amy, "the same in the dark theme")
        shot(amy, "attachments-dark.png")
        dark(amy, False)
        # On a phone, nothing scrolls sideways.
        amy.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 360, "height": 760, "deviceScaleFactor": 1, "mobile": False})
        no_horizontal_scroll(amy, "a conversation with files at 360 px")
        amy.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 1200, "height": 760, "deviceScaleFactor": 1, "mobile": False})
        by_id(amy, "attach-error-close").click()
        wait(amy).until(lambda d: not by_id(d, "attach-error").is_displayed())
        by_id(amy, "uploads").find_element(By.CSS_SELECTOR, "button").click()
        wait(amy).until(lambda d: not chips(d))
        assert active_id(amy) == "send-text", "focus goes back to the composer"

    # Files dragged over the conversation: a visible hint; dropped, a chip; its x removes it.
    amy.execute_script(DRAG, "dropped.txt", "dropped words", False)
    wait(amy).until(lambda d: by_id(d, "drop-hint").is_displayed())
    assert "Drop files" in by_id(amy, "drop-hint").text
    amy.execute_script(DRAG, "dropped.txt", "dropped words", True)
    wait(amy).until(lambda d: not by_id(d, "drop-hint").is_displayed())
    wait(amy).until(lambda d: [c["name"] for c in chips(d)] == ["dropped.txt"])
    assert not by_id(amy, "send-text").get_attribute("required"), "files may go without text"
    by_id(amy, "uploads").find_element(By.CSS_SELECTOR, "button").click()
    wait(amy).until(lambda d: not chips(d) and not by_id(d, "uploads").is_displayed())
    assert by_id(amy, "send-text").get_attribute("required"), "without files, text is needed again"

    # Bytes that never reached the store: the send's task fails, and the message says so.
    amy.execute_script("window.lostPuts = true")
    by_id(amy, "attach-input").send_keys(PNG)
    wait(amy).until(lambda d: chips(d) and chips(d)[0]["state"] == "done")
    fill(amy, "send-text", "this one is lost", enter=True)
    failed = "//ol[@id='messages']/li[contains(@class,'failed')][.//p[@class='text' and text()='this one is lost']]"
    state = wait(amy, 20).until(lambda d: d.find_elements(By.XPATH, failed))[0].find_element(By.CSS_SELECTOR, ".state")
    assert state.text.startswith("Not sent:"), state.text
    amy.execute_script("window.lostPuts = false")
    texts = [m["text"] for m in history(amy_id, room_id)]
    assert "this one is lost" not in texts, texts
    for name in ("amy", "ben"):
        browsers.pop(name).quit()
