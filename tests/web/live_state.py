"""Live room state in the browser (docs/API.md, "Live room state"), two users live in one room
with two more members: typing in the composer sends one typing frame over the WebSocket per 3 s
and room (none for an emptied composer); the other's page shows "ava is typing…" above its
composer within seconds, for about 6 s after the frame, or until her message arrives; with more
typers (sockets opened in the page as the other two members) "ava and cal are typing…" and "3
people are typing…", the reader never naming herself; a frame for a room not open shows only
once that room is; the member list's green dot ("online") for who holds a live connection, gone
once that browser is closed. axe-core audits the typing line and the dots, light and dark.
Called by client.py's main."""

import time

import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from browser import (API, audit, browsers, by_id, create_room, dark, message_shown, room_button, two_in_a_room, unique,
                     user_id, wait)
from owners import close_dialog, open_members

# Every typing frame the page sends is kept in window.typingFrames; window.realSend sends
# without keeping (the sockets opened as other members).
RECORD_TYPING = """
window.typingFrames = [];
window.realSend = WebSocket.prototype.send;
WebSocket.prototype.send = function (data) {
  try { const f = JSON.parse(data); if (f.action === "typing") window.typingFrames.push(f); } catch (e) {}
  return window.realSend.call(this, data);
};
"""

# Opens a WebSocket as each user id of arguments[0] (none mode names the user in the URL) and
# answers once all are open: window.others[id].
OPEN_AS = """
const ids = arguments[0], done = arguments[arguments.length - 1];
const url = document.body.dataset.websocketUrl;
window.others = window.others || {};
Promise.all(ids.map((id) => new Promise((resolve, reject) => {
  const ws = new WebSocket(`${url}${url.includes("?") ? "&" : "?"}user_id=${id}`);
  ws.onopen = () => resolve();
  ws.onerror = () => reject(new Error(`no socket for user ${id}`));
  window.others[id] = ws;
}))).then(() => done(null), (e) => done(String(e)));
"""


def line(driver):
    """What the open room's typing line says."""
    return by_id(driver, "typing").get_attribute("textContent")


def line_is(driver, text, seconds):
    """Waits until the typing line says `text`: when it did (time.monotonic)."""
    try:
        wait(driver, seconds).until(lambda d: line(d) == text)
    except Exception:
        raise AssertionError(f"the typing line says {line(driver)!r}, not {text!r} within {seconds} s")
    return time.monotonic()


def sent(driver):
    return driver.execute_script("return window.typingFrames")


def clear_composer(driver):
    composer = by_id(driver, "send-text")
    composer.send_keys(Keys.CONTROL, "a")
    composer.send_keys(Keys.BACKSPACE)
    assert composer.get_attribute("value") == ""


def dots(driver):
    """{username: whether the member list, just loaded, marks them online}."""
    open_members(driver)
    try:
        return driver.execute_script("""
            return Object.fromEntries([...document.querySelectorAll('#member-list > li')].map((li) =>
                [li.querySelector('.name').textContent, Boolean(li.querySelector('.online'))]));""")
    finally:
        close_dialog(driver, "members-dialog")


def dots_are(driver, wanted, seconds):
    """The member list marks online those `wanted` says (opened again until it does)."""
    deadline, seen = time.monotonic() + seconds, None
    while time.monotonic() < deadline:
        seen = dots(driver)
        if seen == wanted:
            return
        time.sleep(0.5)
    raise AssertionError(f"the member list marks online {seen}, not {wanted}")


def live_state():
    c, d = unique("cal"), unique("dee")
    for name in (c, d):
        made = requests.post(f"{API}/users/", json={"username": name, "password": "Passw0rd!", "profile": {}}, timeout=10)
        assert made.status_code == 201, made.text
    ava, ben, a, b, room, room_id = two_in_a_room("ava", "ben", "standup", others=(c, d))
    typing = by_id(ben, "typing")
    assert typing.is_displayed() and typing.get_attribute("aria-live") == "polite", "a polite live region"
    assert line(ben) == "" and line(ava) == "", "nobody types yet"
    ava.execute_script(RECORD_TYPING)
    composer = by_id(ava, "send-text")

    # Ava types: one frame however many keys within 3 s; Ben sees her name for about 6 s.
    composer.send_keys("Hel")
    started = time.monotonic()
    assert sent(ava) == [{"action": "typing", "room": room_id}], sent(ava)
    shown = line_is(ben, f"{a} is typing…", seconds=3)
    composer.send_keys("lo there")
    assert time.monotonic() - started < 3 and len(sent(ava)) == 1, f"one frame per 3 s: {sent(ava)}"
    assert line(ava) == "", "nobody is shown typing to herself"
    gone = line_is(ben, "", seconds=10)
    assert 5 <= gone - shown <= 7.5, f"the name showed for {gone - shown:.1f} s, not about 6"
    # An emptied composer says nothing (more than 3 s after the last frame: it could).
    clear_composer(ava)
    assert len(sent(ava)) == 1, f"no frame for an empty composer: {sent(ava)}"

    # Her message ends it at once, long before the 6 s.
    composer.send_keys("See you at ten")
    last = time.monotonic()
    assert len(sent(ava)) == 2, sent(ava)
    shown = line_is(ben, f"{a} is typing…", seconds=3)
    composer.send_keys(Keys.ENTER)
    message_shown(ben, "See you at ten", seconds=5)
    assert line(ben) == "", f"the line still says {line(ben)!r} with her message shown"
    assert time.monotonic() - shown < 5, "gone with the message, not with the time"

    # More typers, as the room's two other members over sockets of their own: two names, then
    # a count; Ava's page names the others, not her.
    error = ava.execute_async_script(OPEN_AS, [user_id(c), user_id(d)])
    assert error is None, error
    time.sleep(max(0.0, last + 3.3 - time.monotonic()))  # Ava's throttle lets the next frame go
    composer.send_keys("Also")
    assert len(sent(ava)) == 3, sent(ava)
    line_is(ben, f"{a} is typing…", seconds=3)
    frame = f'JSON.stringify({{action: "typing", room: {room_id}}})'
    ava.execute_script(f"window.realSend.call(window.others[{user_id(c)}], {frame})")
    line_is(ben, f"{a} and {c} are typing…", seconds=3)
    line_is(ava, f"{c} is typing…", seconds=3)
    ava.execute_script(f"window.realSend.call(window.others[{user_id(d)}], {frame})")
    line_is(ben, "3 people are typing…", seconds=3)
    line_is(ava, f"{c} and {d} are typing…", seconds=3)
    audit(ben, "a conversation with people typing")
    dark(ben, True)
    audit(ben, "the same in the dark theme")
    dark(ben, False)
    ava.execute_script("for (const ws of Object.values(window.others)) ws.close()")
    clear_composer(ava)
    line_is(ben, "", seconds=8)
    line_is(ava, "", seconds=2)

    # A frame for a room that is not open: kept, not shown, until that room opens.
    create_room(ben, unique("elsewhere"))
    assert line(ben) == ""
    composer.send_keys("One more thing")
    assert len(sent(ava)) == 4, sent(ava)
    time.sleep(1.5)  # the frame reaches Ben's page within a second
    assert line(ben) == "", f"another room's typing shows: {line(ben)!r}"
    room_button(ben, room).click()
    line_is(ben, f"{a} is typing…", seconds=1)
    clear_composer(ava)

    # The member list: a green dot for Ava and Ben, live now, none for the two others.
    dots_are(ava, {a: True, b: True, c: False, d: False}, seconds=10)
    open_members(ava)
    dot = ava.find_element(By.XPATH, f"//ul[@id='member-list']/li[.//span[@class='name' and text()='{b}']]"
                                     "//*[@class='online']")
    assert dot.is_displayed() and dot.size["width"] > 0, "the dot shows"
    assert dot.get_attribute("aria-label") == "online" and dot.get_attribute("title") == "online", "and says online"
    audit(ava, "the member list with online dots")
    dark(ava, True)
    audit(ava, "the member list with online dots in the dark theme")
    dark(ava, False)
    close_dialog(ava, "members-dialog")
    # Ben closes his browser: his dot goes once the list is loaded again.
    browsers.pop("ben").quit()
    dots_are(ava, {a: True, b: False, c: False, d: False}, seconds=15)
    browsers.pop("ava").quit()
