// Files of messages (docs/API.md, "Attachments"). The attach button, or files dropped on the
// conversation, put them above the composer, each uploading at once (an upload URL from the
// API, then the bytes straight to the file store, with their progress) until a send takes their
// ids; a file the API would refuse (too large, empty, of another type, or badly named) is
// explained at once, before any request. And a message's files as shown: images inline (a click
// opens the full image in a new tab), other files as a link that downloads them, with their size.
import { $, api, asMe, state } from "./api.js";

// What the API takes.
const MAX_BYTES = 25 * 1024 * 1024, MAX_FILES = 10, MAX_NAME = 255;
const TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain", "application/zip"];
const KINDS = "images (PNG, JPEG, GIF, WebP), PDF, plain text and ZIP files";
// Types some browsers give under another name, and by extension where they give none.
const ALIASES = { "image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "application/x-zip-compressed": "application/zip" };
const BY_EXTENSION = {
  png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", gif: "image/gif", webp: "image/webp",
  pdf: "application/pdf", txt: "text/plain", zip: "application/zip",
};
// The box an image is shown in, at most (its proportions kept).
const IMAGE_WIDTH = 320, IMAGE_HEIGHT = 240;

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

// "512 bytes", "1.5 KB", "12 KB", "3.4 MB" (of 1,024 bytes a KB, as the 25 MB limit counts).
export function humanSize(bytes) {
  if (bytes < 1024) return `${bytes} byte${bytes === 1 ? "" : "s"}`;
  const [value, unit] = bytes < 1024 * 1024 ? [bytes / 1024, "KB"] : [bytes / (1024 * 1024), "MB"];
  return `${value < 10 ? Math.round(value * 10) / 10 : Math.round(value)} ${unit}`;
}

// ---------------------------------------------------------------- choosing and uploading

// Files above the composer, every room's (the open room's shown): { room, file, attachment,
// id (once the API gave one), state (uploading, done, failed or removed), error, xhr, done (a
// promise, never rejected, settled when the upload ended either way), chip }.
const uploads = [];
const forRoom = (room) => uploads.filter((u) => u.room === room);

function typeOf(file) {
  const given = (file.type || "").toLowerCase();
  if (given) return ALIASES[given] || given;
  const dot = file.name.lastIndexOf(".");
  return (dot > 0 && BY_EXTENSION[file.name.slice(dot + 1).toLowerCase()]) || "";
}

// Why the API would refuse the file, in words; null when it would take it.
function refusal(file, type) {
  const name = `“${file.name}”`;
  if (file.size > MAX_BYTES) return `${name} is ${humanSize(file.size)}: files of at most 25 MB can be sent.`;
  if (!file.size) return `${name} is empty.`;
  if (!TYPES.includes(type)) return `${name} cannot be sent: only ${KINDS} can.`;
  if ([...file.name].length > MAX_NAME) return `${name} has too long a name (at most ${MAX_NAME} characters).`;
  if (/[/\\\p{Cc}]/u.test(file.name)) return `${name} cannot be sent under this name (no /, \\ or control characters).`;
  return null;
}

// Files chosen for the open room: each uploads at once, or is explained and left out.
export function attach(files) {
  const room = state.room;
  if (room === null) return;
  const refused = [];
  for (const file of files) {
    const type = typeOf(file), why = refusal(file, type);
    if (why) refused.push(why);
    else if (forRoom(room).length >= MAX_FILES) refused.push(`“${file.name}” is left out: at most ${MAX_FILES} files go in a message.`);
    else start(room, file, type);
  }
  explain(refused.join(" "));
  showFiles();
}

// Why files were left out, in the composer's alert (empty: none).
function explain(text) {
  $("attach-error").querySelector(".error-text").textContent = text;
  $("attach-error").hidden = !text;
}
$("attach-error-close").addEventListener("click", () => {
  explain("");
  $("send-text").focus();
});

function start(room, file, type) {
  const attachment = { filename: file.name, content_type: type, size: file.size, url: null };
  const u = { room, file, attachment, id: null, state: "uploading", error: null, xhr: null };
  u.chip = chip(u);
  uploads.push(u);
  u.done = upload(u).then(
    () => { if (u.state === "uploading") u.state = "done"; },
    (e) => { if (u.state === "uploading") Object.assign(u, { state: "failed", error: e.message }); },
  ).then(() => paintChip(u));
}

// An upload URL for exactly this file, then its bytes.
async function upload(u) {
  const { filename, content_type, size } = u.attachment;
  const { json } = await api("POST", asMe("/chat/attachments/"), { room: u.room, filename, content_type, size });
  if (u.state !== "uploading") return;
  u.id = json.data.id;
  await put(u, json.data.upload);
}

// The headers to send with the bytes: the upload's, but content-length and host (the browser
// sets them itself) and any the URL's signature does not cover (X-Amz-SignedHeaders): S3 needs
// none of those, and the bucket's CORS rules would refuse them.
function headersOf(target) {
  const signed = new URL(target.url).searchParams.get("X-Amz-SignedHeaders");
  const covered = signed ? signed.toLowerCase().split(";") : null;
  return Object.entries(target.headers || {}).filter(([name]) =>
    !/^(content-length|host)$/i.test(name) && (!covered || covered.includes(name.toLowerCase())));
}

// The bytes: an XMLHttpRequest, whose upload reports its progress (fetch's does not).
function put(u, target) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    u.xhr = xhr;
    xhr.open(target.method || "PUT", target.url);
    for (const [name, value] of headersOf(target)) xhr.setRequestHeader(name, value);
    xhr.upload.addEventListener("progress", (event) => paintProgress(u, event.loaded));
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) return resolve();
      const said = /<Message>([^<]*)<\/Message>/.exec(xhr.responseText || "");
      reject(new Error(`the file store answered ${xhr.status}${said ? `: ${said[1]}` : ""}`));
    });
    xhr.addEventListener("error", () => reject(new Error("the file store cannot be reached")));
    xhr.addEventListener("abort", () => reject(new Error("cancelled")));
    xhr.send(u.file);
  });
}

// A file above the composer: its name, size, upload progress and a remove button.
function chip(u) {
  const { filename, size } = u.attachment;
  const li = el("li", "upload");
  const name = el("span", "name", filename);
  name.title = filename;
  const bar = el("progress");
  bar.max = size;
  bar.value = 0;
  bar.setAttribute("aria-label", `Uploading ${filename}`);
  const remove = el("button", "icon small", "×");
  remove.type = "button";
  remove.setAttribute("aria-label", `Remove ${filename}`);
  remove.title = "Remove";
  remove.addEventListener("click", () => drop(u));
  li.append(name, " ", el("span", "size", humanSize(size)), " ", bar, el("span", "why"), remove);
  paintChip(u, li);
  return li;
}

function paintProgress(u, loaded) {
  if (u.state === "uploading") u.chip.querySelector("progress").value = Math.min(loaded, u.attachment.size);
}

function paintChip(u, li = u.chip) {
  li.dataset.state = u.state;
  const bar = li.querySelector("progress");
  bar.hidden = u.state === "failed";
  if (u.state === "done") {
    bar.value = u.attachment.size;
    bar.setAttribute("aria-label", `${u.attachment.filename} uploaded`);
  }
  li.querySelector(".why").textContent = u.state === "failed" ? `Not uploaded: ${u.error}` : "";
}

// The remove button: the upload stops (a file uploaded but never sent the store deletes after
// a day); focus goes to the next file, else the composer.
function drop(u) {
  const shown = forRoom(u.room), at = shown.indexOf(u);
  uploads.splice(uploads.indexOf(u), 1);
  if (u.state === "uploading" && u.xhr) u.xhr.abort();
  u.state = "removed";
  showFiles();
  const next = shown[at + 1] || shown[at - 1];
  if (next) next.chip.querySelector("button").focus();
  else $("send-text").focus();
}

// The open room's files above the composer (the composer may then send no text).
function showFiles() {
  const mine = forRoom(state.room);
  $("uploads").replaceChildren(...mine.map((u) => u.chip));
  $("uploads").hidden = !mine.length;
  $("send-text").required = !mine.length;
}

// Another room opened (or none): its own files, kept while others were open; no refusal of
// another room's shown.
export function roomFiles() {
  explain("");
  showFiles();
}

// The room's files, once uploaded (waiting for those under way): what its next send carries.
// One whose upload failed stops the send, saying so.
export async function uploaded(room) {
  const mine = forRoom(room);
  await Promise.all(mine.map((u) => u.done));
  const kept = mine.filter((u) => u.state !== "removed");
  const failed = kept.find((u) => u.state === "failed");
  if (failed) throw new Error(`“${failed.attachment.filename}” was not uploaded (${failed.error}): remove it and attach it again.`);
  return kept;
}

// Files a send took: no longer above the composer.
export function sent(files) {
  for (const u of files) {
    const at = uploads.indexOf(u);
    if (at >= 0) uploads.splice(at, 1);
  }
  showFiles();
}

$("attach-button").addEventListener("click", () => $("attach-input").click());
$("attach-input").addEventListener("change", (event) => {
  attach([...event.target.files]);
  event.target.value = ""; // the same file may be chosen again
});

// Files dragged over the open room's conversation: a hint while they are over it, attached
// when dropped. Dropped anywhere else, a file is not opened in place of the page.
const zone = $("conversation");
const carriesFiles = (event) => Boolean(event.dataTransfer) && [...event.dataTransfer.types].includes("Files");
let depth = 0; // dragenter and dragleave come for each element inside too
function hint(on) {
  depth = on ? depth + 1 : on === false ? Math.max(0, depth - 1) : 0;
  $("drop-hint").hidden = depth === 0;
}
zone.addEventListener("dragenter", (event) => {
  if (!carriesFiles(event) || state.room === null) return;
  event.preventDefault();
  hint(true);
});
zone.addEventListener("dragleave", (event) => {
  if (carriesFiles(event) && depth) hint(false);
});
zone.addEventListener("drop", (event) => {
  if (!carriesFiles(event)) return;
  event.preventDefault();
  hint(null);
  if (state.room !== null) attach([...event.dataTransfer.files]);
});
window.addEventListener("dragover", (event) => {
  if (!carriesFiles(event)) return;
  event.preventDefault();
  event.dataTransfer.dropEffect = zone.contains(event.target) && state.room !== null ? "copy" : "none";
});
window.addEventListener("drop", (event) => {
  if (carriesFiles(event)) event.preventDefault();
  hint(null);
});

// ---------------------------------------------------------------- files in messages

// The size an image is shown at, by attachment id, once it loaded: painted again (a reaction,
// an edit), it takes its place at once.
const fitted = new Map();

// A message's files. One without a URL (being sent, or not signed for the reader) shows its
// name and size only.
export function filesOf(attachments) {
  const box = el("div", "files");
  for (const a of attachments) box.append(a.url && a.content_type.startsWith("image/") ? image(a) : file(a));
  return box;
}

// An image inline, at most 320 x 240, its proportions kept, loaded when near the view; a click
// opens it whole in a new tab. Once loaded, a `file-loaded` event bubbles up from it (the
// conversation keeps its newest message in view).
function image(a) {
  const link = el("a", "file-image");
  link.href = a.url;
  link.target = "_blank";
  link.rel = "noopener noreferrer";
  link.title = `${a.filename}, ${humanSize(a.size)}: open it in a new tab`;
  const img = el("img");
  img.alt = a.filename;
  img.loading = "lazy";
  img.decoding = "async";
  const size = fitted.get(a.id);
  if (size) [img.width, img.height] = size;
  else img.className = "loading";
  img.addEventListener("load", () => {
    const scale = Math.min(1, IMAGE_WIDTH / img.naturalWidth, IMAGE_HEIGHT / img.naturalHeight);
    const shown = [Math.max(1, Math.round(img.naturalWidth * scale)), Math.max(1, Math.round(img.naturalHeight * scale))];
    fitted.set(a.id, shown);
    [img.width, img.height] = shown;
    img.classList.remove("loading");
    img.dispatchEvent(new Event("file-loaded", { bubbles: true }));
  });
  img.src = a.url;
  link.append(img);
  return link;
}

// Another file: a link that downloads it (the store names it), with its size.
function file(a) {
  const box = el(a.url ? "a" : "span", "file-link");
  if (a.url) {
    box.href = a.url;
    box.download = a.filename;
    box.rel = "noopener noreferrer";
  }
  box.append(fileIcon(), el("span", "name", a.filename), " ", el("span", "size", humanSize(a.size)));
  return box;
}

function fileIcon() {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  const look = { viewBox: "0 0 24 24", width: "18", height: "18", "aria-hidden": "true", focusable: "false" };
  const line = { fill: "none", stroke: "currentColor", "stroke-width": "2", "stroke-linejoin": "round" };
  for (const [k, v] of Object.entries({ ...look, ...line })) svg.setAttribute(k, v);
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", "M6 2.5h8l5 5v14H6zM14 2.5v5h5");
  svg.append(path);
  return svg;
}
