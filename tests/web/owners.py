"""Rooms with owners in the browser (docs/API.md, "Rooms with owners"): an owner makes a private
room with a topic (the padlock and the topic in its head and the list); a non-member does not
find it among the public rooms of "Join a room" and cannot join it by id; the owner adds Bob by
username (his page gets the room live) and makes him admin (the role shown); Bob renames the room
in its settings (a taken name refused in the dialog; the owner sees the new name after a reload)
and, as an admin, deletes the owner's message; the owner kicks Cyd (her page says she was
removed), bans her (adding her again is refused, the reason shown), unbans her; Block and Unblock
from the member list; a direct room's Block: the blocked person's direct message shows the API's
403 and stays in the composer; a send over the send limit shows "You are sending too fast" with
the seconds and keeps the text. axe-core audits the new room dialog, the member list (with bans
and an error, light and dark, and on a phone) and the settings dialog (light and dark). Called by
client.py's main; `token_owner` and `token_send_limit` by its token-mode scenario (that copy of
the API keeps the contract's send limits)."""

import os
import re
import time

import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from browser import (API, active_id, audit, browser, browsers, by_id, dark, direct_message, error_shown, fill,
                     message_shown, message_xpath, no_horizontal_scroll, open_dialog, room_button, room_labels,
                     sign_up, transport_is, unique, user_id, wait, xpath_literal)
from lifecycle import act, item, tombstone

TOKEN_API = os.environ["TOKEN_API_URL"]


def dialog_open(driver, dialog_id, seconds=10):
    wait(driver, seconds).until(lambda d: by_id(d, dialog_id).get_attribute("open") is not None)


def dialog_closed(driver, dialog_id, seconds=10):
    wait(driver, seconds).until(lambda d: by_id(d, dialog_id).get_attribute("open") is None)


def row_xpath(username, where="member-list"):
    return f"//ul[@id='{where}']/li[.//span[contains(@class,'name') and text()={xpath_literal(username)}]]"


def member_row(driver, username, seconds=10):
    return wait(driver, seconds).until(lambda d: (d.find_elements(By.XPATH, row_xpath(username)) or [None])[0])


def no_member_row(driver, username, seconds=10):
    wait(driver, seconds).until(lambda d: not d.find_elements(By.XPATH, row_xpath(username)))


def role(driver, username):
    """The role a member's row shows (read at once: the list is painted again after each change)."""
    member_row(driver, username)
    return driver.execute_script("""
        const li = [...document.querySelectorAll('#member-list > li')]
            .find((l) => l.querySelector('.name').textContent === arguments[0]);
        const r = li && li.querySelector('.role');
        return r ? r.textContent : null;""", username)


def press(driver, username, action):
    """A member row's button (admin, unadmin, kick, ban, block, unblock)."""
    member_row(driver, username)
    button = driver.find_element(By.CSS_SELECTOR, f"#member-list button[data-act='{action}'][data-user='{username}']")
    assert button.get_attribute("aria-label").endswith(username), "the button names the member"
    button.click()


def has_button(driver, username, action):
    return bool(driver.find_elements(By.CSS_SELECTOR, f"#member-list button[data-act='{action}'][data-user='{username}']"))


def open_members(driver):
    by_id(driver, "members-button").click()
    dialog_open(driver, "members-dialog")
    wait(driver).until(lambda d: by_id(d, "member-list").get_attribute("aria-busy") is None)
    member_row(driver, by_id(driver, "me").get_attribute("textContent"))


def close_dialog(driver, dialog_id):
    driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    dialog_closed(driver, dialog_id)


def invite(driver, username):
    fill(driver, "invite-user", username, enter=True)


def room_data(user, room_id):
    r = requests.get(f"{API}/chat/chatroom/{room_id}/", params={"user_id": user}, timeout=10)
    assert r.status_code == 200, f"room {room_id} for {user}: {r.status_code} {r.text}"
    return r.json()["data"]


def public_rooms_listed(driver):
    """Every room "Join a room" offers, after loading all its pages."""
    for _ in range(300):
        wait(driver, 20).until(lambda d: by_id(d, "public-rooms").get_attribute("aria-busy") is None)
        more = by_id(driver, "public-more")
        if not more.is_displayed():
            break
        more.click()
    return {b.get_attribute("aria-label") for b in driver.find_elements(By.CSS_SELECTOR, "#public-rooms button")}


def owners():
    a, b, c, d = unique("olga"), unique("bert"), unique("cyd"), unique("dora")
    owner, bob, cyd = browser("owner"), browser("bob"), browser("cyd")
    for driver, name in ((owner, a), (bob, b), (cyd, c)):
        sign_up(driver, API, name)
    for driver in (owner, bob, cyd):
        transport_is(driver, live=True)
    ann_id, bob_id = user_id(a), user_id(b)

    # The owner makes a private room with a topic: the padlock and the topic show.
    room, topic = unique("surprise"), "Planning the surprise party"
    open_dialog(owner, "menu-create")
    fill(owner, "create-name", room)
    fill(owner, "create-topic", topic)
    owner.find_element(By.CSS_SELECTOR, "input[name=create-visibility][value=private]").click()
    audit(owner, "the new room dialog, private, with a topic")
    by_id(owner, "create-form").find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(owner).until(lambda d: by_id(d, "room-title").text == room)
    dialog_closed(owner, "create-dialog")
    wait(owner).until(lambda d: by_id(d, "room-topic").text == topic)
    assert by_id(owner, "room-lock").is_displayed(), "a private room's head shows the padlock"
    assert room_button(owner, room).find_element(By.CSS_SELECTOR, ".lock.shown").is_displayed(), "and its entry"
    assert by_id(owner, "settings-button").is_displayed(), "the owner has the room's settings"
    rooms = requests.get(f"{API}/chat/chatroom/", params={"user_id": ann_id}, timeout=10).json()["data"]
    room_id = next(r["id"] for r in rooms if r["room_name"] == room)
    stored = room_data(ann_id, room_id)
    assert stored["owner"]["id"] == ann_id and stored["visibility"] == "private" and stored["topic"] == topic, stored

    # Cyd is no member: "Join a room" lists a public room but not the private one, and its id is refused.
    public = unique("open")
    made = requests.post(f"{API}/chat/chatroom/", params={"user_id": bob_id}, json={"room_name": public}, timeout=10)
    assert made.status_code == 201, made.text
    open_dialog(cyd, "menu-join")
    listed = public_rooms_listed(cyd)
    assert f"Join {public}" in listed, f"the public room {public} is offered"
    assert f"Join {room}" not in listed, "the private room is not"
    fill(cyd, "join-id", str(room_id), enter=True)
    wait(cyd).until(lambda d: by_id(d, "join-error").is_displayed() and by_id(d, "join-error").text.strip())
    assert room not in room_labels(cyd)
    close_dialog(cyd, "join-dialog")

    # The owner adds Bob by username (his page gets the room live) and makes him admin.
    open_members(owner)
    assert role(owner, a) == "Owner", role(owner, a)
    audit(owner, "the member list")
    invite(owner, b)
    member_row(owner, b)
    assert role(owner, b) is None
    room_button(bob, room, seconds=5)
    press(owner, b, "admin")
    wait(owner).until(lambda d: role(d, b) == "Admin")
    assert any(u["id"] == bob_id for u in room_data(ann_id, room_id)["admins"])
    assert has_button(owner, b, "unadmin"), "Remove admin offered"
    # Block and Unblock from the member list.
    press(owner, b, "block")
    wait(owner).until(lambda d: has_button(d, b, "unblock"))
    blocks = requests.get(f"{API}/users/{ann_id}/blocks/", timeout=10).json()
    assert [u["username"] for u in blocks] == [b], blocks
    press(owner, b, "unblock")
    wait(owner).until(lambda d: has_button(d, b, "block"))
    assert requests.get(f"{API}/users/{ann_id}/blocks/", timeout=10).json() == []
    close_dialog(owner, "members-dialog")
    assert active_id(owner) == "members-button", "closing the list gives focus back"

    # Bob, now an admin, renames the room: a taken name is refused in the dialog, then a new one.
    room_button(bob, room).click()
    wait(bob).until(lambda d: by_id(d, "room-title").text == room and by_id(d, "settings-button").is_displayed())
    assert by_id(bob, "room-lock").is_displayed() and by_id(bob, "room-topic").text == topic
    by_id(bob, "settings-button").click()
    dialog_open(bob, "settings-dialog")
    assert by_id(bob, "settings-name").get_attribute("value") == room
    assert bob.find_element(By.CSS_SELECTOR, "input[name=settings-visibility][value=private]").is_selected()
    audit(bob, "the room settings dialog")
    dark(bob, True)
    audit(bob, "the room settings dialog in the dark theme")
    dark(bob, False)
    fill(bob, "settings-name", public, enter=True)
    wait(bob).until(lambda d: by_id(d, "settings-error").is_displayed() and by_id(d, "settings-error").text.strip())
    renamed = unique("party")
    fill(bob, "settings-name", renamed, enter=True)
    dialog_closed(bob, "settings-dialog")
    wait(bob).until(lambda d: by_id(d, "room-title").text == renamed)
    owner.refresh()
    room_button(owner, renamed).click()
    wait(owner).until(lambda d: by_id(d, "room-title").text == renamed and by_id(d, "room-topic").text == topic)

    # An admin deletes another's message.
    fill(owner, "send-text", "Balloons are in my car", enter=True)
    message_shown(bob, "Balloons are in my car", seconds=5)
    note = item(bob, "Balloons are in my car").get_attribute("data-id")
    act(bob, "Balloons are in my car", "delete")
    dialog_open(bob, "delete-dialog")
    by_id(bob, "delete-form").find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    tombstone(bob, note)
    tombstone(owner, note, seconds=5)

    # The owner adds Cyd, then kicks her: her page says so and the room leaves her list.
    open_members(owner)
    invite(owner, c)
    member_row(owner, c)
    room_button(cyd, renamed, seconds=5).click()
    wait(cyd).until(lambda d: by_id(d, "room-title").text == renamed)
    press(owner, c, "kick")
    no_member_row(owner, c)
    wait(cyd, 5).until(lambda d: "You were removed from this room" in by_id(d, "notice").text)
    assert by_id(cyd, "notice").is_displayed() and by_id(cyd, "no-room").is_displayed()
    assert renamed not in room_labels(cyd), room_labels(cyd)

    # Added again, then banned: gone from her list again; adding her is refused; an unban lets her back.
    invite(owner, c)
    room_button(cyd, renamed, seconds=5)
    press(owner, c, "ban")
    no_member_row(owner, c)
    wait(owner).until(lambda d: d.find_elements(By.XPATH, row_xpath(c, "ban-list")))
    wait(cyd, 5).until(lambda d: renamed not in room_labels(d))
    invite(owner, c)
    wait(owner).until(lambda d: by_id(d, "members-error").is_displayed() and by_id(d, "members-error").text.strip())
    assert not owner.find_elements(By.XPATH, row_xpath(c)), "a banned user is not added"
    audit(owner, "the member list with a ban and an error")
    dark(owner, True)
    audit(owner, "the member list in the dark theme")
    dark(owner, False)
    owner.find_element(By.XPATH, row_xpath(c, "ban-list") + "//button[@data-act='unban']").click()
    wait(owner).until(lambda d: by_id(d, "bans-empty").is_displayed())
    invite(owner, c)
    member_row(owner, c)
    room_button(cyd, renamed, seconds=5)
    close_dialog(owner, "members-dialog")

    phone(owner)
    browsers.pop("cyd").quit()
    blocking(owner, a, ann_id, d)
    for name in ("owner", "bob"):
        browsers.pop(name).quit()


def token_send_limit(driver, username, room):
    """Token mode, whose copy of the API keeps the contract's send limits (scripts/test raises
    them elsewhere): sends into the open room through the API until one is refused, then one from
    the page: the reason and the seconds shown, the text kept in the composer, nothing stored."""
    access = requests.post(f"{TOKEN_API}/auth/token/", json={"username": username, "password": "Passw0rd!"},
                           timeout=10).json()["access"]
    auth = {"authorization": f"Bearer {access}"}
    me = requests.get(f"{TOKEN_API}/users/", params={"username": username}, headers=auth, timeout=10).json()[0]["id"]
    rooms = requests.get(f"{TOKEN_API}/chat/chatroom/", params={"user_id": me}, headers=auth, timeout=10).json()["data"]
    room_id = next(r["id"] for r in rooms if r["room_name"] == room)
    text = "one message too many"
    for attempt in range(3):
        for _ in range(40):
            r = requests.post(f"{TOKEN_API}/chat/group/{room_id}/", json={"text": "quick"}, headers=auth, timeout=10)
            if r.status_code == 429:
                break
            assert r.status_code == 202, r.text
        assert r.status_code == 429, "the send limit refuses a quick 41st send"
        assert r.headers.get("retry-after"), "with Retry-After"
        fill(driver, "send-text", text, enter=True)
        try:
            error_shown(driver, "You are sending too fast")
            break
        except Exception:
            # A window of the limit ended between the two: the page's send went through.
            if attempt == 2 or not driver.find_elements(By.XPATH, message_xpath(text)):
                raise
            time.sleep(10)
    shown = by_id(driver, "error").text
    assert re.search(r"try again in \d+ s", shown), shown
    assert by_id(driver, "send-text").get_attribute("value") == text, "the text stays in the composer"
    by_id(driver, "error-close").click()
    fill(driver, "send-text", "")
    history = requests.get(f"{TOKEN_API}/chat/messages/{room_id}/", params={"limit": 200}, headers=auth, timeout=10)
    assert text not in [m["text"] for m in history.json()["data"]["messages"]], "a refused send stores nothing"


def phone(driver):
    """The room's head and the member list on a 360 px phone: nothing beyond the screen."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 360, "height": 740, "deviceScaleFactor": 2, "mobile": True})
    try:
        wait(driver).until(lambda d: by_id(d, "room-head").is_displayed())
        right = driver.execute_script(
            "return Math.max(...[...document.getElementById('room-head').children]"
            ".filter((e) => e.offsetParent).map((e) => e.getBoundingClientRect().right))")
        assert right <= 360, f"the room's head ends at {right} px on a 360 px phone"
        no_horizontal_scroll(driver, "a room's head at 360 px")
        open_members(driver)
        no_horizontal_scroll(driver, "the member list at 360 px")
        audit(driver, "the member list on a phone")
        close_dialog(driver, "members-dialog")
    finally:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": 1200, "height": 760, "deviceScaleFactor": 1, "mobile": False})


def blocking(owner, a, ann_id, d):
    """The owner blocks Dora from their direct room: her direct message is refused (the API's
    403 shown, the text kept); unblocked, it goes through."""
    dora = browser("dora")
    sign_up(dora, API, d)
    transport_is(dora, live=True)
    dora_id = user_id(d)
    direct_message(owner, d, "Hello Dora")
    message_shown(owner, "Hello Dora")
    wait(owner).until(lambda d_: by_id(d_, "block-button").is_displayed() and by_id(d_, "block-button").text == "Block")
    assert not by_id(owner, "members-button").is_displayed() and not by_id(owner, "settings-button").is_displayed()
    by_id(owner, "block-button").click()
    wait(owner).until(lambda d_: by_id(d_, "block-button").text == "Unblock")
    assert by_id(owner, "block-button").get_attribute("aria-label") == f"Unblock {d}"
    refused = requests.post(f"{API}/chat/user/{ann_id}/", json={"from": dora_id, "text": "through the API"}, timeout=10)
    assert refused.status_code == 403, f"a blocked sender's direct message: {refused.status_code} {refused.text}"
    reason = refused.json()["msg"]
    room_button(dora, a, seconds=5).click()
    message_shown(dora, "Hello Dora")
    fill(dora, "send-text", "Can I come too?", enter=True)
    error_shown(dora, reason)
    assert by_id(dora, "send-text").get_attribute("value") == "Can I come too?", "the text stays in the composer"
    by_id(owner, "block-button").click()
    wait(owner).until(lambda d_: by_id(d_, "block-button").text == "Block")
    by_id(dora, "send-text").send_keys(Keys.ENTER)
    message_shown(dora, "Can I come too?")
    message_shown(owner, "Can I come too?", seconds=5)
    browsers.pop("dora").quit()


def token_owner(driver):
    """Token mode: the room just made lists its maker as its owner, with its settings."""
    assert by_id(driver, "settings-button").is_displayed(), "the maker has the room's settings"
    open_members(driver)
    assert role(driver, by_id(driver, "me").get_attribute("textContent")) == "Owner"
    close_dialog(driver, "members-dialog")
