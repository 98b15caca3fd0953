"use strict";
// The playground: lists the voices, streams raw pcm through Web Audio as it is synthesized (the SSE stream,
// with word timestamps: each word is highlighted while it is spoken, under its speaker's name when several
// speak), downloads the other formats, saves blends as voices, and gives one text many voices: a cast (names
// for voices, sent as voice_aliases) and a dialogue editor (turns, played as tagged text or downloaded from
// /dev/dialogue). Requests go through api.js. No dependencies and no build step.

const $ = (id) => document.getElementById(id);
const ui = {
  form: $("speech"), input: $("input"), voice: $("voice"), format: $("format"),
  speed: $("speed"), speedValue: $("speed-value"), keyBox: $("key-box"), key: $("key"),
  play: $("play"), stop: $("stop"), download: $("download"),
  status: $("status"), ttfa: $("ttfa"), received: $("received"), error: $("error"),
  volume: $("volume"), volumeValue: $("volume-value"), sampleRate: $("sample-rate"), blend: $("blend"),
  voiceName: $("voice-name"), saveVoice: $("save-voice"), notice: $("notice"), readAlong: $("read-along"),
  cast: $("cast").tBodies[0], castBox: $("cast-box"), castAdd: $("cast-add"), voiceTags: $("voice-tags"),
  turns: $("turns"), dialogueBox: $("dialogue-box"), turnAdd: $("turn-add"), turnPause: $("turn-pause"),
  turnPauseValue: $("turn-pause-value"), dialoguePlay: $("dialogue-play"), dialogueDownload: $("dialogue-download"),
  voiceIds: $("voice-ids"), speakers: $("speakers"),
};
const EXAMPLES = {
  pause: "Take a deep breath. [pause:1.5s] And now, let it out slowly. [pause:800ms] Good.",
  ssml: '<speak>\n  <p>Your code is <say-as interpret-as="characters">XK7</say-as>.'
    + '<break time="700ms"/> Call <say-as interpret-as="telephone">555-0123</say-as>'
    + ' on <say-as interpret-as="date" format="mdy">3/14/2025</say-as>.</p>\n'
    + '  <p><prosody rate="slow">This part is slower,</prosody> <prosody rate="fast">and this part is faster.</prosody>'
    + ' <sub alias="World Wide Web">WWW</sub>, <phoneme alphabet="ipa" ph="təˈmɑːtoʊ">tomato</phoneme>.</p>\n</speak>',
};
const DIALOGUE_EXAMPLE = {
  cast: [["narrator", "bm_george", 1], ["Mira", "af_bella(2)+af_sky(1)", 1.1], ["Tom", "am_adam", 0.9]],
  turns: [["narrator", "The door creaked open."], ["Mira", "Who's there?"], ["Tom", "Only me. I brought tea."],
    ["Mira", "At midnight?"]],
};
const STORE = { key: api.KEY, voice: "kokoro-speech.voice" };
// the server's [pause:…] markers, and (read only when tags are on) its [voice:…] and [rate:…] tags: kept out
// of the read-along's text, which shows what is heard
const PAUSE_MARKER = /\[\s*pause\s*:[^\]\n]*\]/gi;
const CONTROL_TAG = /\[\s*(?:voice|rate)\s*:[^\]\n]*\]/gi;

/** Raw s16le mono chunks, played back to back as they arrive. */
class PcmPlayer {
  constructor() {
    this.ctx = new AudioContext();
    this.next = 0;                   // when the next buffer starts, on the context's clock
    this.carry = new Uint8Array(0);  // the first byte of a sample split across two chunks
    this.samples = 0;
    this.played = [];  // [context time, stream seconds, seconds] of each buffer: underruns shift the clock
  }

  /** Seconds of the stream heard so far (timestamps are in stream seconds). */
  position() {
    const now = this.ctx.currentTime;
    let at = 0;
    for (const [start, from, length] of this.played) {
      if (start > now) break;
      at = from + Math.min(now - start, length);
    }
    return at;
  }

  push(chunk, sampleRate) {
    let bytes = chunk;
    if (this.carry.length) {
      bytes = new Uint8Array(this.carry.length + chunk.length);
      bytes.set(this.carry);
      bytes.set(chunk, this.carry.length);
    }
    const count = bytes.length >> 1;
    this.carry = bytes.slice(count * 2);
    if (!count) return;

    const view = new DataView(bytes.buffer, bytes.byteOffset, count * 2);
    const buffer = this.ctx.createBuffer(1, count, sampleRate);
    const channel = buffer.getChannelData(0);
    for (let i = 0; i < count; i++) channel[i] = view.getInt16(2 * i, true) / 32768;

    const source = this.ctx.createBufferSource();
    source.buffer = buffer;
    source.connect(this.ctx.destination);
    // a small lead on the first buffer (or after an underrun) so it is not cut
    this.next = Math.max(this.next, this.ctx.currentTime + 0.05);
    source.start(this.next);
    this.played.push([this.next, this.samples / sampleRate, buffer.duration]);
    this.next += buffer.duration;
    this.samples += count;
  }

  /** Seconds of scheduled audio not yet played. */
  get remaining() {
    return Math.max(0, this.next - this.ctx.currentTime);
  }

  close() {
    if (this.ctx.state !== "closed") this.ctx.close();
  }
}

let playing = null;  // { controller, player } while a Play is in progress

/** Read-along: the input, its words (from the timestamp events) highlighted as the player reaches them; when
 *  several voices speak, each turn starts with its speaker's name (the items' `voice`: the alias or voice id). */
class ReadAlong {
  constructor(element, text, { tags = false } = {}) {
    this.element = element;
    this.text = text;
    this.tags = tags;  // voice and rate tags in the text are read: not shown
    this.words = [];
    this.current = -1;
    element.replaceChildren(this.between(0, text.length));
    element.dataset.word = element.dataset.speaker = "";
    element.hidden = false;
  }

  between(from, to) {
    const gap = this.text.slice(from, to).replace(PAUSE_MARKER, "");
    return this.tags ? gap.replace(CONTROL_TAG, "") : gap;
  }

  /** Timestamp items: {word, start_time, end_time, start_index, end_index, voice?}, text[start_index:end_index]
   *  = word. */
  add(items) {
    this.words.push(...items);
    const parts = [];
    let at = 0, speaker;
    this.words.forEach((w, i) => {
      parts.push(this.between(at, w.start_index));
      if (w.voice && w.voice !== speaker) {
        const name = document.createElement("b");
        name.className = "speaker";
        name.textContent = w.voice;
        name.dataset.index = i;
        if (speaker !== undefined) parts.push(document.createElement("br"));
        parts.push(name, " ");
        speaker = w.voice;
      }
      const span = document.createElement("span");
      span.textContent = this.text.slice(w.start_index, w.end_index);
      span.dataset.index = i;
      span.dataset.start = w.start_time;
      parts.push(span);
      at = w.end_index;
    });
    parts.push(this.between(at, this.text.length));
    this.element.replaceChildren(...parts);
    this.show(this.current, true);
  }

  /** Highlight the word being said at `seconds` (the last one begun, until the next begins). */
  follow(seconds) {
    let index = this.current;
    while (index + 1 < this.words.length && this.words[index + 1].start_time <= seconds) index++;
    this.show(index);
  }

  show(index, force = false) {
    if (index === this.current && !force) return;
    this.current = index;
    for (const span of this.element.querySelectorAll("span")) {
      const i = Number(span.dataset.index);
      span.className = i === index ? "now" : i < index ? "said" : "";
    }
    const speaker = index >= 0 ? this.words[index].voice || "" : "";
    let turn = null;  // the name heading the turn being said
    for (const name of this.element.querySelectorAll("b.speaker")) {
      if (Number(name.dataset.index) <= index) turn = name;
    }
    for (const name of this.element.querySelectorAll("b.speaker")) name.classList.toggle("now", name === turn);
    this.element.dataset.speaker = speaker;
    this.element.dataset.word = index >= 0 ? this.words[index].word : "";
  }
}

function base64Bytes(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function showError(message) {
  ui.error.textContent = message || "";
  ui.error.hidden = !message;
}

function showNotice(message) {
  ui.notice.textContent = message || "";
  ui.notice.hidden = !message;
}

/** The voice to speak with: the blend when one is typed, else the chosen voice. */
function chosenVoice() {
  return ui.blend.value.trim() || ui.voice.value;
}

/** The cast as the API's voice_aliases: {name: voice} or {name: {voice, rate}}; null when it is empty. */
function voiceAliases() {
  const aliases = {};
  for (const row of ui.cast.rows) {
    const [name, voice, rate] = row.querySelectorAll("input");
    if (!name.value.trim() || !voice.value.trim()) continue;
    const pace = Number(rate.value) || 1;
    aliases[name.value.trim()] = pace === 1 ? voice.value.trim() : { voice: voice.value.trim(), rate: pace };
  }
  return Object.keys(aliases).length ? aliases : null;
}

/** What every request that speaks the text sends: the controls, the cast and whether tags are read. */
function speaking() {
  const aliases = voiceAliases();
  return {
    speed: Number(ui.speed.value), volume_multiplier: Number(ui.volume.value),
    ...(aliases ? { voice_aliases: aliases } : {}), ...(ui.voiceTags.checked ? { allow_voice_tags: true } : {}),
  };
}

function speech(format, signal, extra = {}) {
  return api.request("/v1/audio/speech", {
    json: {
      model: "kokoro-82m", input: ui.input.value, voice: chosenVoice(), response_format: format,
      sample_rate: Number(ui.sampleRate.value), ...speaking(), ...extra,
    },
    signal,
  });
}

async function saveVoice() {
  const name = ui.voiceName.value.trim();
  showError("");
  showNotice("");
  if (!name) { showError("Give the voice a name first."); return; }
  const saved = await (await api.request("/v1/audio/voices", { json: { name, voice: chosenVoice() } })).json();
  ui.blend.value = "";
  ui.voice.dataset.wanted = saved.id;
  await loadVoices();
  showNotice(`Saved “${saved.id}” (${saved.voice}): it is now a voice id everywhere.`);
}

async function loadVoices() {
  let res;
  try {
    res = await api.request("/v1/audio/voices");
  } catch (err) {
    if (err.status === 401) ui.keyBox.open = true;
    if (err.status === 503) setTimeout(loadVoices, 2000);  // the model is still loading
    ui.voice.replaceChildren(new Option("(no voices)", ""));
    showError(err.message);
    return;
  }
  showError("");
  const { voices } = await res.json();
  const groups = new Map();  // "American English · female" → its voices, in the server's order
  for (const v of voices) {
    const label = v.saved ? "Your saved voices" : `${v.language_name} · ${v.gender}`;
    if (!groups.has(label)) groups.set(label, []);
    groups.get(label).push(v);
  }
  const wanted = ui.voice.dataset.wanted || ui.voice.value || localStorage.getItem(STORE.voice) || "af_heart";
  delete ui.voice.dataset.wanted;
  ui.voice.replaceChildren(...[...groups].map(([label, members]) => {
    const group = document.createElement("optgroup");
    group.label = label;
    for (const v of members) {
      const aliases = v.openai_aliases.join(", ");
      const label = v.saved ? `${v.id}  (${v.blend})` : aliases ? `${v.id}  ★ ${aliases}` : v.id;
      const option = new Option(label, v.id);
      option.dataset.aliases = aliases;
      group.append(option);
    }
    return group;
  }));
  if (voices.some((v) => v.id === wanted)) ui.voice.value = wanted;
  ui.voiceIds.replaceChildren(...voices.map((v) => new Option(v.id)));
  listSpeakers();
}

// --- the cast and the dialogue editor ------------------------------------------------------------------------

function removable(row, remove) {
  const button = Object.assign(document.createElement("button"), { type: "button", className: "small", textContent: "✕" });
  button.setAttribute("aria-label", "Remove");
  button.addEventListener("click", () => { row.remove(); remove(); });
  return button;
}

/** A row of the cast: a name, the voice or blend it stands for, its pace. */
function addSpeaker(name = "", voice = "", rate = 1) {
  const row = ui.cast.insertRow();
  const cells = [
    Object.assign(document.createElement("input"), { type: "text", value: name, placeholder: "narrator", spellcheck: false }),
    Object.assign(document.createElement("input"), { type: "text", value: voice, placeholder: "bm_george or af_bella(2)+af_sky" }),
    Object.assign(document.createElement("input"), { type: "number", value: rate, min: 0.25, max: 4, step: 0.05 }),
  ];
  cells[0].setAttribute("aria-label", "Speaker name");
  cells[1].setAttribute("aria-label", "Voice or blend");
  cells[1].setAttribute("list", "voice-ids");
  cells[2].setAttribute("aria-label", "Rate");
  for (const cell of [...cells, removable(row, listSpeakers)]) row.insertCell().append(cell);
  cells[0].addEventListener("input", listSpeakers);
  ui.castBox.open = true;
  ui.voiceTags.checked = true;  // a cast is for tags
  listSpeakers();
  return row;
}

/** The names a turn may pick: the cast's, then the voices. */
function listSpeakers() {
  const names = [...ui.cast.rows].map((row) => row.querySelector("input").value.trim()).filter(Boolean);
  ui.speakers.replaceChildren(...[...names, ...[...ui.voiceIds.options].map((o) => o.value)].map((n) => new Option(n)));
}

/** A turn of the dialogue: who says it (a cast name or a voice) and what. */
function addTurn(speaker = "", text = "") {
  const item = document.createElement("li");
  const who = Object.assign(document.createElement("input"), { type: "text", value: speaker, placeholder: "speaker", className: "who" });
  who.setAttribute("list", "speakers");
  who.setAttribute("aria-label", "Speaker");
  const line = Object.assign(document.createElement("input"), { type: "text", value: text, placeholder: "what they say", className: "line" });
  line.setAttribute("aria-label", "Line");
  item.append(who, line, removable(item, () => {}));
  ui.turns.append(item);
  ui.dialogueBox.open = true;
  return item;
}

/** The turns with a speaker and a line, as /dev/dialogue takes them. */
function turns() {
  return [...ui.turns.children].map((item) => ({
    voice: item.querySelector(".who").value.trim(), text: item.querySelector(".line").value.trim(),
  })).filter((t) => t.voice && t.text);
}

/** Consecutive turns of one speaker as one (as /dev/dialogue reads them: no pause inside a speaker's turn). */
function merged(list) {
  const out = [];
  for (const t of list) {
    const last = out.at(-1);
    if (last && last.voice.toLowerCase() === t.voice.toLowerCase()) last.text += ` ${t.text}`;
    else out.push({ ...t });
  }
  return out;
}

/** The turns as one text with [voice:…] tags (and [pause:…] between turns), as the server reads a dialogue. */
function taggedDialogue(list) {
  const pause = Number(ui.turnPause.value);
  return merged(list).map((t) => `[voice:${t.voice}] ${t.text}`).join(pause > 0 ? ` [pause:${pause}s]\n` : "\n");
}

function playDialogue() {
  const list = turns();
  if (!list.length) { showError("Write a turn first: a speaker and what they say."); return; }
  ui.input.value = taggedDialogue(list);
  ui.voiceTags.checked = true;
  ui.form.requestSubmit();
}

async function downloadDialogue() {
  const list = turns();
  if (!list.length) { showError("Write a turn first: a speaker and what they say."); return; }
  await saveFile(() => api.request("/dev/dialogue", {
    json: {
      turns: list, pause_between_turns: Number(ui.turnPause.value), response_format: ui.format.value,
      stream: false, ...speaking(),
    },
  }), "dialogue", ui.dialogueDownload);
}

function dialogueExample() {
  ui.cast.replaceChildren();
  ui.turns.replaceChildren();
  for (const speaker of DIALOGUE_EXAMPLE.cast) addSpeaker(...speaker);
  for (const turn of DIALOGUE_EXAMPLE.turns) addTurn(...turn);
  ui.input.value = taggedDialogue(turns());
}

function setStatus(state, { ttfa, bytes, samples, sampleRate } = {}) {
  const s = ui.status.dataset;
  s.state = state;
  if (ttfa !== undefined) {
    s.ttfaMs = ttfa;
    ui.ttfa.textContent = ttfa === "" ? "–" : `${ttfa} ms`;
  }
  if (bytes !== undefined) {
    s.pcmBytes = bytes;
    s.samples = samples;
    ui.received.textContent = `${(samples / sampleRate).toFixed(2)} s (${bytes.toLocaleString()} bytes)`;
  }
  ui.play.disabled = state === "loading" || state === "playing";
  ui.stop.disabled = !playing;
}

function stop() {
  if (!playing) return;
  playing.controller.abort();
  playing.player.close();
  playing = null;
  setStatus("stopped");
}

async function play(event) {
  event.preventDefault();
  stop();
  showError("");
  const started = performance.now();
  // created inside the click, so the browser lets it make sound
  const current = playing = { controller: new AbortController(), player: new PcmPlayer() };
  const { controller, player } = current;
  setStatus("loading", { ttfa: "", bytes: 0, samples: 0, sampleRate: 24000 });
  const text = ui.input.value;
  const readAlong = new ReadAlong(ui.readAlong, text, { tags: ui.voiceTags.checked });
  try {
    await player.ctx.resume();
    const res = await speech("pcm", controller.signal, { stream_format: "sse", timestamps: true });
    const sampleRate = Number(res.headers.get("X-Sample-Rate")) || 24000;
    ui.status.dataset.sampleRate = sampleRate;
    const follow = () => {
      if (playing !== current) return;
      readAlong.follow(player.position());
      requestAnimationFrame(follow);
    };
    requestAnimationFrame(follow);
    let bytes = 0;
    await api.events(res, (event) => {
      if (event.type === "speech.audio.timestamps") readAlong.add(event.timestamps);
      if (event.type !== "speech.audio.delta") return;
      const value = base64Bytes(event.audio);
      if (!value.length) return;
      if (!bytes) setStatus("playing", { ttfa: Math.round(performance.now() - started) });
      bytes += value.length;
      player.push(value, sampleRate);
      setStatus("playing", { bytes, samples: player.samples, sampleRate });
    });
    setStatus("done");
    // let the scheduled audio play out, then free the audio device
    setTimeout(() => {
      if (playing === current) {
        readAlong.follow(Infinity);
        playing = null; player.close(); setStatus("done");
      }
    }, player.remaining * 1000 + 100);
  } catch (err) {
    if (controller.signal.aborted) return;  // stopped by the user or by the next Play
    player.close();
    playing = null;
    setStatus("error");
    showError(err.message);
  }
}

/** Saves what `send()` answers as `name.<format>`, `button` showing that it is under way. */
async function saveFile(send, name, button) {
  const label = button.textContent;
  showError("");
  button.disabled = true;
  button.textContent = "Downloading…";
  try {
    const url = URL.createObjectURL(await (await send()).blob());
    const link = Object.assign(document.createElement("a"), {
      href: url, download: `${name.replace(/[^A-Za-z0-9_-]+/g, "-")}.${ui.format.value}`,
    });
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (err) {
    showError(err.message);
  } finally {
    button.disabled = false;
    button.textContent = label;
  }
}

function download() {
  return saveFile(() => speech(ui.format.value), `speech-${chosenVoice()}`, ui.download);
}

ui.key.value = localStorage.getItem(STORE.key) || "";
ui.key.addEventListener("change", () => {
  const key = ui.key.value.trim();
  if (key) localStorage.setItem(STORE.key, key);
  else localStorage.removeItem(STORE.key);
  loadVoices();
});
ui.voice.addEventListener("change", () => localStorage.setItem(STORE.voice, ui.voice.value));
ui.speed.addEventListener("input", () => {
  ui.speedValue.textContent = `${Number(ui.speed.value).toFixed(2)}×`;
});
ui.volume.addEventListener("input", () => {
  ui.volumeValue.textContent = `${Number(ui.volume.value).toFixed(1)}×`;
});
for (const [name, text] of Object.entries(EXAMPLES)) {
  $(`example-${name}`).addEventListener("click", () => { ui.input.value = text; });
}
ui.saveVoice.addEventListener("click", () => saveVoice().catch((err) => showError(err.message)));
$("example-dialogue").addEventListener("click", dialogueExample);
ui.castAdd.addEventListener("click", () => addSpeaker().querySelector("input").focus());
ui.turnAdd.addEventListener("click", () => addTurn().querySelector("input").focus());
ui.turnPause.addEventListener("input", () => { ui.turnPauseValue.textContent = `${ui.turnPause.value} s`; });
ui.dialoguePlay.addEventListener("click", playDialogue);
ui.dialogueDownload.addEventListener("click", downloadDialogue);
ui.form.addEventListener("submit", play);
ui.stop.addEventListener("click", stop);
ui.download.addEventListener("click", download);
loadVoices().catch((err) => showError(`Could not list the voices: ${err.message}`));
