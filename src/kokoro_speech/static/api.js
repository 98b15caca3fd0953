"use strict";
// What the playground's tabs share when they call the API: the key (kept in this browser), requests that send
// it, the API's OpenAI-shaped error bodies turned into messages, and server-sent events read from a fetch body.

const api = (() => {
  const KEY = "kokoro-speech.api-key";

  /** An answer that was not 2xx: its status and the message of the API's error body. */
  class Failure extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  function headers(extra = {}) {
    const key = localStorage.getItem(KEY);
    return key ? { Authorization: `Bearer ${key}`, ...extra } : { ...extra };
  }

  /** The message of the API's JSON error body ({error: {message}}), or the HTTP status when there is none. */
  async function errorMessage(res) {
    try {
      const body = await res.json();
      if (body?.error?.message) return body.error.message;
    } catch { /* not JSON */ }
    return `${res.status} ${res.statusText}`;
  }

  /** fetch() with the key; `json` is sent as a JSON POST body. Resolves to the response, or rejects with a
   *  Failure (the API's message) when it is not 2xx. */
  async function request(path, { json, ...init } = {}) {
    const options = { ...init, headers: headers(init.headers) };
    if (json !== undefined) {
      options.method = options.method || "POST";
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(json);
    }
    const res = await fetch(path, options);
    if (!res.ok) throw new Failure(res.status, await errorMessage(res));
    return res;
  }

  /** Server-sent events of a response: calls `onEvent` with each event's `data:` JSON, until the body ends. */
  async function events(res, onEvent) {
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = "";
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffered += value;
      let end;
      while ((end = buffered.indexOf("\n\n")) >= 0) {
        const block = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const data = block.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim()).join("\n");
        if (data) onEvent(JSON.parse(data));
      }
    }
  }

  return { KEY, Failure, headers, errorMessage, request, events };
})();
