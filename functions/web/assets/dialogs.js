// The "+" menu and its dialogs (native <dialog>): a new room with members, a topic, public or
// private; joining a room by id or from the list of public rooms; a direct message by username;
// whether to send read receipts (the reader's profile); and signing out.
import { $, api, asMe, clearError, fromMe, nextLink, onSubmit, send, showError, state } from "./api.js";
import { addRoom } from "./rooms.js";
import { follow, openRoom } from "./conversation.js";

const button = $("menu-button"), menu = $("menu");
const items = () => [...menu.querySelectorAll("button, input")];

function openMenu() {
  loadReceipts();
  menu.hidden = false;
  button.setAttribute("aria-expanded", "true");
  items()[0].focus();
}

function closeMenu(refocus) {
  if (menu.hidden) return;
  menu.hidden = true;
  button.setAttribute("aria-expanded", "false");
  if (refocus) button.focus();
}

button.addEventListener("click", () => (menu.hidden ? openMenu() : closeMenu(true)));
menu.addEventListener("keydown", (event) => {
  const all = items(), at = all.indexOf(document.activeElement);
  if (event.key === "Escape") closeMenu(true);
  else if (event.key === "ArrowDown") all[(at + 1) % all.length].focus();
  else if (event.key === "ArrowUp") all[(at - 1 + all.length) % all.length].focus();
  else if (event.key === "Home") all[0].focus();
  else if (event.key === "End") all[all.length - 1].focus();
  else return;
  event.preventDefault();
});
// Focus or a click elsewhere closes it.
menu.addEventListener("focusout", (event) => {
  if (!menu.contains(event.relatedTarget) && event.relatedTarget !== button) closeMenu(false);
});
document.addEventListener("click", (event) => {
  if (!menu.contains(event.target) && !button.contains(event.target)) closeMenu(false);
});

// Each menu item opens its dialog, its first field focused; closing it gives focus back.
function dialog(item, id, prepare) {
  const box = $(id);
  $(item).addEventListener("click", () => {
    closeMenu(false);
    box.querySelector("form").reset();
    box.querySelector("[role=alert]").hidden = true;
    if (prepare) prepare();
    box.showModal();
  });
  box.addEventListener("close", () => {
    if (!box.dataset.keepFocus) button.focus();
    delete box.dataset.keepFocus;
  });
  for (const cancel of box.querySelectorAll(".cancel")) cancel.addEventListener("click", () => box.close());
}

// Closes a dialog whose action is done, focus going where the action leads.
function done(id) {
  $(id).dataset.keepFocus = "1";
  $(id).close();
}

dialog("menu-create", "create-dialog");
dialog("menu-join", "join-dialog", () => loadPublic(null).catch(showError));
dialog("menu-direct", "direct-dialog", loadPeople);

onSubmit("create-form", async () => {
  const members = $("create-members").value.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);
  if (!members.includes(state.me.username)) members.unshift(state.me.username);
  const body = {
    room_name: $("create-name").value.trim(), room_member: members.map((username) => ({ username })),
    visibility: $("create-form").querySelector("input[name=create-visibility]:checked").value,
  };
  const topic = $("create-topic").value.trim();
  if (topic) body.topic = topic;
  // The acting user owns the room.
  const { json } = await api("POST", asMe("/chat/chatroom/"), body);
  addRoom(json.data);
  done("create-dialog");
  await openRoom(json.data.id);
});

onSubmit("join-form", async () => {
  const id = Number($("join-id").value.trim());
  if (!Number.isInteger(id) || id < 1) throw new Error("A room id is a positive whole number.");
  await join(id);
});

async function join(id) {
  await api("PUT", asMe(`/chat/chatroom/${id}/`));
  const { json } = await api("GET", asMe(`/chat/chatroom/${id}/`));
  addRoom(json.data);
  done("join-dialog");
  await openRoom(id);
}

// The public rooms (private ones are not listed) one is not in, a page at a time.
async function loadPublic(path) {
  const list = $("public-rooms");
  if (!path) list.replaceChildren();
  list.setAttribute("aria-busy", "true");
  $("public-more").hidden = true;
  try {
    const { json, link } = await api("GET", path || "/chat/chatroom/?limit=100");
    for (const room of json.data) {
      if (state.rooms.has(room.id)) continue;
      const item = document.createElement("li");
      item.className = "person";
      const who = document.createElement("span");
      who.className = "who";
      who.textContent = room.room_name;
      if (room.topic) {
        const topic = document.createElement("span");
        topic.className = "hint topic";
        topic.textContent = room.topic;
        who.append(topic);
      }
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = "Join";
      b.setAttribute("aria-label", `Join ${room.room_name}`);
      b.addEventListener("click", () => { clearError(); join(room.id).catch(showError); });
      item.append(who, b);
      list.append(item);
    }
    const next = nextLink(link);
    $("public-more").hidden = !next;
    $("public-more").onclick = () => loadPublic(next).catch(showError);
    $("public-empty").hidden = list.children.length > 0 || Boolean(next);
  } finally {
    list.removeAttribute("aria-busy");
  }
}

onSubmit("direct-form", async () => {
  const username = $("direct-user").value.trim(), text = $("direct-text").value;
  const { json: found } = await api("GET", `/users/?username=${encodeURIComponent(username)}`);
  if (!found.length) throw new Error(`There is no user ${username}.`);
  const { json } = await send(`/chat/user/${found[0].id}/`, fromMe({ text }));
  done("direct-dialog");
  // The pair's room when the list has it (the message shows pending there), else the room
  // opens when the first message is stored.
  const known = [...state.rooms.values()].find((e) => e.info.direct && e.info.person === username);
  if (known) await openRoom(known.room.id);
  follow(json.data, known ? known.room.id : null, text);
});

// Usernames to pick from in the direct message dialog (the first page of users).
let people = null;
async function loadPeople() {
  if (people) return;
  people = api("GET", "/users/?limit=100").then(({ json }) => {
    const options = json.filter((u) => u.username !== state.me.username).map((u) => {
      const option = document.createElement("option");
      option.value = u.username;
      return option;
    });
    $("people").replaceChildren(...options);
  }).catch(() => { people = null; });
}

// ---------------------------------------------------------------- read receipts

// "Send read receipts" is the reader's profile.read_receipts (on unless turned off: others then
// see how far they have read). Asked when the menu first opens; each change is a PATCH, one after
// another (the box is not disabled meanwhile: a disabled box would lose focus, closing the menu).
const receipts = $("read-receipts");
let profile = null, saving = Promise.resolve();

function loadReceipts() {
  if (profile) return;
  profile = api("GET", `/users/${state.me.id}/`).then(({ json }) => {
    receipts.checked = json.profile.read_receipts !== false;
    receipts.disabled = false;
  }).catch((e) => {
    profile = null;
    showError(e);
  });
}

receipts.addEventListener("change", () => {
  const on = receipts.checked;
  saving = saving.then(async () => {
    try {
      await api("PATCH", `/users/${state.me.id}/`, { profile: { read_receipts: on } });
    } catch (e) {
      if (receipts.checked === on) receipts.checked = !on;
      showError(e);
    }
  });
});

$("sign-out").addEventListener("click", () => {
  sessionStorage.clear();
  location.reload();
});
