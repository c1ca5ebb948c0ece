// Ordo planner board: plain JavaScript over the public API (HTTP Basic), no
// build step, no dependencies. docs/planning.md describes what it does.
"use strict";

const H0 = 6, H1 = 20;              // hours shown each day (tenant time)
const DAY_MIN = (H1 - H0) * 60;
const SNAP = 15;                    // minutes a drop snaps to
const POLL_MS = 15000;
const OPEN_SYSTEM = [               // statuses whose jobs wait to be planned
  "8ba9da71-ef32-423a-bb50-ae767315f55c", // Open
  "497acff2-9ff6-4c94-85dd-daa0689553e2", // ToBePlanned
  "8adbc894-d612-de11-bd84-0030488c6c36", // Pooling
  "143cf9cd-c3c1-406a-a19a-58d766d9dda9", // Suggested
  "69268600-d3e0-4222-859f-06e47cf4041e", // Waiting
  "eb014da9-5850-4e16-b1e9-527162f1a9e0", // DispatchRejected
];

const S = {
  auth: "", tz: "UTC", hours: null, userHours: {}, view: "day", day: null,
  techs: [], plannings: [], absences: [], jobs: [], statuses: {}, orgs: [], skills: [],
  selectedJob: null, selectedBlock: null, slots: [], drag: null, ppm: 1, dayW: 840,
};

const $ = (id) => document.getElementById(id);
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = text;
  return e;
}

// ---- API -------------------------------------------------------------------

class APIError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(method, path, body, headers) {
  const h = Object.assign({ Authorization: S.auth, Accept: "application/json" }, headers || {});
  if (body !== undefined) h["Content-Type"] = "application/json";
  // credentials "omit": the Authorization header is ours; the browser must
  // neither add its own nor open its password dialog on a 401.
  const r = await fetch(path, { method, headers: h, credentials: "omit", body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
  if (!r.ok) {
    const msg = data && data.error ? data.error.message : r.status + " " + r.statusText;
    throw new APIError(r.status, msg);
  }
  return data;
}

// all follows nextLink over every page of a list (at most max pages).
async function all(path, max) {
  let out = [], next = path;
  for (let i = 0; next && i < (max || 20); i++) {
    const d = await api("GET", next);
    out = out.concat(d.value || []);
    next = d["@odata.nextLink"] ? new URL(d["@odata.nextLink"]).pathname + new URL(d["@odata.nextLink"]).search : null;
  }
  return out;
}

const q = encodeURIComponent;

// ---- time in the tenant's zone --------------------------------------------

let fmt = null;
function setZone(tz) {
  S.tz = tz;
  fmt = new Intl.DateTimeFormat("en-US", { timeZone: tz, hourCycle: "h23", year: "numeric", month: "numeric",
    day: "numeric", hour: "numeric", minute: "numeric", weekday: "short" });
}
const WD = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };
function parts(ms) {
  const p = {};
  for (const x of fmt.formatToParts(new Date(ms))) p[x.type] = x.value;
  return { y: +p.year, m: +p.month, d: +p.day, h: +p.hour % 24, mi: +p.minute, wd: WD[p.weekday] };
}
function offset(ms) {
  const p = parts(ms);
  return Date.UTC(p.y, p.m - 1, p.d, p.h, p.mi) - Math.floor(ms / 60000) * 60000;
}
// zoned is the instant of a wall-clock time in the tenant's zone.
function zoned(day, minutes) {
  const guess = Date.UTC(day.y, day.m - 1, day.d, 0, minutes);
  let t = guess - offset(guess);
  const o2 = offset(t);
  if (guess - o2 !== t) t = guess - o2;
  return t;
}
function addDays(day, n) {
  const d = new Date(Date.UTC(day.y, day.m - 1, day.d + n));
  return { y: d.getUTCFullYear(), m: d.getUTCMonth() + 1, d: d.getUTCDate(), wd: d.getUTCDay() };
}
function sameDay(a, b) { return a.y === b.y && a.m === b.m && a.d === b.d; }
const pad = (n) => String(n).padStart(2, "0");
const dayLabel = (d) => `${["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][d.wd]} ${d.y}-${pad(d.m)}-${pad(d.d)}`;
function clock(ms) { const p = parts(ms); return pad(p.h) + ":" + pad(p.mi); }
const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

function days() {
  if (S.view === "day") return [S.day];
  const monday = addDays(S.day, -((S.day.wd + 6) % 7));
  return [0, 1, 2, 3, 4, 5, 6].map((i) => addDays(monday, i));
}
function range() {
  const ds = days();
  return [zoned(ds[0], 0), zoned(addDays(ds[ds.length - 1], 1), 0)];
}

// x of an instant on a lane; null when outside the days shown.
function xOf(ms, clampEnd) {
  const p = parts(ms), ds = days();
  const i = ds.findIndex((d) => sameDay(d, p));
  if (i < 0) return null;
  let m = p.h * 60 + p.mi - H0 * 60;
  if (clampEnd && m === -H0 * 60 && ms > zoned(ds[i], 0)) m = DAY_MIN; // midnight ends the day before
  m = Math.max(0, Math.min(DAY_MIN, m));
  return i * S.dayW + m * S.ppm;
}
// instant at x on a lane, snapped.
function timeAt(x) {
  const ds = days();
  const i = Math.max(0, Math.min(ds.length - 1, Math.floor(x / S.dayW)));
  let m = (x - i * S.dayW) / S.ppm;
  m = Math.max(0, Math.min(DAY_MIN, Math.round(m / SNAP) * SNAP));
  return zoned(ds[i], H0 * 60 + m);
}

// ---- sign-in ---------------------------------------------------------------

async function signIn(domain, user, password) {
  S.auth = "Basic " + btoa(unescape(encodeURIComponent(user + ":" + password + "@" + domain)));
  await loadSettings();
  sessionStorage.setItem("ordo-planner", JSON.stringify({ auth: S.auth, domain }));
  $("tenant").textContent = user + " @ " + domain;
  $("signin").hidden = true;
  $("app").hidden = false;
  await loadLookups();
  await load();
}

async function loadSettings() {
  const eff = await api("GET", "/api/PlanningSetting/Effective");
  const zero = "00000000-0000-0000-0000-000000000000";
  S.userHours = {};
  for (const v of eff.value) {
    if (v.user_id === zero) { setZone(v.time_zone); S.hours = v.hours; } else S.userHours[v.user_id] = v.hours;
  }
  if (!S.day) {
    const want = new URLSearchParams(location.search).get("date");
    const m = want && /^(\d{4})-(\d{2})-(\d{2})$/.exec(want);
    const p = parts(Date.now());
    S.day = addDays(m ? { y: +m[1], m: +m[2], d: +m[3] } : p, 0);
    const v = new URLSearchParams(location.search).get("view");
    if (v === "week" || v === "day") S.view = v;
    $("view").value = S.view;
  }
}

async function loadLookups() {
  const [st, orgs, skills] = await Promise.all([
    all("/api/JobStatus?$select=id,code,name,color_text,system_job_status_id"),
    all("/api/SalesOrganization?$select=id,name&$orderby=name"),
    all("/api/Skill?$select=id,name,code&$orderby=name"),
  ]);
  S.statuses = {};
  for (const s of st) S.statuses[s.id] = s;
  S.orgs = orgs; S.skills = skills;
  fillSelect($("filter-org"), orgs, "All sales organisations");
  fillSelect($("filter-skill"), skills, "All skills");
}

function fillSelect(sel, rows, first) {
  const cur = sel.value;
  sel.replaceChildren(new Option(first, ""));
  for (const r of rows) sel.add(new Option(r.name, r.id));
  sel.value = cur;
}

// ---- data ------------------------------------------------------------------

// load reloads the board's data; a call while a load runs makes it run once
// more, so the board always ends on the latest state.
let loading = null, again = false;
function load() {
  if (loading) { again = true; return loading; }
  loading = (async () => {
    do { again = false; await loadOnce(); } while (again);
    loading = null;
  })();
  return loading;
}

async function loadOnce() {
  try {
    const [from, to] = range();
    const win = `date_to gt ${iso(from)} and date_from lt ${iso(to)}`;
    const openIDs = Object.values(S.statuses).filter((s) => OPEN_SYSTEM.includes(s.system_job_status_id)).map((s) => `'${s.id}'`);
    const [techs, plannings, absences, jobs] = await Promise.all([
      all("/api/User?$filter=" + q("archived eq false and disabled eq false") + "&$select=id,firstname,lastname,code,sales_organization_id&$orderby=lastname,firstname"),
      all("/api/JobPlanning?$filter=" + q(win) + "&$expand=" + q("jobs($select=id,name,job_status_id,reference_back_office;$expand=company($select=name))"), 50),
      all("/api/UserUnavailability?$filter=" + q(`date_end gt ${iso(from)} and date_start lt ${iso(to)}`) + "&$select=id,user_id,date_start,date_end,is_approved,user_unavailability_type_code"),
      openIDs.length ? all("/api/Jobs?$filter=" + q(`job_status_id in (${openIDs.join(",")})`) +
        "&$select=id,name,reference_back_office,due_date,estimated_time,skill_id,skill_code,job_status_id&$expand=" +
        q("company($select=name,sales_organization_id)") + "&$orderby=due_date,id", 5) : [],
    ]);
    S.techs = techs; S.plannings = plannings; S.absences = absences; S.jobs = jobs;
    if (S.selectedJob && !jobs.some((j) => j.id === S.selectedJob)) { S.selectedJob = null; S.slots = []; }
    render();
  } catch (e) {
    report(e);
  }
}

function report(e, what) {
  const m = $("message");
  m.classList.remove("ok");
  if (e instanceof APIError && e.status === 409) m.textContent = (what || "Refused") + ": " + inWords(e.message);
  else if (e instanceof APIError && e.status === 412) m.textContent = "Someone changed this planning meanwhile; the board now shows the current state.";
  else if (e instanceof APIError && e.status === 401) { m.textContent = "Your session is no longer valid; sign in again."; signOut(); }
  else m.textContent = (what || "Error") + ": " + (e.message || e);
}
// inWords makes an API message readable on the board: names instead of
// ids, the tenant's clock instead of UTC timestamps.
function inWords(msg) {
  return msg
    .replace(/user ([0-9a-f-]{36})/g, (all, id) => {
      const u = S.techs.find((t) => t.id === id);
      return u ? [u.firstname, u.lastname].filter(Boolean).join(" ") : all;
    })
    .replace(/ of job ([0-9a-f-]{36})/g, (all, id) => {
      const p = S.plannings.find((x) => x.jobs_id === id);
      return p && p.jobs && p.jobs.name ? " of " + p.jobs.name : "";
    })
    .replace(/ \(?[0-9a-f]{8}-[0-9a-f-]{27}\)?/g, "")
    .replace(/(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)/g, (t) => {
      const p = parts(Date.parse(t));
      return `${pad(p.d)}/${pad(p.m)} ${pad(p.h)}:${pad(p.mi)}`;
    })
    .replace(/ \(send "force": true to book anyway\)/, "");
}

function ok(text) {
  const m = $("message");
  m.textContent = text;
  m.classList.add("ok");
}

// ---- rendering -------------------------------------------------------------

// SYSTEM_COLORS colour a status without color_text by its system status.
const SYSTEM_COLORS = {
  "10f456d2-000e-48ea-93d7-e016107b7a98": "#3b6fd1", // Planned
  "f79e58ee-ee04-4590-bcb1-49e8bd551659": "#d9822b", // InProgress
  "136e1585-dff6-4990-bfc6-dba958b71f30": "#b3562e", // WaitingFurtherAction
  "6557b9dc-6106-4327-8e26-6f24d0329c33": "#2e8b57", // Completed
  "06ea451c-5863-4c97-9592-cc928dfdf869": "#8a94a6", // Canceled
  "143cf9cd-c3c1-406a-a19a-58d766d9dda9": "#7b61c9", // Suggested
  "a60bc691-ab2f-42f5-8a5b-998a29a27537": "#1f8a9e", // Dispatched
};

function color(statusID) {
  const s = S.statuses[statusID];
  const c = s && s.color_text;
  if (c && CSS.supports("color", c)) return c;
  return (s && SYSTEM_COLORS[s.system_job_status_id]) || "#5b7bb5";
}

function render() {
  const ds = days();
  const avail = Math.max(300, $("grid").parentElement.clientWidth - 152);
  S.ppm = S.view === "day" ? Math.max(avail / DAY_MIN, 0.8) : Math.max(avail / (7 * DAY_MIN), 0.12);
  S.dayW = DAY_MIN * S.ppm;
  const laneW = S.dayW * ds.length;
  $("range").textContent = S.view === "day" ? dayLabel(ds[0]) : dayLabel(ds[0]) + " – " + dayLabel(ds[6]);
  const grid = $("grid");
  const frag = document.createDocumentFragment();
  // header
  const head = el("div", "row head");
  head.appendChild(el("div", "who", S.tz));
  const hl = el("div", "lane");
  hl.style.width = laneW + "px";
  ds.forEach((d, i) => {
    if (S.view === "week") {
      const t = el("div", "tick day", dayLabel(d).slice(0, 3) + " " + pad(d.d) + "/" + pad(d.m));
      t.style.left = i * S.dayW + "px";
      hl.appendChild(t);
      return;
    }
    for (let h = H0; h < H1; h++) {
      const t = el("div", "tick" + (h === H0 ? " day" : ""), pad(h) + ":00");
      t.style.left = i * S.dayW + (h - H0) * 60 * S.ppm + "px";
      hl.appendChild(t);
    }
  });
  head.appendChild(hl);
  frag.appendChild(head);
  for (const u of S.techs) {
    const row = el("div", "row");
    row.dataset.user = u.id;
    const who = el("div", "who", [u.firstname, u.lastname].filter(Boolean).join(" "));
    who.appendChild(el("small", "", u.code || ""));
    row.appendChild(who);
    const lane = el("div", "lane");
    lane.style.width = laneW + "px";
    lane.dataset.user = u.id;
    const hours = S.userHours[u.id] || S.hours || [];
    ds.forEach((d, i) => {
      for (const span of (hours[d.wd] || "off").split(",")) {
        const m = /^(\d\d):(\d\d)-(\d\d):(\d\d)$/.exec(span);
        if (!m) continue;
        const a = Math.max(0, +m[1] * 60 + +m[2] - H0 * 60), b = Math.min(DAY_MIN, +m[3] * 60 + +m[4] - H0 * 60);
        if (b <= a) continue;
        const w = el("div", "work");
        w.style.left = i * S.dayW + a * S.ppm + "px";
        w.style.width = (b - a) * S.ppm + "px";
        lane.appendChild(w);
      }
      const t = el("div", "tick day");
      t.style.left = i * S.dayW + "px";
      lane.appendChild(t);
    });
    for (const a of S.absences.filter((x) => x.user_id === u.id)) {
      placeBox(lane, el("div", "absence", (a.user_unavailability_type_code || "Absent") + (a.is_approved ? "" : " (not approved)")),
        Date.parse(a.date_start), Date.parse(a.date_end));
    }
    for (const s of S.slots.filter((x) => x.user_id === u.id)) {
      const b = el("div", "slot" + (s === S.slots[0] ? " best" : ""));
      b.title = "Free: " + clock(Date.parse(s.date_from)) + "–" + clock(Date.parse(s.date_to)) + ", score " + s.score;
      placeBox(lane, b, Date.parse(s.date_from), Date.parse(s.date_to));
    }
    for (const p of S.plannings.filter((x) => x.user_id === u.id)) lane.appendChild(block(p));
    row.appendChild(lane);
    frag.appendChild(row);
  }
  grid.replaceChildren(frag);
  grid.style.width = laneW + 152 + "px";
  renderJobs();
  renderSlots();
}

function placeBox(lane, box, from, to) {
  const [vf, vt] = range();
  if (to <= vf || from >= vt) return null;
  const ds = days();
  // a box across days is cut into one piece per day shown
  ds.forEach((d, i) => {
    const a = Math.max(from, zoned(d, H0 * 60)), b = Math.min(to, zoned(d, H1 * 60));
    if (b <= a) return;
    const piece = i === 0 || !box.parentNode ? box : box.cloneNode(true);
    piece.style.left = xOf(a) + "px";
    piece.style.width = Math.max(4, xOf(b, true) - xOf(a)) + "px";
    lane.appendChild(piece);
  });
  return box;
}

function block(p) {
  const job = p.jobs || {};
  const b = el("div", "block", job.name || p.jobs_id);
  b.appendChild(el("small", "", (job.company && job.company.name ? job.company.name + " · " : "") +
    clock(Date.parse(p.date_from)) + "–" + clock(Date.parse(p.date_to))));
  b.style.setProperty("--c", color(job.job_status_id));
  b.tabIndex = 0;
  b.dataset.planning = p.id;
  b.setAttribute("role", "button");
  b.setAttribute("aria-label", `${job.name || "Job"} ${clock(Date.parse(p.date_from))} to ${clock(Date.parse(p.date_to))}`);
  if (S.selectedBlock === p.id) b.classList.add("selected");
  const from = Date.parse(p.date_from), to = Date.parse(p.date_to);
  const x0 = xOf(Math.max(from, range()[0])) ?? 0;
  const x1 = xOf(Math.min(to, range()[1] - 1), true) ?? x0 + 4;
  b.style.left = x0 + "px";
  b.style.width = Math.max(6, x1 - x0) + "px";
  const grip = el("div", "grip");
  grip.dataset.grip = "1";
  b.appendChild(grip);
  b.addEventListener("pointerdown", (e) => startDrag(e, { kind: e.target.dataset.grip ? "resize" : "move", planning: p, el: b }));
  b.addEventListener("focus", () => selectBlock(p.id, false));
  b.addEventListener("keydown", (e) => {
    if (e.key === "Delete" || e.key === "Backspace") { e.preventDefault(); removePlanning(p); }
  });
  return b;
}

function visibleJobs() {
  const text = $("filter-text").value.trim().toLowerCase();
  const org = $("filter-org").value, skill = $("filter-skill").value;
  return S.jobs.filter((j) => {
    if (skill && j.skill_id !== skill) return false;
    if (org && (!j.company || j.company.sales_organization_id !== org)) return false;
    if (!text) return true;
    return [j.name, j.reference_back_office, j.company && j.company.name].some((s) => s && s.toLowerCase().includes(text));
  });
}

function renderJobs() {
  const list = $("jobs");
  const jobs = visibleJobs();
  $("count").textContent = "(" + jobs.length + ")";
  const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.job : null;
  list.replaceChildren(...jobs.map((j) => {
    const li = el("li", "", j.name);
    li.dataset.job = j.id;
    li.tabIndex = 0;
    li.setAttribute("role", "option");
    li.setAttribute("aria-selected", String(S.selectedJob === j.id));
    li.style.setProperty("--c", color(j.job_status_id));
    const st = S.statuses[j.job_status_id];
    const due = j.due_date && !j.due_date.startsWith("1980") ? "due " + j.due_date.slice(0, 10) : "no due date";
    li.appendChild(el("div", "meta", [j.company && j.company.name, (j.estimated_time || 60) + " min", due,
      j.skill_code && "skill " + j.skill_code, st && st.code].filter(Boolean).join(" · ")));
    li.addEventListener("pointerdown", (e) => startDrag(e, { kind: "job", job: j, el: li }));
    li.addEventListener("keydown", (e) => jobKey(e, j));
    return li;
  }));
  if (focused) { const f = list.querySelector(`[data-job="${focused}"]`); if (f) f.focus(); }
}

function renderSlots() {
  const box = $("slots");
  box.replaceChildren();
  if (!S.selectedJob) return;
  const job = S.jobs.find((j) => j.id === S.selectedJob);
  box.appendChild(el("strong", "", "Best slots for " + (job ? job.name : "the job")));
  if (!S.slots.length) { box.appendChild(el("div", "", "No free slot in the days shown.")); return; }
  const ol = el("ol");
  for (const s of S.slots) {
    const t = S.techs.find((u) => u.id === s.user_id);
    const d = parts(Date.parse(s.date_from));
    ol.appendChild(el("li", "", `${t ? t.firstname + " " + t.lastname : s.user_name} · ${pad(d.d)}/${pad(d.m)} ${clock(Date.parse(s.date_from))}–${clock(Date.parse(s.date_to))} · score ${s.score}` +
      (s.travel_before.known ? ` · ${s.travel_before.minutes} min travel` : "")));
  }
  box.appendChild(ol);
  const btn = el("button", "", "Book the best slot (B)");
  btn.id = "book-best";
  btn.addEventListener("click", bookBest);
  box.appendChild(btn);
}

// ---- interactions ----------------------------------------------------------

function clearMessage() {
  $("message").textContent = "";
  $("message").classList.remove("ok");
}

async function selectJob(id) {
  clearMessage();
  S.selectedJob = S.selectedJob === id ? null : id;
  S.slots = [];
  render();
  if (!S.selectedJob) return;
  const [from, to] = range();
  try {
    const d = await api("GET", `/api/Jobs(${id})/AvailableSlots?from=${q(iso(Math.max(from, Date.now())))}&to=${q(iso(to))}&top=5`);
    if (S.selectedJob === id) { S.slots = d.value; render(); }
  } catch (e) {
    report(e, "Slot search failed");
  }
}

async function bookBest() {
  const s = S.slots[0];
  if (!S.selectedJob || !s) return;
  await change(() => api("POST", `/api/Jobs(${S.selectedJob})/Plan`, { user_id: s.user_id, date_from: s.date_from }),
    "Booked " + clock(Date.parse(s.date_from)));
  S.selectedJob = null; S.slots = [];
  render();
}

function jobKey(e, j) {
  const items = [...$("jobs").children];
  const i = items.findIndex((x) => x.dataset.job === j.id);
  if (e.key === "ArrowDown" && items[i + 1]) { e.preventDefault(); items[i + 1].focus(); }
  else if (e.key === "ArrowUp" && items[i - 1]) { e.preventDefault(); items[i - 1].focus(); }
  else if (e.key === "Enter" || e.key === " ") { e.preventDefault(); selectJob(j.id); }
  else if (e.key === "b" || e.key === "B") { e.preventDefault(); bookBest(); }
}

function selectBlock(id, rerender) {
  S.selectedBlock = id;
  document.querySelectorAll(".block.selected").forEach((b) => b.classList.remove("selected"));
  const b = document.querySelector(`.block[data-planning="${id}"]`);
  if (b) b.classList.add("selected");
  if (rerender) render();
}

// change runs one write, reports the outcome, and reloads the truth.
async function change(fn, done) {
  let err = null;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  await load();
  if (err) report(err); else ok(done);
}

async function removePlanning(p) {
  await change(() => api("DELETE", `/api/JobPlanning(${p.id})`, undefined, p["@odata.etag"] ? { "If-Match": p["@odata.etag"] } : {}),
    "Planning removed");
}

function startDrag(e, d) {
  if (e.button !== 0) return;
  e.preventDefault();
  clearMessage();
  d.x0 = e.clientX; d.y0 = e.clientY; d.moved = false;
  S.drag = d;
  if (d.planning) selectBlock(d.planning.id, false);
  window.addEventListener("pointermove", onDrag);
  window.addEventListener("pointerup", endDrag, { once: true });
}

function laneAt(x, y) {
  const hit = document.elementFromPoint(x, y);
  return hit && hit.closest(".lane[data-user]");
}

function onDrag(e) {
  const d = S.drag;
  if (!d) return;
  if (!d.moved && Math.abs(e.clientX - d.x0) + Math.abs(e.clientY - d.y0) < 4) return;
  d.moved = true;
  let ghost = document.querySelector(".ghost");
  if (d.kind === "resize") {
    const lane = d.el.parentElement;
    const x = e.clientX - lane.getBoundingClientRect().left;
    d.to = timeAt(x);
    d.el.style.width = Math.max(6, x - parseFloat(d.el.style.left)) + "px";
    return;
  }
  const lane = laneAt(e.clientX, e.clientY);
  if (!lane) { if (ghost) ghost.remove(); d.lane = null; return; }
  if (!ghost || ghost.parentElement !== lane) { if (ghost) ghost.remove(); ghost = el("div", "ghost"); lane.appendChild(ghost); }
  const minutes = d.kind === "job" ? (d.job.estimated_time || 60) : (Date.parse(d.planning.date_to) - Date.parse(d.planning.date_from)) / 60000;
  const grab = d.kind === "move" ? d.x0 - d.el.getBoundingClientRect().left : 0;
  d.lane = lane;
  d.from = timeAt(e.clientX - lane.getBoundingClientRect().left - grab);
  ghost.style.left = xOf(d.from) + "px";
  ghost.style.width = Math.max(6, minutes * S.ppm) + "px";
  ghost.textContent = clock(d.from);
}

async function endDrag() {
  window.removeEventListener("pointermove", onDrag);
  const d = S.drag;
  S.drag = null;
  document.querySelectorAll(".ghost").forEach((g) => g.remove());
  if (!d) return;
  if (!d.moved) {
    if (d.kind === "job") selectJob(d.job.id);
    else if (d.el) d.el.focus();
    return;
  }
  if (d.kind === "job" && d.lane) {
    await change(() => api("POST", `/api/Jobs(${d.job.id})/Plan`, { user_id: d.lane.dataset.user, date_from: iso(d.from) }),
      "Planned " + d.job.name + " at " + clock(d.from));
  } else if (d.kind === "move" && d.lane) {
    const p = d.planning, len = Date.parse(p.date_to) - Date.parse(p.date_from);
    await change(() => api("PUT", `/api/JobPlanning(${p.id})`, { user_id: d.lane.dataset.user, date_from: iso(d.from), date_to: iso(d.from + len) },
      p["@odata.etag"] ? { "If-Match": p["@odata.etag"] } : {}), "Moved to " + clock(d.from));
  } else if (d.kind === "resize" && d.to) {
    const p = d.planning;
    if (d.to <= Date.parse(p.date_from)) { render(); return; }
    await change(() => api("PUT", `/api/JobPlanning(${p.id})`, { date_to: iso(d.to) },
      p["@odata.etag"] ? { "If-Match": p["@odata.etag"] } : {}), "Now ends at " + clock(d.to));
  } else {
    render();
  }
}

function step(n) {
  S.day = addDays(S.day, n * (S.view === "day" ? 1 : 7));
  S.slots = [];
  render();
  load();
}

function signOut() {
  sessionStorage.removeItem("ordo-planner");
  S.auth = "";
  $("app").hidden = true;
  $("signin").hidden = false;
}

// ---- start -----------------------------------------------------------------

$("signin").addEventListener("submit", async (e) => {
  e.preventDefault();
  $("signin-error").textContent = "";
  try {
    await signIn($("domain").value.trim(), $("user").value.trim(), $("password").value);
  } catch (err) {
    S.auth = "";
    $("signin-error").textContent = err.status === 401 ? "Wrong domain, user or password." : "Sign-in failed: " + err.message;
  }
});
$("signout").addEventListener("click", signOut);
$("prev").addEventListener("click", () => step(-1));
$("next").addEventListener("click", () => step(1));
$("today").addEventListener("click", () => { S.day = addDays(parts(Date.now()), 0); render(); load(); });
$("view").addEventListener("change", () => { S.view = $("view").value; render(); load(); });
for (const id of ["filter-text", "filter-org", "filter-skill"]) $(id).addEventListener("input", renderJobs);
document.addEventListener("keydown", (e) => {
  if (e.target.matches("input, select")) return;
  if (e.key === "PageUp") step(-1);
  else if (e.key === "PageDown") step(1);
});
window.addEventListener("resize", () => { if (S.auth) render(); });
setInterval(() => { if (S.auth && S.day && !$("app").hidden && !S.drag && !document.hidden) load(); }, POLL_MS);

(async () => {
  const saved = JSON.parse(sessionStorage.getItem("ordo-planner") || "null");
  if (!saved) return;
  S.auth = saved.auth;
  try {
    await loadSettings();
    $("tenant").textContent = saved.domain;
    $("signin").hidden = true;
    $("app").hidden = false;
    await loadLookups();
    await load();
  } catch (e) {
    signOut();
  }
})();
