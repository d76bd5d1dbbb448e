// Room settings (docs/API.md, "Rooms with owners"): a dialog from the room's head for its owner
// and admins, to rename the room, set its topic and make it public or private
// (`PATCH /chat/chatroom/{id}/`, only what changed).
import { $, api, asMe, onSubmit, state } from "./api.js";
import { addRoom } from "./rooms.js";

const box = $("settings-dialog");
const choice = (value) => box.querySelector(`input[name=settings-visibility][value=${value}]`);

$("settings-button").addEventListener("click", () => {
  const entry = state.rooms.get(state.room);
  if (!entry) return;
  const room = entry.room;
  box.dataset.room = room.id;
  $("settings-form").reset();
  $("settings-error").hidden = true;
  $("settings-name").value = room.room_name;
  $("settings-topic").value = room.topic || "";
  choice(room.visibility === "private" ? "private" : "public").checked = true;
  box.showModal();
});

onSubmit("settings-form", async () => {
  const id = Number(box.dataset.room), entry = state.rooms.get(id);
  if (!entry) return box.close();
  const room = entry.room, body = {};
  const name = $("settings-name").value.trim(), topic = $("settings-topic").value.trim();
  const visibility = box.querySelector("input[name=settings-visibility]:checked").value;
  if (name !== room.room_name) body.room_name = name;
  if (topic !== (room.topic || "")) body.topic = topic;
  if (visibility !== (room.visibility || "public")) body.visibility = visibility;
  if (Object.keys(body).length) {
    const { json } = await api("PATCH", asMe(`/chat/chatroom/${id}/`), body);
    addRoom(json.data);
  }
  box.close();
});

box.querySelector(".cancel").addEventListener("click", () => box.close());
box.addEventListener("close", () => {
  delete box.dataset.room;
  const back = $("settings-button");
  if (!back.hidden && back.isConnected && !$("room-head").hidden) back.focus();
});
