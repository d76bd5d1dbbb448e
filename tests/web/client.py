"""The browser client at GET / in a real browser: headless Chromium through its WebDriver
(Debian's chromium and chromium-driver), driven by Selenium. Two browser sessions chat as two
users over live push (the WebSocket); then a direct message, older pages, an error shown, the
fall back to long polling while the WebSocket API is down and the way back, the narrow layout,
and token mode's sign-in. Run by scripts/test (needs API_URL, TOKEN_API_URL, RUN (the stack's
folder, whose start-gateway restarts the local WebSocket API) and WEB_SHOTS, the folder for
screenshots: every browser's on failure, and conversation.png, the README's picture).
"""

import os
import shutil
import signal
import subprocess
import sys
import time
import traceback
import uuid

import requests
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

API = os.environ["API_URL"]
TOKEN_API = os.environ["TOKEN_API_URL"]
SHOTS = os.environ["WEB_SHOTS"]
RUN = os.environ["RUN"]
browsers = {}


def browser(name, width=1000, height=760, phone=False):
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={width},{height}", "--lang=en-US"):
        options.add_argument(arg)
    if phone:
        # A desktop window cannot be this narrow: a phone's viewport, as Chromium's device mode makes it.
        options.add_experimental_option("mobileEmulation", {"deviceMetrics": {"width": width, "height": height, "pixelRatio": 2}})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
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


def message_shown(driver, text, seconds=10):
    """Waits until a stored (not pending) message with this text is in the open room."""
    xpath = f"//ol[@id='messages']/li[not(contains(@class,'pending'))]/span[@class='text' and text()={xpath_literal(text)}]"
    wait(driver, seconds).until(ec.presence_of_element_located((By.XPATH, xpath)))


def xpath_literal(text):
    return f"'{text}'" if "'" not in text else f'"{text}"'


def room_button(driver, name, seconds=10):
    xpath = f"//ul[@id='rooms']//button[span[1][text()={xpath_literal(name)}]]"
    return wait(driver, seconds).until(ec.element_to_be_clickable((By.XPATH, xpath)))


def error_shown(driver, fragment):
    wait(driver).until(lambda d: by_id(d, "error").is_displayed() and fragment in by_id(d, "error").text)


def sign_up(driver, base, username):
    driver.get(base + "/")
    fill(driver, "sign-up-username", username)
    fill(driver, "sign-up-password", "Passw0rd!", enter=True)
    wait(driver).until(lambda d: by_id(d, "chat").is_displayed())


def transport_is(driver, live, seconds=10):
    """Waits until the page says how messages arrive: live (the WebSocket) or polling."""
    wanted = "true" if live else "false"
    wait(driver, seconds).until(lambda d: by_id(d, "transport").get_attribute("data-live") == wanted)


def conversation():
    a, b = unique("ann"), unique("bob")
    first, second = browser("first"), browser("second")
    sign_up(first, API, a)
    sign_up(second, API, b)
    transport_is(first, live=True)
    transport_is(second, live=True)

    # Ann starts a room with Bob and writes; Bob sees it come without reloading, and answers.
    room = unique("family")
    fill(first, "create-name", room)
    fill(first, "create-members", b, enter=True)
    wait(first).until(lambda d: by_id(d, "room-title").text == room)
    fill(first, "send-text", "Hello Bob, this is Ann", enter=True)
    message_shown(first, "Hello Bob, this is Ann")
    started = time.monotonic()
    room_button(second, room, seconds=3).click()
    message_shown(second, "Hello Bob, this is Ann", seconds=3)
    assert time.monotonic() - started < 3, "Bob saw the message within 3 s"
    fill(second, "send-text", "Hi Ann! Got it.", enter=True)
    message_shown(second, "Hi Ann! Got it.")
    message_shown(first, "Hi Ann! Got it.", seconds=3)
    # Ann's open room shows it at once; an unseen count shows on a room that is not open.
    side = unique("side")
    fill(second, "create-name", side)
    fill(second, "create-members", a, enter=True)
    wait(second).until(lambda d: by_id(d, "room-title").text == side)
    fill(second, "send-text", "over here too", enter=True)
    count = "//ul[@id='rooms']//span[@class='count' and text()='1']"
    wait(first, 5).until(lambda d: d.find_elements(By.XPATH, count))
    time.sleep(1.5)  # later polls may answer the same message until the read position moved
    assert first.find_elements(By.XPATH, count), "one unseen message counts once"
    first.save_screenshot(os.path.join(SHOTS, "conversation.png"))

    # A direct message: Ann writes to Bob by username, Bob finds the pair's room with it.
    fill(first, "direct-user", b)
    fill(first, "direct-text", "a word in private", enter=True)
    message_shown(first, "a word in private")
    room_button(second, f"{a} - {b}", seconds=5).click()
    message_shown(second, "a word in private", seconds=3)

    # Older pages: the room gets 25 more messages; Bob opens it and loads the older ones.
    ann = requests.get(f"{API}/users/", params={"username": a}, timeout=10).json()[0]["id"]
    rooms = requests.get(f"{API}/chat/chatroom/", params={"user_id": ann}, timeout=10).json()["data"]
    room_id = next(r["id"] for r in rooms if r["room_name"] == room)
    tasks = [requests.post(f"{API}/chat/group/{room_id}/", json={"from": ann, "text": f"filler {i}"}, timeout=10).json()["data"]
             for i in range(25)]
    for task in tasks:
        for _ in range(300):
            if requests.get(f"{API}/chat/task_state/{task}", timeout=10).json()["state"] != "PENDING":
                break
            time.sleep(0.1)
    room_button(second, room).click()
    message_shown(second, "filler 24")
    assert not second.find_elements(By.XPATH, "//ol[@id='messages']//span[text()='Hello Bob, this is Ann']")
    # The button shows once the history page answered (a pushed frame may show "filler 24" first).
    wait(second).until(lambda d: by_id(d, "older").is_displayed())
    by_id(second, "older").click()
    message_shown(second, "Hello Bob, this is Ann")

    # Every API error is shown: joining a room that does not exist.
    fill(second, "join-id", "999999999", enter=True)
    error_shown(second, "does not exist")


def fallback_to_polling():
    """The WebSocket API goes down: both pages fall back to long polling and still chat (a new
    direct room's first message included); it comes back: both are live again."""
    c, d = unique("cat"), unique("dan")
    one, two = browser("one"), browser("two")
    sign_up(one, API, c)
    sign_up(two, API, d)
    room = unique("outage")
    fill(one, "create-name", room)
    fill(one, "create-members", d, enter=True)
    wait(one).until(lambda drv: by_id(drv, "room-title").text == room)
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
        fill(one, "direct-user", d)
        fill(one, "direct-text", "a new conversation while polling", enter=True)
        room_button(two, f"{c} - {d}", seconds=3).click()
        message_shown(two, "a new conversation while polling", seconds=3)
    finally:
        subprocess.run([os.path.join(RUN, "start-gateway")], check=True)
    # Tries again after 1, 2, 4, 8 ... s: back within 20 s.
    transport_is(one, live=True, seconds=20)
    transport_is(two, live=True, seconds=20)
    fill(two, "send-text", "and live again", enter=True)
    message_shown(one, "and live again", seconds=3)


def narrow_layout():
    phone = browser("phone", width=360, height=740, phone=True)
    sign_up(phone, API, unique("small"))
    viewport, width = phone.execute_script("return [innerWidth, document.documentElement.scrollWidth]")
    assert viewport == 360 and width <= 360, f"the page is {width} px wide in a {viewport} px viewport"
    # Keyboard only: Tab reaches the room form's field and Enter submits it.
    by_id(phone, "create-name").send_keys(unique("kbd") + Keys.TAB + Keys.ENTER)
    wait(phone).until(lambda d: by_id(d, "room-head").is_displayed())


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
    fill(signer, "sign-in-username", name)
    fill(signer, "sign-in-password", "wrong", enter=True)
    error_shown(signer, "No active account found with the given credentials")
    fill(signer, "sign-in-password", "Passw0rd!", enter=True)
    wait(signer).until(lambda d: by_id(d, "chat").is_displayed())
    transport_is(signer, live=True)
    tok_room = unique("tokroom")
    fill(signer, "create-name", tok_room, enter=True)
    wait(signer).until(lambda d: by_id(d, "room-title").text == tok_room)
    fill(signer, "send-text", "sent with a token", enter=True)
    message_shown(signer, "sent with a token")


def main():
    os.makedirs(SHOTS, exist_ok=True)
    steps = [conversation, fallback_to_polling, narrow_layout, pick_a_user, token_mode]
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
