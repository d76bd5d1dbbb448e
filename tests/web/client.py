"""The browser client at GET / in a real browser: headless Chromium driven by Selenium
(browser.py). Two browser sessions chat as two users over live push (the WebSocket) in the
desktop layout: a room made through the "+" menu's dialog, messages both ways within seconds,
Enter sends and Shift+Enter starts a new line, every control reached with Tab, unseen counts, a
direct room named by the other person, older pages on scrolling up and with the keyboard, an
error shown in its dialog; then the fall back to long polling while the WebSocket API is down
and the way back; the phone layout (360-430 px: the room list, then the conversation alone with
a back button, nothing scrolling sideways, a tap shows a message's actions); none mode's user
picker and token mode's sign-in. Replies, edits, deletions, reactions and retry-safe sends are
lifecycle.py's; files and images in messages attachments.py's; private rooms, invitations, roles,
kicks, bans, blocks and the send limit owners.py's; who is typing and who is online
live_state.py's; unread rooms, mentions, "Seen by" and the read receipts setting news.py's.
axe-core audits the welcome page, a conversation (light and dark) and each dialog: no violation
of impact serious or critical. Run by scripts/test (needs API_URL, TOKEN_API_URL, RUN (the
stack's folder, whose start-gateway restarts the local WebSocket API), AXE_JS and WEB_SHOTS, the
folder for screenshots: every browser's on failure, and screenshot.png and
screenshot-phone.png, the README's pictures, with dark twins).
"""

import os
import signal
import subprocess
import sys
import time
import traceback

import requests
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from browser import (API, active_id, audit, browser, browsers, by_id, create_room, dark, direct_message,
                     error_shown, fill, message_shown, message_xpath, messages_count, no_horizontal_scroll,
                     open_dialog, room_button, room_id_of, room_labels, send_as, shot, sign_up, transport_is,
                     unique, user_id, wait, SHOTS)
from attachments import attachments
from lifecycle import lifecycle
from live_state import live_state
from news import news
from owners import owners, token_owner, token_send_limit

TOKEN_API = os.environ["TOKEN_API_URL"]
RUN = os.environ["RUN"]


def conversation():
    a, b = unique("ann"), unique("bob")
    first, second = browser("first"), browser("second")
    first.get(API + "/")
    wait(first).until(lambda d: by_id(d, "pick-user").is_displayed())
    audit(first, "the welcome page")
    sign_up(first, API, a)
    sign_up(second, API, b)
    transport_is(first, live=True)
    transport_is(second, live=True)

    # Ann starts a room with Bob (its dialog audited) and writes; Bob sees it come live, and answers.
    room = unique("family")
    audit(first, "the room list without rooms")
    open_dialog(first, "menu-create")
    audit(first, "the new room dialog")
    by_id(first, "create-dialog").find_element(By.CSS_SELECTOR, ".cancel").click()
    create_room(first, room, b)
    fill(first, "send-text", "Hello Bob, this is Ann", enter=True)
    message_shown(first, "Hello Bob, this is Ann")
    started = time.monotonic()
    room_button(second, room, seconds=3).click()
    message_shown(second, "Hello Bob, this is Ann", seconds=3)
    assert time.monotonic() - started < 3, "Bob saw the message within 3 s"
    # Shift+Enter is a new line in the composer, Enter sends both lines as one message.
    by_id(second, "send-text").send_keys("Hi Ann! Got it." + Keys.SHIFT + Keys.ENTER + Keys.NULL + "See you at 8?")
    assert by_id(second, "send-text").get_attribute("value") == "Hi Ann! Got it.\nSee you at 8?", "Shift+Enter adds a line"
    assert messages_count(second) == 1, "Shift+Enter sends nothing"
    by_id(second, "send-text").send_keys(Keys.ENTER)
    message_shown(second, "Hi Ann! Got it.\nSee you at 8?")
    assert by_id(second, "send-text").get_attribute("value") == "", "the composer is emptied"
    message_shown(first, "Hi Ann! Got it.\nSee you at 8?", seconds=3)
    # The composer sits at the bottom of the window, the newest message in view above it.
    bottom, height = first.execute_script("return [document.getElementById('send-form').getBoundingClientRect().bottom, innerHeight]")
    assert height - 2 <= bottom <= height, f"the composer ends at {bottom} of a {height} px window"
    # An unseen count shows on a room that is not open.
    side = unique("side")
    create_room(second, side, a)
    fill(second, "send-text", "over here too", enter=True)
    count = "//ul[@id='rooms']//span[@class='count' and text()='1']"
    wait(first, 5).until(lambda d: d.find_elements(By.XPATH, count))
    time.sleep(1.5)  # later polls may answer the same message until the read position moved
    assert first.find_elements(By.XPATH, count), "one unseen message counts once"

    # A direct message: Ann writes to Bob by username; each sees the room named after the other.
    open_dialog(first, "menu-direct")
    audit(first, "the direct message dialog")
    first.switch_to.active_element.send_keys(Keys.ESCAPE)
    wait(first).until(lambda d: by_id(d, "direct-dialog").get_attribute("open") is None)
    direct_message(first, b, "a word in private")
    message_shown(first, "a word in private")
    assert by_id(first, "room-title").text == b
    room_button(second, a, seconds=5).click()
    message_shown(second, "a word in private", seconds=3)
    assert not [label for label in room_labels(second) if " - " in label], room_labels(second)

    keyboard(first)
    room_button(first, room).click()
    message_shown(first, "Hi Ann! Got it.\nSee you at 8?")
    # A few more lines for the picture, each shown live in Ann's open room.
    ann, bob = user_id(a), user_id(b)
    family = room_id_of(ann, room)
    send_as(ann, family, ["Are you coming to the picnic on Saturday?"])
    send_as(bob, family, ["Yes! I'll bring the sandwiches.", "What time should we meet?"])
    send_as(ann, family, ["Noon, by the lake.", "Dana and Eli are coming too."])
    message_shown(first, "Dana and Eli are coming too.", seconds=5)
    audit(first, "a conversation")
    shot(first, "screenshot.png")
    dark(first, True)
    audit(first, "a conversation in the dark theme")
    shot(first, "screenshot-dark.png")
    dark(first, False)
    # The filter box keeps the rooms whose name matches; Enter opens the first, Escape clears it.
    fill(first, "filter", side[:7])
    wait(first).until(lambda d: [e.text for e in d.find_elements(By.CSS_SELECTOR, "#rooms .name") if e.is_displayed()] == [side])
    by_id(first, "filter").send_keys(Keys.ENTER)
    wait(first).until(lambda d: by_id(d, "room-title").text == side)
    message_shown(first, "over here too")
    assert not first.find_elements(By.XPATH, count), "an opened room has no unseen count"
    by_id(first, "filter").send_keys(Keys.ESCAPE)
    wait(first).until(lambda d: len([e for e in d.find_elements(By.CSS_SELECTOR, "#rooms .name") if e.is_displayed()]) == 3)

    # Older pages: 70 more messages; Bob opens the room with the newest 30 in view, scrolls up
    # for 30 more, and takes the rest with the "Load older messages" button from the keyboard.
    send_as(ann, family, [f"filler {i}" for i in range(70)])
    room_button(second, side).click()
    room_button(second, room).click()
    message_shown(second, "filler 69")
    wait(second).until(lambda d: by_id(d, "older").is_displayed())
    assert messages_count(second) == 30, messages_count(second)
    at_bottom = second.execute_script("const s = document.getElementById('scroller'); return s.scrollHeight - s.scrollTop - s.clientHeight")
    assert at_bottom < 4, f"the newest message is in view ({at_bottom} px below)"
    second.execute_script("document.getElementById('scroller').scrollTop = 0")
    wait(second).until(lambda d: messages_count(d) == 60)
    message_shown(second, "filler 10")
    assert not second.find_elements(By.XPATH, message_xpath("Hello Bob, this is Ann"))
    by_id(second, "older").send_keys(Keys.ENTER)
    message_shown(second, "Hello Bob, this is Ann")

    # Every API error is shown: joining a room that does not exist, in the join dialog.
    open_dialog(second, "menu-join")
    fill(second, "join-id", "999999999", enter=True)
    error_shown(second, "does not exist", "join-error")
    audit(second, "the join dialog with an error")
    by_id(second, "join-id").send_keys(Keys.ESCAPE)
    wait(second).until(lambda d: by_id(d, "join-dialog").get_attribute("open") is None)
    assert active_id(second) == "menu-button", "closing a dialog gives focus back to the + button"


def keyboard(driver):
    """Every control of the chat is reached with Tab, with a visible focus ring; the + menu
    opens, moves and closes from the keyboard."""
    driver.execute_script("document.activeElement.blur()")
    reached, rings = set(), {}
    body = driver.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    for _ in range(30):
        reached.add(active_id(driver))
        rings[active_id(driver)] = driver.execute_script("return getComputedStyle(document.activeElement).outlineStyle")
        driver.switch_to.active_element.send_keys(Keys.TAB)
    wanted = {"menu-button", "filter", "room", "leave", "scroller", "send-text", "primary"}
    assert wanted <= reached, f"Tab reaches {sorted(reached)}, not {sorted(wanted - reached)}"
    assert all(rings[k] != "none" for k in wanted), f"a focus ring on each: {rings}"
    by_id(driver, "menu-button").send_keys(Keys.ENTER)
    wait(driver).until(lambda d: active_id(d) == "menu-create")
    driver.switch_to.active_element.send_keys(Keys.ARROW_DOWN)
    assert active_id(driver) == "menu-join"
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    wait(driver).until(lambda d: active_id(d) == "join-id")
    audit(driver, "the join dialog")
    driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    wait(driver).until(lambda d: active_id(d) == "menu-button")
    by_id(driver, "menu-button").send_keys(Keys.ENTER)
    driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    assert not by_id(driver, "menu").is_displayed() and active_id(driver) == "menu-button"


def fallback_to_polling():
    """The WebSocket API goes down: both pages fall back to long polling and still chat (a new
    direct room's first message included); it comes back: both are live again."""
    c, d = unique("cat"), unique("dan")
    one, two = browser("one"), browser("two")
    sign_up(one, API, c)
    sign_up(two, API, d)
    room = unique("outage")
    create_room(one, room, d)
    room_button(two, room, seconds=5).click()
    transport_is(one, live=True)
    transport_is(two, live=True)
    with open(os.path.join(RUN, "gateway.pid")) as f:
        os.kill(int(f.read()), signal.SIGTERM)
    try:
        transport_is(one, live=False, seconds=5)
        transport_is(two, live=False, seconds=5)
        fill(one, "send-text", "while the socket is down", enter=True)
        message_shown(two, "while the socket is down", seconds=3)
        # A new conversation while polling: its first message shows without a reload.
        direct_message(one, d, "a new conversation while polling")
        room_button(two, c, seconds=3).click()
        message_shown(two, "a new conversation while polling", seconds=3)
    finally:
        subprocess.run([os.path.join(RUN, "start-gateway")], check=True)
    # Tries again after 1, 2, 4, 8 ... s: back within 20 s.
    transport_is(one, live=True, seconds=20)
    transport_is(two, live=True, seconds=20)
    # Both have the direct room open (the sender's opened when its first message was stored).
    fill(two, "send-text", "and live again", enter=True)
    message_shown(one, "and live again", seconds=3)


def phone_layout():
    """A phone: the room list fills the screen; a room opens on its own with a back button;
    nothing scrolls sideways at 360, 390 or 430 px."""
    me, friend = unique("pia"), unique("max")
    requests.post(f"{API}/users/", json={"username": friend, "password": "Passw0rd!", "profile": {}}, timeout=10)
    phone = browser("phone", width=390, height=780, phone=True)
    phone.get(API + "/")
    wait(phone).until(lambda d: by_id(d, "pick-user").is_displayed())
    no_horizontal_scroll(phone, "the welcome page at 390 px")
    sign_up(phone, API, me)
    room = unique("weekend")
    create_room(phone, room, friend)
    assert by_id(phone, "back").is_displayed() and not by_id(phone, "rooms").is_displayed(), "the room alone"
    fill(phone, "send-text", "Are we still on for Saturday?", enter=True)
    message_shown(phone, "Are we still on for Saturday?")
    weekend = room_id_of(user_id(me), room)
    send_as(user_id(friend), weekend, ["Yes! Meet at the station at 9.", "I'll bring the tickets."])
    message_shown(phone, "I'll bring the tickets.", seconds=5)
    fill(phone, "send-text", "Perfect, see you there!", enter=True)
    message_shown(phone, "Perfect, see you there!")
    shot(phone, "screenshot-phone.png")
    dark(phone, True)
    shot(phone, "screenshot-phone-dark.png")
    dark(phone, False)
    # Nothing hovers on a phone: a tap on a message shows its actions.
    phone.find_element(By.XPATH, message_xpath("Yes! Meet at the station at 9.")).click()
    bar = "//li[.//p[@class='text' and text()='Yes! Meet at the station at 9.']]//*[@role='toolbar']"
    wait(phone).until(lambda d: d.find_element(By.XPATH, bar).is_displayed())
    no_horizontal_scroll(phone, "a message's actions at 390 px")
    # A long word (a link) wraps rather than widening anything.
    link = "https://example.com/" + "a-very-long-link-" * 6
    send_as(user_id(friend), weekend, [link])
    message_shown(phone, link, seconds=5)
    for width in (360, 390, 430):
        phone.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                              {"width": width, "height": 780, "deviceScaleFactor": 2, "mobile": True})
        no_horizontal_scroll(phone, f"a conversation at {width} px")
        bottom = phone.execute_script("return document.getElementById('send-form').getBoundingClientRect().bottom")
        assert 778 <= bottom <= 780, f"the composer at the bottom at {width} px ({bottom})"
    phone.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                          {"width": 390, "height": 780, "deviceScaleFactor": 2, "mobile": True})
    audit(phone, "a conversation on a phone")
    by_id(phone, "back").click()
    wait(phone).until(lambda d: by_id(d, "rooms").is_displayed())
    assert not by_id(phone, "conversation").is_displayed(), "the room list alone"
    assert active_id(phone) == "room", "back gives focus to the room's entry"
    for width in (360, 430):
        phone.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                              {"width": width, "height": 780, "deviceScaleFactor": 2, "mobile": True})
        no_horizontal_scroll(phone, f"the room list at {width} px")
    shot(phone, "screenshot-phone-rooms.png")
    room_button(phone, room).click()
    message_shown(phone, "Perfect, see you there!")


def pick_a_user():
    picker = browser("picker")
    picker.get(API + "/")
    wait(picker).until(lambda d: d.find_elements(By.XPATH, "//select[@id='pick-select']/option[text()='user_2']"))
    by_id(picker, "pick-select").send_keys("user_2")
    by_id(picker, "pick-form").submit()
    wait(picker).until(lambda d: "user_2" in by_id(d, "me").text)


def token_mode():
    name = unique("tok")
    requests.post(f"{TOKEN_API}/users/", json={"username": name, "password": "Passw0rd!", "profile": {}}, timeout=10)
    signer = browser("token")
    signer.get(TOKEN_API + "/")
    wait(signer).until(lambda d: by_id(d, "sign-in-token").is_displayed())
    assert not by_id(signer, "pick-user").is_displayed()
    audit(signer, "the welcome page in token mode")
    fill(signer, "sign-in-username", name)
    fill(signer, "sign-in-password", "wrong", enter=True)
    error_shown(signer, "No active account found with the given credentials")
    fill(signer, "sign-in-password", "Passw0rd!", enter=True)
    wait(signer).until(lambda d: by_id(d, "chat").is_displayed())
    transport_is(signer, live=True)
    tok_room = unique("tokroom")
    create_room(signer, tok_room)
    token_owner(signer)
    fill(signer, "send-text", "sent with a token", enter=True)
    message_shown(signer, "sent with a token")
    token_send_limit(signer, name, tok_room)


def main():
    os.makedirs(SHOTS, exist_ok=True)
    steps = [conversation, lifecycle, attachments, owners, live_state, news, fallback_to_polling, phone_layout, pick_a_user, token_mode]
    try:
        for step in steps:
            step()
            print(f"web client: {step.__name__} ok")
    except (AssertionError, TimeoutException) as e:
        traceback.print_exc()
        for name, driver in browsers.items():
            driver.save_screenshot(os.path.join(SHOTS, f"failed-{name}.png"))
            logs = driver.get_log("browser")
            for entry in logs:
                print(f"  {name} console: {entry['message']}", file=sys.stderr)
        sys.exit(f"web client test failed in {step.__name__}: {e!r}; screenshots in {SHOTS}")
    finally:
        for driver in browsers.values():
            driver.quit()
    print(f"web client: {len(steps)} scenarios passed in a real browser")


if __name__ == "__main__":
    main()
