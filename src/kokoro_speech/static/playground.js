"use strict";
// The playground: lists the voices, streams raw pcm through Web Audio as it is synthesized (the SSE stream,
// with word timestamps: each word is highlighted while it is spoken), downloads the other formats, and saves
// blends as voices. No dependencies and no build step.

const $ = (id) => document.getElementById(id);
const ui = {
  form: $("speech"), input: $("input"), voice: $("voice"), format: $("format"),
  speed: $("speed"), speedValue: $("speed-value"), keyBox: $("key-box"), key: $("key"),
  play: $("play"), stop: $("stop"), download: $("download"),
  status: $("status"), ttfa: $("ttfa"), received: $("received"), error: $("error"),
  volume: $("volume"), volumeValue: $("volume-value"), sampleRate: $("sample-rate"), blend: $("blend"),
  voiceName: $("voice-name"), saveVoice: $("save-voice"), notice: $("notice"), readAlong: $("read-along"),
};
const EXAMPLES = {
  pause: "Take a deep breath. [pause:1.5s] And now, let it out slowly. [pause:800ms] Good.",
  ssml: '<speak>\n  <p>Your code is <say-as interpret-as="characters">XK7</say-as>.'
    + '<break time="700ms"/> Call <say-as interpret-as="telephone">555-0123</say-as>'
    + ' on <say-as interpret-as="date" format="mdy">3/14/2025</say-as>.</p>\n'
    + '  <p><prosody rate="slow">This part is slower,</prosody> <prosody rate="fast">and this part is faster.</prosody>'
    + ' <sub alias="World Wide Web">WWW</sub>, <phoneme alphabet="ipa" ph="təˈmɑːtoʊ">tomato</phoneme>.</p>\n</speak>',
};
const STORE = { key: "kokoro-speech.api-key", voice: "kokoro-speech.voice" };

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

/** Read-along: the input, its words (from the timestamp events) highlighted as the player reaches them. */
class ReadAlong {
  constructor(element, text) {
    this.element = element;
    this.text = text;
    this.words = [];
    this.current = -1;
    element.replaceChildren(text);
    element.dataset.word = "";
    element.hidden = false;
  }

  /** Timestamp items: {word, start_time, end_time, start_index, end_index}, text[start_index:end_index] = word. */
  add(items) {
    this.words.push(...items);
    const parts = [];
    let at = 0;
    this.words.forEach((w, i) => {
      parts.push(this.text.slice(at, w.start_index));
      const span = document.createElement("span");
      span.textContent = this.text.slice(w.start_index, w.end_index);
      span.dataset.index = i;
      span.dataset.start = w.start_time;
      parts.push(span);
      at = w.end_index;
    });
    parts.push(this.text.slice(at));
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
    this.element.dataset.word = index >= 0 ? this.words[index].word : "";
  }
}

/** Server-sent events from a fetch body: calls `onEvent` with each `data:` JSON object. */
async function readEvents(body, onEvent) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffered += value;
    let end;
    while ((end = buffered.indexOf("\n\n")) >= 0) {
      const block = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      for (const line of block.split("\n")) {
        if (line.startsWith("data: ")) onEvent(JSON.parse(line.slice(6)));
      }
    }
  }
}

function base64Bytes(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function authHeaders() {
  const key = ui.key.value.trim();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

function showError(message) {
  ui.error.textContent = message || "";
  ui.error.hidden = !message;
}

/** The message of the API's JSON error body, or the HTTP status when there is none. */
async function errorMessage(res) {
  try {
    const body = await res.json();
    if (body?.error?.message) return body.error.message;
  } catch { /* not JSON */ }
  return `${res.status} ${res.statusText}`;
}

function showNotice(message) {
  ui.notice.textContent = message || "";
  ui.notice.hidden = !message;
}

/** The voice to speak with: the blend when one is typed, else the chosen voice. */
function chosenVoice() {
  return ui.blend.value.trim() || ui.voice.value;
}

function speech(format, signal, extra = {}) {
  return fetch("/v1/audio/speech", {
    method: "POST",
    headers: { "Content-Type": "application/json", ...authHeaders() },
    body: JSON.stringify({
      model: "kokoro-82m", input: ui.input.value, voice: chosenVoice(),
      response_format: format, speed: Number(ui.speed.value),
      volume_multiplier: Number(ui.volume.value), sample_rate: Number(ui.sampleRate.value), ...extra,
    }),
    signal,
  });
}

async function saveVoice() {
  const name = ui.voiceName.value.trim();
  showError("");
  showNotice("");
  if (!name) { showError("Give the voice a name first."); return; }
  const voice = chosenVoice();
  const res = await fetch("/v1/audio/voices", {
    method: "POST",
    headers: { "Content-Type": "application/json", ...authHeaders() },
    body: JSON.stringify({ name, voice }),
  });
  if (!res.ok) { showError(await errorMessage(res)); return; }
  const saved = await res.json();
  ui.blend.value = "";
  ui.voice.dataset.wanted = saved.id;
  await loadVoices();
  showNotice(`Saved “${saved.id}” (${saved.voice}): it is now a voice id everywhere.`);
}

async function loadVoices() {
  const res = await fetch("/v1/audio/voices", { headers: authHeaders() });
  if (!res.ok) {
    if (res.status === 401) ui.keyBox.open = true;
    if (res.status === 503) setTimeout(loadVoices, 2000);  // the model is still loading
    ui.voice.replaceChildren(new Option("(no voices)", ""));
    showError(await errorMessage(res));
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
  const readAlong = new ReadAlong(ui.readAlong, text);
  try {
    await player.ctx.resume();
    const res = await speech("pcm", controller.signal, { stream_format: "sse", timestamps: true });
    if (!res.ok) throw new Error(await errorMessage(res));
    const sampleRate = Number(res.headers.get("X-Sample-Rate")) || 24000;
    ui.status.dataset.sampleRate = sampleRate;
    const follow = () => {
      if (playing !== current) return;
      readAlong.follow(player.position());
      requestAnimationFrame(follow);
    };
    requestAnimationFrame(follow);
    let bytes = 0;
    await readEvents(res.body, (event) => {
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

async function download() {
  const format = ui.format.value;
  showError("");
  ui.download.disabled = true;
  ui.download.textContent = "Downloading…";
  try {
    const res = await speech(format);
    if (!res.ok) throw new Error(await errorMessage(res));
    const url = URL.createObjectURL(await res.blob());
    const link = Object.assign(document.createElement("a"), {
      href: url, download: `speech-${chosenVoice().replace(/[^A-Za-z0-9_-]+/g, "-")}.${format}`,
    });
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (err) {
    showError(err.message);
  } finally {
    ui.download.disabled = false;
    ui.download.textContent = "⤓ Download";
  }
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
ui.form.addEventListener("submit", play);
ui.stop.addEventListener("click", stop);
ui.download.addEventListener("click", download);
loadVoices().catch((err) => showError(`Could not list the voices: ${err.message}`));
