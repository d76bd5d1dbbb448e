"""The message lifecycle in the browser (docs/API.md, "Message lifecycle"), two users live in one
room: a send whose answer is lost is tried again with the same Idempotency-Key and stored once;
a message's toolbar reached with Tab and the arrow keys, an edit cancelled with Escape; an edit
("(edited)", seen by the other live and after a reload); replies (the quote bar, the quote on the
message, a click on the quote scrolls to the quoted message and lights it up); reactions (a chip
with its count, one's own pressed, toggled by a click, gone at 0, the other's view live); a
deletion after a confirmation dialog (the tombstone and the quote's "message deleted" for both,
live and after a reload); axe-core on a conversation with all of these and on the dialog.
Called by client.py's main."""

import re

import requests
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec

from browser import (API, active_id, audit, browsers, by_id, dark, fill, message_shown, message_xpath, messages_count,
                     room_button, send_as, two_in_a_room, user_id, wait)

KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")

# The first answer to a send is lost after it reached the server (as when a connection drops);
# every send's Idempotency-Key is kept in window.sendKeys.
LOSE_FIRST_ANSWER = """
window.realFetch = window.fetch;
window.sendKeys = [];
let lost = false;
window.fetch = async (url, init = {}) => {
  const answer = await window.realFetch(url, init);
  if (init.method === "POST" && /\\/chat\\/(group|user)\\//.test(String(url))) {
    window.sendKeys.push((init.headers || {})["idempotency-key"] || null);
    if (!lost) { lost = true; throw new TypeError("Failed to fetch"); }
  }
  return answer;
};
"""


def item(driver, text, seconds=10):
    """The list item of the stored message whose text is `text`."""
    return wait(driver, seconds).until(ec.presence_of_element_located((By.XPATH, message_xpath(text) + "/ancestor::li[1]")))


def by_message_id(driver, message_id):
    return driver.find_element(By.CSS_SELECTOR, f"#messages li.msg[data-id='{message_id}']")


def act(driver, text, action):
    """Points at the message and presses one of its toolbar's buttons (reply, react, edit, delete)."""
    li = item(driver, text)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", li)
    ActionChains(driver).move_to_element(li).perform()
    button = li.find_element(By.CSS_SELECTOR, f".tools [data-act='{action}']")
    wait(driver).until(lambda d: button.is_displayed())
    button.click()
    return li


def pick(driver, text, emoji):
    """Reacts to the message with `emoji` from its palette."""
    li = act(driver, text, "react")
    wait(driver).until(lambda d: active_id(d) == "emoji")
    found = [b for b in li.find_elements(By.CSS_SELECTOR, ".palette .emoji") if b.get_attribute("data-emoji") == emoji]
    found[0].click()


def chip(driver, text, emoji):
    li = item(driver, text)
    return next(c for c in li.find_elements(By.CSS_SELECTOR, ".reactions .chip") if c.get_attribute("data-emoji") == emoji)


def chips(driver, text):
    """{emoji: [count, pressed, accessible label]} of the message's reaction chips."""
    return driver.execute_script("""
        return Object.fromEntries([...arguments[0].querySelectorAll('.reactions .chip')].map((c) =>
            [c.dataset.emoji, [Number(c.querySelector('.n').textContent), c.getAttribute('aria-pressed') === 'true',
                               c.getAttribute('aria-label')]]));""", item(driver, text))


def chips_are(driver, text, wanted, seconds=5):
    try:
        wait(driver, seconds).until(lambda d: chips(d, text) == wanted)
    except Exception:
        raise AssertionError(f"reactions of {text!r}: {chips(driver, text)}, not {wanted}")


def quote_of(driver, text):
    """(sender, text) the message quotes, the text "message deleted" when the quoted one is."""
    q = item(driver, text).find_element(By.CSS_SELECTOR, ".quote")
    return q.find_element(By.CSS_SELECTOR, ".quote-who").text, q.find_element(By.CSS_SELECTOR, ".quote-text").text


def edited(driver, text):
    return bool(item(driver, text).find_elements(By.CSS_SELECTOR, ".text .edited"))


def in_view(driver, li):
    return driver.execute_script("""
        const r = arguments[0].getBoundingClientRect(), s = document.getElementById('scroller').getBoundingClientRect();
        return r.top >= s.top - 1 && r.bottom <= s.bottom + 1;""", li)


def tombstone(driver, message_id, seconds=5):
    # Read at once: a pushed deletion may paint the item again between two WebDriver calls.
    def seen(d):
        return d.execute_script("""
            const li = document.querySelector(`#messages li.msg.deleted[data-id="${arguments[0]}"]`);
            const mark = li && li.querySelector('.tombstone');
            return mark ? [mark.textContent, li.querySelectorAll('.text, .reactions, .tools').length] : null;""",
            str(message_id))
    wait(driver, seconds).until(seen)
    text, others = seen(driver)
    assert text == "message deleted", text
    assert others == 0, "a tombstone has no text, chips or actions"


def reopen(driver, room, xpath):
    """Reloads the page and opens the room, older pages until `xpath` shows: what history says."""
    driver.refresh()
    wait(driver).until(lambda d: by_id(d, "chat").is_displayed())
    room_button(driver, room).click()
    for _ in range(5):
        wait(driver).until(lambda d: d.find_elements(By.XPATH, xpath) or by_id(d, "older").is_displayed())
        if driver.find_elements(By.XPATH, xpath):
            return
        driver.execute_script("const b = document.getElementById('older'); if (!b.hidden) b.click()")
        wait(driver).until(lambda d: by_id(d, "older").get_attribute("aria-busy") is None)
    wait(driver).until(lambda d: d.find_elements(By.XPATH, xpath))


def history(user, room):
    r = requests.get(f"{API}/chat/messages/{room}/", params={"user_id": user, "limit": 200}, timeout=10)
    return r.json()["data"]["messages"]


def lifecycle():
    amy, ben, a, b, room, room_id = two_in_a_room("amy", "ben", "lunch")
    amy_id, ben_id = user_id(a), user_id(b)

    # Retry-safe: the answer to Amy's send is lost; the client tries again with the same key.
    amy.execute_script(LOSE_FIRST_ANSWER)
    fill(amy, "send-text", "Lunch at noon?", enter=True)
    message_shown(amy, "Lunch at noon?")
    wait(amy).until(lambda d: len(d.execute_script("return window.sendKeys")) >= 2
                    and not d.find_elements(By.CSS_SELECTOR, "#messages li.pending"))
    keys = amy.execute_script("window.fetch = window.realFetch; return window.sendKeys")
    assert len(keys) == 2 and keys[0] == keys[1] and KEY.fullmatch(keys[0] or ""), f"the send's keys: {keys}"
    message_shown(ben, "Lunch at noon?", seconds=3)
    assert [m["text"] for m in history(amy_id, room_id)] == ["Lunch at noon?"], history(amy_id, room_id)
    assert messages_count(amy) == 1 and messages_count(ben) == 1, "shown once"
    first_id = item(amy, "Lunch at noon?").get_attribute("data-id")

    # The keyboard: Tab from the messages reaches the message's toolbar (one stop), the arrows
    # move along it; Edit opens the editor, Escape closes it and gives focus back.
    amy.execute_script("document.getElementById('scroller').focus()")
    amy.switch_to.active_element.send_keys(Keys.TAB)
    focused = amy.switch_to.active_element
    assert focused.get_attribute("data-act") == "reply" and focused.is_displayed(), "Tab reaches the toolbar"
    assert focused.value_of_css_property("outline-style") != "none", "with a visible focus"
    focused.send_keys(Keys.ARROW_RIGHT + Keys.ARROW_RIGHT)
    assert amy.switch_to.active_element.get_attribute("data-act") == "edit"
    amy.switch_to.active_element.send_keys(Keys.ENTER)
    area = wait(amy).until(lambda d: by_message_id(d, first_id).find_element(By.CSS_SELECTOR, ".edit textarea"))
    assert amy.switch_to.active_element == area and area.get_attribute("value") == "Lunch at noon?"
    area.send_keys(" or later", Keys.ESCAPE)
    message_shown(amy, "Lunch at noon?")
    assert not amy.find_elements(By.CSS_SELECTOR, ".edit") and not edited(amy, "Lunch at noon?"), "Escape cancels"
    assert amy.switch_to.active_element.get_attribute("data-act") == "edit", "focus back on Edit"

    # An edit: "(edited)" for both, live.
    li = act(amy, "Lunch at noon?", "edit")
    area = li.find_element(By.CSS_SELECTOR, ".edit textarea")
    area.clear()
    area.send_keys("Lunch at 1pm?", Keys.ENTER)
    message_shown(amy, "Lunch at 1pm?")
    assert edited(amy, "Lunch at 1pm?") and "(edited)" in item(amy, "Lunch at 1pm?").text
    message_shown(ben, "Lunch at 1pm?", seconds=3)
    assert edited(ben, "Lunch at 1pm?"), "Ben sees the edit live"

    # Ben replies: the quote bar (its x cancels), then the quote on the message, for both.
    act(ben, "Lunch at 1pm?", "reply")
    wait(ben).until(lambda d: by_id(d, "reply-bar").is_displayed())
    assert a in by_id(ben, "reply-bar").text and "Lunch at 1pm?" in by_id(ben, "reply-bar").text
    assert active_id(ben) == "send-text", "the composer takes focus"
    by_id(ben, "reply-cancel").click()
    wait(ben).until(lambda d: not by_id(d, "reply-bar").is_displayed())
    act(ben, "Lunch at 1pm?", "reply")
    fill(ben, "send-text", "Sounds good", enter=True)
    message_shown(ben, "Sounds good")
    assert not by_id(ben, "reply-bar").is_displayed(), "the quote bar goes with the send"
    assert quote_of(ben, "Sounds good") == (a, "Lunch at 1pm?"), quote_of(ben, "Sounds good")
    message_shown(amy, "Sounds good", seconds=3)
    assert quote_of(amy, "Sounds good") == (a, "Lunch at 1pm?")

    # Amy answers Ben's message after many others; a click on her quote brings it back in view.
    send_as(ben_id, room_id, [f"filler {i}" for i in range(40)])
    message_shown(amy, "filler 39", seconds=10)
    act(amy, "Sounds good", "reply")
    fill(amy, "send-text", "Great, see you there", enter=True)
    message_shown(amy, "Great, see you there")
    assert quote_of(amy, "Great, see you there") == (b, "Sounds good")
    wait(amy).until(lambda d: not in_view(d, item(d, "Sounds good")))
    item(amy, "Great, see you there").find_element(By.CSS_SELECTOR, ".quote").click()
    target = item(amy, "Sounds good")
    wait(amy).until(lambda d: in_view(d, target) and "flash" in target.get_attribute("class"))
    assert amy.switch_to.active_element == target, "the quoted message takes focus"

    # Reactions: Amy's thumbs up (hers pressed, Ben's view not), Ben's too (2), Amy takes hers
    # back (1); a party popper added and taken back leaves no chip.
    pick(amy, "Sounds good", "👍")
    chips_are(amy, "Sounds good", {"👍": [1, True, "👍 1, you reacted"]})
    chips_are(ben, "Sounds good", {"👍": [1, False, "👍 1"]})
    chip(ben, "Sounds good", "👍").click()
    chips_are(ben, "Sounds good", {"👍": [2, True, "👍 2, you reacted"]})
    chips_are(amy, "Sounds good", {"👍": [2, True, "👍 2, you reacted"]})
    chip(amy, "Sounds good", "👍").click()
    chips_are(amy, "Sounds good", {"👍": [1, False, "👍 1"]})
    chips_are(ben, "Sounds good", {"👍": [1, True, "👍 1, you reacted"]})
    pick(amy, "Sounds good", "🎉")
    chips_are(amy, "Sounds good", {"👍": [1, False, "👍 1"], "🎉": [1, True, "🎉 1, you reacted"]})
    chips_are(ben, "Sounds good", {"👍": [1, True, "👍 1, you reacted"], "🎉": [1, False, "🎉 1"]})
    chip(amy, "Sounds good", "🎉").click()
    chips_are(amy, "Sounds good", {"👍": [1, False, "👍 1"]})
    chips_are(ben, "Sounds good", {"👍": [1, True, "👍 1, you reacted"]})

    # axe-core on all of it: quotes, "(edited)", chips, a toolbar, the quote bar; light and dark.
    act(amy, "Sounds good", "reply")
    ActionChains(amy).move_to_element(item(amy, "Sounds good")).perform()
    audit(amy, "a conversation with replies, an edit and reactions")
    dark(amy, True)
    audit(amy, "the same in the dark theme")
    act(amy, "Sounds good", "react")
    audit(amy, "the reaction palette in the dark theme")
    dark(amy, False)
    amy.switch_to.active_element.send_keys(Keys.ESCAPE)
    assert amy.switch_to.active_element.get_attribute("data-act") == "react", "Escape closes the palette"
    by_id(amy, "reply-cancel").click()

    # What history says after a reload: the edit, the quote, Ben's own reaction pressed.
    reopen(ben, room, message_xpath("Lunch at 1pm?"))
    assert edited(ben, "Lunch at 1pm?"), "(edited) after a reload"
    assert quote_of(ben, "Sounds good") == (a, "Lunch at 1pm?")
    assert quote_of(ben, "Great, see you there") == (b, "Sounds good")
    chips_are(ben, "Sounds good", {"👍": [1, True, "👍 1, you reacted"]})

    # A deletion asks first (Cancel keeps it); then a tombstone for both, and the quote of it.
    act(amy, "Lunch at 1pm?", "delete")
    wait(amy).until(lambda d: by_id(d, "delete-dialog").get_attribute("open") is not None)
    assert "Lunch at 1pm?" in by_id(amy, "delete-preview").text
    audit(amy, "the delete dialog")
    by_id(amy, "delete-dialog").find_element(By.CSS_SELECTOR, ".cancel").click()
    wait(amy).until(lambda d: by_id(d, "delete-dialog").get_attribute("open") is None)
    message_shown(amy, "Lunch at 1pm?")
    wait(amy).until(lambda d: d.switch_to.active_element.get_attribute("data-act") == "delete")  # focus back
    act(amy, "Lunch at 1pm?", "delete")
    wait(amy).until(lambda d: by_id(d, "delete-dialog").get_attribute("open") is not None)
    by_id(amy, "delete-form").find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(amy).until(lambda d: by_id(d, "delete-dialog").get_attribute("open") is None)
    tombstone(amy, first_id)
    tombstone(ben, first_id, seconds=3)
    for driver in (amy, ben):
        wait(driver, 3).until(lambda d: quote_of(d, "Sounds good") == (a, "message deleted"))
    reopen(ben, room, f"//ol[@id='messages']/li[@data-id='{first_id}']")
    tombstone(ben, first_id)
    assert quote_of(ben, "Sounds good") == (a, "message deleted")
    stored = [m for m in history(amy_id, room_id) if str(m["id"]) == first_id]
    assert stored and stored[0]["deleted"] and stored[0]["text"] == "", stored
    for name in ("amy", "ben"):
        browsers.pop(name).quit()
