"""A room's news and read receipts in the browser (docs/API.md, "Live room state"), two users live
in two rooms (a third member only mentioned): Bob mentions Nia while she has the other room open,
and her list shows that room bold ("unread" for screen readers) with an "@1" badge ("1 unread
mention") and Bob's message as its preview; opening it clears both, and the message marks
"@nia" as her mention (and the third member's as a plain one). Bob's message shows "Seen by nia"
only once she opened the room, and the line moves to his next message when she reads that too.
Nia turns "Send read receipts" off in the + menu (the profile says so): her reading Bob's next
message moves nothing on his page, and his room view, loaded again, shows no "Seen by" at all.
A mention in the other room while she reads: bold and "@1" live, the same from the server after a
reload (not counted twice by the catch-up), the box still off; the message deleted: "message
deleted" as the preview. axe-core audits the list's badge, a highlighted mention, "Seen by" and
the menu's box, light and dark. Called by client.py's main."""

import time

import requests
from selenium.webdriver.common.keys import Keys

from browser import (API, active_id, audit, browser, browsers, by_id, create_room, dark, fill, post_message,
                     room_button, room_id_of, sign_up, transport_is, unique, user_id, wait)

# A room list entry as shown: bold name, the "unread" words, the badge and its label, the preview.
ROOM = """
const b = [...document.querySelectorAll('#rooms button.room')]
    .find((x) => x.querySelector('.name').textContent === arguments[0]);
if (!b) return null;
const badge = b.querySelector('.mention-count'), preview = b.querySelector('.snippet');
const word = [...b.querySelectorAll('.sr-only')].find((s) => s.textContent === ', unread');
return {
  bold: Number(getComputedStyle(b.querySelector('.name')).fontWeight) >= 700,
  said: Boolean(word && !word.hidden),
  badge: badge.hidden ? null : [badge.textContent, badge.getAttribute('aria-label')],
  preview: preview.hidden ? null : [...preview.childNodes]
      .filter((n) => !(n.classList && n.classList.contains('sr-only'))).map((n) => n.textContent).join(''),
};"""

# The open room's stored messages: [text, [[mention, of the reader?], ...], "Seen by ..." or null].
MESSAGES = """
return [...document.querySelectorAll('#messages li.msg[data-id]')].map((li) => {
  const seen = li.querySelector(':scope > .seen'), text = li.querySelector('.body > .text');
  return [text ? text.textContent : null,
          text ? [...text.querySelectorAll('.mention')].map((m) => [m.textContent, m.classList.contains('to-me')]) : [],
          seen ? seen.textContent : null];
});"""

UNREAD = {"bold": True, "said": True}
READ = {"bold": False, "said": False, "badge": None}


def room(driver, name):
    return driver.execute_script(ROOM, name)


def room_is(driver, name, wanted, seconds=5):
    """Waits until the list's entry shows what `wanted` says (a subset of ROOM's answer)."""
    try:
        wait(driver, seconds).until(lambda d: (lambda r: r and all(r[k] == v for k, v in wanted.items()))(room(d, name)))
    except Exception:
        raise AssertionError(f"{name} in the list is {room(driver, name)}, not {wanted}")


def messages(driver):
    return driver.execute_script(MESSAGES)


def seen(driver):
    """{message text: its "Seen by" line} of the open room."""
    return {text: line for text, _, line in messages(driver) if line}


def seen_is(driver, wanted, seconds):
    try:
        wait(driver, seconds).until(lambda d: seen(d) == wanted)
    except Exception:
        raise AssertionError(f"the open room says {seen(driver)}, not {wanted}")
    return time.monotonic()


def shown(driver, text, seconds=10):
    """Waits until the open room shows the stored message `text` (mentions split its text)."""
    wait(driver, seconds).until(lambda d: any(t == text for t, _, _ in messages(d)))


def say(driver, text):
    fill(driver, "send-text", text, enter=True)
    shown(driver, text)


def stored(sender, room_id, text):
    """A message sent through the API, once stored: its id."""
    task = post_message(sender, room_id, text)
    for _ in range(100):
        answer = requests.get(f"{API}/chat/task_state/{task}", timeout=10).json()
        if answer["state"] not in ("PENDING", "STARTED"):
            break
        time.sleep(0.1)
    assert answer["state"] == "SUCCESS", answer
    return answer["result"]["id"]


def receipts_on(user):
    profile = requests.get(f"{API}/users/{user}/", timeout=10).json()["profile"]
    return profile.get("read_receipts", True)


def both_themes(driver, where):
    audit(driver, where)
    dark(driver, True)
    audit(driver, f"{where} in the dark theme")
    dark(driver, False)


def news():
    a, b, c = unique("nia"), unique("oto"), unique("pam")
    made = requests.post(f"{API}/users/", json={"username": c, "password": "Passw0rd!", "profile": {}}, timeout=10)
    assert made.status_code == 201, made.text
    nia, oto = browser("nia"), browser("oto")
    sign_up(nia, API, a)
    sign_up(oto, API, b)
    transport_is(nia, live=True)
    transport_is(oto, live=True)
    talk, lobby = unique("talk"), unique("lobby")
    create_room(oto, talk, f"{a}, {c}")
    create_room(nia, lobby, b)
    room_button(nia, talk, seconds=5)
    room_is(nia, talk, READ)
    ann_id, bob_id = user_id(a), user_id(b)

    # Bob mentions Nia (and Pam) while she reads the lobby: bold, "@1", his words under the name.
    first = f"@{a} and @{c}, lunch at noon?"
    say(oto, first)
    room_is(nia, talk, {**UNREAD, "badge": ["@1", "1 unread mention"], "preview": f"{b}: {first}"})
    room_is(nia, lobby, READ, seconds=0)
    # (No check that Oto sees no "Seen by" yet: the client's catch-up reads unseen, which marks
    # what it fetched as seen, so Nia may count as having read it before she opens the room.)
    both_themes(nia, "the room list with an unread mention")

    # She opens it: the news go; her mention is marked as hers, Pam's as a mention.
    room_button(nia, talk).click()
    shown(nia, first)
    room_is(nia, talk, READ, seconds=1)
    marks = next(m for t, m, _ in messages(nia) if t == first)
    assert marks == [[f"@{a}", True], [f"@{c}", False]], marks
    both_themes(nia, "a message mentioning the reader")

    # Bob's page: "Seen by nia" under his message once she has read it, then under his next one.
    seen_is(oto, {first: f"Seen by {a}"}, seconds=10)
    sent = time.monotonic()
    say(oto, "second")
    shown(nia, "second", seconds=5)
    moved = seen_is(oto, {"second": f"Seen by {a}"}, seconds=10)
    both_themes(oto, "a conversation with Seen by")

    # Nia turns read receipts off in the + menu (reached with the arrow keys).
    by_id(nia, "menu-button").send_keys(Keys.ENTER)
    wait(nia).until(lambda d: active_id(d) == "menu-create")
    box = by_id(nia, "read-receipts")
    wait(nia).until(lambda d: box.is_enabled())
    assert box.is_selected() and receipts_on(ann_id), "receipts are on at first"
    for _ in range(3):
        nia.switch_to.active_element.send_keys(Keys.ARROW_DOWN)
    assert nia.switch_to.active_element == box, f"the arrows reach the box, not {active_id(nia)}"
    both_themes(nia, "the menu with Send read receipts")
    box.send_keys(Keys.SPACE)
    wait(nia, 5).until(lambda d: not receipts_on(ann_id))
    assert not box.is_selected()
    nia.switch_to.active_element.send_keys(Keys.ESCAPE)
    wait(nia).until(lambda d: not by_id(d, "menu").is_displayed())

    # She reads Bob's next message (her room is open): his "Seen by" stays where it was, and his
    # room view, loaded again, shows her position no more.
    say(oto, "third")
    shown(nia, "third", seconds=5)
    time.sleep(min(6.0, max(3.0, 2 * (moved - sent))))  # more than a receipt took above
    assert seen(oto) == {"second": f"Seen by {a}"}, f"Seen by moved: {seen(oto)}"
    room_button(oto, lobby).click()
    room_button(oto, talk).click()
    shown(oto, "third")
    assert seen(oto) == {}, f"her position shows after the room view was loaded again: {seen(oto)}"

    # A mention in the lobby while she reads the talk: live, then from the server after a reload.
    lobby_id, ping = room_id_of(ann_id, lobby), f"@{a} the lobby needs you"
    pinged = stored(bob_id, lobby_id, ping)
    room_is(nia, lobby, {**UNREAD, "badge": ["@1", "1 unread mention"], "preview": f"{b}: {ping}"})
    nia.refresh()
    wait(nia).until(lambda d: by_id(d, "chat").is_displayed())
    transport_is(nia, live=True)
    room_is(nia, lobby, {**UNREAD, "badge": ["@1", "1 unread mention"], "preview": f"{b}: {ping}"})
    room_is(nia, talk, {**READ, "preview": f"{b}: third"}, seconds=0)
    time.sleep(1)  # the catch-up of a new WebSocket answers the same message: counted once
    room_is(nia, lobby, {"badge": ["@1", "1 unread mention"]}, seconds=0)
    by_id(nia, "menu-button").click()
    wait(nia).until(lambda d: by_id(d, "read-receipts").is_enabled())
    assert not by_id(nia, "read-receipts").is_selected(), "the box says receipts are off after a reload"
    by_id(nia, "menu-button").click()

    # Bob deletes it: the preview says so.
    gone = requests.delete(f"{API}/chat/messages/{lobby_id}/{pinged}/", params={"user_id": bob_id}, timeout=10)
    assert gone.status_code == 204, gone.text
    room_is(nia, lobby, {"preview": f"{b}: message deleted"})
    for name in ("nia", "oto"):
        browsers.pop(name).quit()
