"""Helpers of the browser test (client.py): headless Chromium through its WebDriver (Debian's
chromium and chromium-driver) driven by Selenium, the page's controls by id, and the axe-core
accessibility audit (AXE_JS: axe.min.js of the npm package that scripts/test installs)."""

import json
import os
import shutil
import time
import uuid

import requests

from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

SHOTS = os.environ["WEB_SHOTS"]
API = os.environ["API_URL"]
browsers = {}
_axe_source = None


def browser(name, width=1200, height=760, phone=False):
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={width},{height}", "--lang=en-US", "--hide-scrollbars"):
        options.add_argument(arg)
    if phone:
        # A desktop window cannot be this narrow: a phone's viewport, as Chromium's device mode makes it.
        options.add_experimental_option("mobileEmulation", {"deviceMetrics": {"width": width, "height": height, "pixelRatio": 2}})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    if not phone:
        # The window's inner size, whatever the headless window's frame takes.
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
    browsers[name] = driver
    return driver


def unique(prefix):
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def wait(driver, seconds=10):
    return WebDriverWait(driver, seconds, poll_frequency=0.05)


def by_id(driver, element_id):
    return driver.find_element(By.ID, element_id)


def fill(driver, element_id, text, enter=False):
    # A pushed message can show in a room before the room's history answered and showed its
    # form: wait until the field can be typed in.
    field = wait(driver).until(ec.element_to_be_clickable((By.ID, element_id)))
    field.clear()
    field.send_keys(text + (Keys.ENTER if enter else ""))


def xpath_literal(text):
    return f"'{text}'" if "'" not in text else f'"{text}"'


def message_xpath(text):
    """A stored (not pending) message with this text in the open room."""
    return (f"//ol[@id='messages']/li[contains(@class,'msg') and not(contains(@class,'pending'))]"
            f"//p[@class='text' and text()={xpath_literal(text)}]")


def message_shown(driver, text, seconds=10):
    wait(driver, seconds).until(ec.presence_of_element_located((By.XPATH, message_xpath(text))))


def messages_count(driver):
    return len(driver.find_elements(By.CSS_SELECTOR, "#messages li.msg"))


def room_button(driver, label, seconds=10):
    """The room list's entry shown as `label` (a room's name, or a direct room's other person)."""
    xpath = f"//ul[@id='rooms']//button[.//span[@class='name' and text()={xpath_literal(label)}]]"
    return wait(driver, seconds).until(ec.element_to_be_clickable((By.XPATH, xpath)))


def room_labels(driver):
    # In one script: the list re-renders as messages, edits and memberships arrive, so element
    # handles taken one by one can go stale between the lookup and the read.
    return driver.execute_script("return [...document.querySelectorAll('#rooms .name')].map(e => e.innerText)")


def error_shown(driver, fragment, element_id="error"):
    wait(driver).until(lambda d: by_id(d, element_id).is_displayed() and fragment in by_id(d, element_id).text)


def sign_up(driver, base, username):
    driver.get(base + "/")
    fill(driver, "sign-up-username", username)
    fill(driver, "sign-up-password", "Passw0rd!", enter=True)
    wait(driver).until(lambda d: by_id(d, "chat").is_displayed())


def transport_is(driver, live, seconds=10):
    """Waits until the page says how messages arrive: live (the WebSocket) or polling."""
    wanted = "true" if live else "false"
    wait(driver, seconds).until(lambda d: by_id(d, "transport").get_attribute("data-live") == wanted)


def open_dialog(driver, item):
    """Opens one of the "+" menu's dialogs (item: menu-create, menu-join, menu-direct)."""
    by_id(driver, "menu-button").click()
    wait(driver).until(lambda d: by_id(d, item).is_displayed())
    by_id(driver, item).click()
    dialog = item.replace("menu-", "") + "-dialog"
    wait(driver).until(lambda d: by_id(d, dialog).get_attribute("open") is not None)
    return dialog


def create_room(driver, name, members=""):
    open_dialog(driver, "menu-create")
    fill(driver, "create-name", name)
    fill(driver, "create-members", members, enter=True)
    wait(driver).until(lambda d: by_id(d, "room-title").text == name)
    assert by_id(driver, "create-dialog").get_attribute("open") is None, "the dialog closes once the room is made"


def direct_message(driver, username, text):
    open_dialog(driver, "menu-direct")
    fill(driver, "direct-user", username)
    fill(driver, "direct-text", text)
    by_id(driver, "direct-form").find_element(By.CSS_SELECTOR, "button[type=submit]").click()


def active_id(driver):
    return driver.execute_script("const e = document.activeElement; return e ? e.id || e.className || e.tagName : null")


def dark(driver, on):
    """The system's colour scheme as the page sees it (prefers-color-scheme)."""
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {
        "features": [{"name": "prefers-color-scheme", "value": "dark" if on else "light"}]})


def no_horizontal_scroll(driver, where):
    """Neither the page nor any scrolling box in it (the room list, the messages) scrolls sideways."""
    viewport, width, boxes = driver.execute_script("""
        const sideways = [...document.querySelectorAll("*")].filter((e) =>
            ["auto", "scroll"].includes(getComputedStyle(e).overflowX) && e.scrollWidth > e.clientWidth + 1);
        return [innerWidth, Math.max(document.documentElement.scrollWidth, document.body.scrollWidth),
                sideways.map((e) => e.id || e.className)];""")
    assert width <= viewport, f"{where}: the page is {width} px wide in a {viewport} px viewport"
    assert not boxes, f"{where}: {boxes} scroll sideways"


def audit(driver, where):
    """axe-core on the page as it is: no violation of impact serious or critical."""
    global _axe_source
    if _axe_source is None:
        with open(os.environ["AXE_JS"], encoding="utf-8") as f:
            _axe_source = f.read()
    if not driver.execute_script("return typeof window.axe === 'object'"):
        driver.execute_script(_axe_source)
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then((r) => done(JSON.stringify(r.violations)), (e) => done(JSON.stringify({error: String(e)})));")
    violations = json.loads(result)
    assert isinstance(violations, list), f"axe-core failed on {where}: {violations}"
    bad = [v for v in violations if v.get("impact") in ("serious", "critical")]
    summary = "; ".join(f"{v['id']} ({v['impact']}): {v['help']} at "
                        f"{[n['target'] for n in v['nodes']][:3]}" for v in bad)
    assert not bad, f"axe-core on {where}: {summary}"
    return len(violations)


def shot(driver, name):
    # The pointer on the room's head, so no room or message shows its hover colour.
    if by_id(driver, "room-members").is_displayed():
        ActionChains(driver).move_to_element(by_id(driver, "room-members")).perform()
    driver.save_screenshot(os.path.join(SHOTS, name))


# ---------------------------------------------------------------- the API itself (none mode)

def user_id(username):
    return requests.get(f"{API}/users/", params={"username": username}, timeout=10).json()[0]["id"]


def post_message(sender, room_id, text):
    """One send through the API: its task id. Over the send limit (a 429), it waits as long as
    Retry-After says and sends again."""
    for _ in range(30):
        r = requests.post(f"{API}/chat/group/{room_id}/", json={"from": sender, "text": text}, timeout=10)
        if r.status_code != 429:
            assert r.status_code == 202, f"send: {r.status_code} {r.text}"
            return r.json()["data"]
        time.sleep(float(r.headers.get("retry-after") or 1))
    raise AssertionError(f"send: still over the send limit: {r.text}")


def send_as(sender, room_id, texts):
    """Messages sent through the API, waited for until each is stored."""
    tasks = [post_message(sender, room_id, t) for t in texts]
    for task in tasks:
        for _ in range(300):
            if requests.get(f"{API}/chat/task_state/{task}", timeout=10).json()["state"] != "PENDING":
                break
            time.sleep(0.1)


def room_id_of(user, name):
    rooms = requests.get(f"{API}/chat/chatroom/", params={"user_id": user}, timeout=10).json()["data"]
    return next(r["id"] for r in rooms if r["room_name"] == name)


def two_in_a_room(first, second, topic, others=()):
    """Two new users, each signed up in a browser of their own with live push, in a new room
    the first one made (with `others`, usernames, beside the second), open in the second's
    browser: (first's driver, second's driver, first's name, second's name, room name, room id)."""
    a, b = unique(first), unique(second)
    one, two = browser(first), browser(second)
    sign_up(one, API, a)
    sign_up(two, API, b)
    transport_is(one, live=True)
    transport_is(two, live=True)
    room = unique(topic)
    create_room(one, room, ", ".join([b, *others]))
    room_button(two, room, seconds=5).click()
    wait(two).until(lambda d: by_id(d, "room-title").text == room)
    return one, two, a, b, room, room_id_of(user_id(a), room)
