"""The `kokoro-speech` command: serve | say | voices | book. Argument parsing only; the work is in the package.

Every Settings field is a flag (`--voices-dir`), so flags, KOKORO_* variables and .env files stay in step.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import logging
import signal
import sys
import typing
from pathlib import Path

from kokoro_speech import __version__
from kokoro_speech.audio.encode import FORMATS
from kokoro_speech.config import Settings
from kokoro_speech.errors import ApiError, SetupError
from kokoro_speech.jobs.narration import Narration
from kokoro_speech.logs import setup_logging

log = logging.getLogger("kokoro_speech")


def _add_settings_flags(parser: argparse.ArgumentParser) -> None:
    for name, field in Settings.model_fields.items():
        flag = "--" + name.replace("_", "-")
        kwargs: dict = {"dest": name, "default": argparse.SUPPRESS, "help": field.description}
        annotation = field.annotation
        if annotation is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        elif typing.get_origin(annotation) is typing.Literal:
            kwargs["choices"] = typing.get_args(annotation)
        elif annotation in (int, float):
            kwargs["type"] = annotation
        elif int in typing.get_args(annotation):  # int | None: unset unless given
            kwargs["type"] = int
        elif Path in typing.get_args(annotation) or annotation is Path:
            kwargs["type"] = Path
        former = (field.json_schema_extra or {}).get("former_flags", [])  # renamed settings keep their old flags
        parser.add_argument(flag, *former, **kwargs)


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {name: value for name, value in vars(args).items() if name in Settings.model_fields}
    return Settings(**overrides)


def _fail(message: str) -> typing.NoReturn:
    print(f"kokoro-speech: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def serve(settings: Settings) -> None:
    import uvicorn

    from kokoro_speech.api.app import create_app
    from kokoro_speech.model.session import limit_malloc_arenas
    from kokoro_speech.model.voices import load_voices
    from kokoro_speech.model.weights import resolve_model

    limit_malloc_arenas()  # before the engine's, uvicorn's and the G2P's threads start

    if not settings.keys() and not settings.binds_loopback() and not settings.insecure_no_auth:
        _fail(f"no API key is configured and {settings.host} is not a loopback address: set KOKORO_API_KEYS "
              "or --api-key-file, or pass --insecure-no-auth to serve without authentication")
    if settings.wyoming_zeroconf:
        if settings.wyoming_port is None:
            _fail("--wyoming-zeroconf announces the Wyoming server: give it a port with --wyoming-port")
        if importlib.util.find_spec("zeroconf") is None:
            _fail("--wyoming-zeroconf needs the zeroconf package: pip install 'kokoro-speech[zeroconf]'")
    if settings.wyoming_port is not None and not settings.binds_loopback(settings.wyoming_host):
        log.warning("Wyoming on %s:%d has no authentication: anyone who can reach it can use this server",
                    settings.wyoming_host, settings.wyoming_port)
    # Find and verify the files now, so a missing or corrupt one stops start-up with a clear message;
    # the session itself loads in the background (from these files and voices) while /health says 503.
    model = resolve_model(settings.model, settings.cache_dir, offline=settings.offline)
    voices = load_voices(settings)
    app = create_app(settings.model_copy(update={"model": model}), voices=voices)
    # uvicorn drains on SIGTERM/SIGINT, then re-raises the signal to the handler it found: make that one a
    # no-op so a drained server exits 0 (what orchestrators expect), not "killed by signal".
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level,
                timeout_graceful_shutdown=settings.shutdown_grace, timeout_keep_alive=settings.keep_alive_timeout,
                log_config=None)  # uvicorn's loggers use our handler


def _alias(value: str) -> str:
    if "=" not in value or not value.split("=", 1)[0].strip():
        raise argparse.ArgumentTypeError(f"'{value}': write NAME=VOICE, e.g. narrator=bm_george")
    return value


def say(settings: Settings, args: argparse.Namespace) -> None:
    from kokoro_speech.audio.encode import FORMATS, Encoder
    from kokoro_speech.audio.resample import SAMPLE_RATES
    from kokoro_speech.audio.volume import MAX_VOLUME, MIN_VOLUME
    from kokoro_speech.pipeline.engine import Engine

    if args.file is not None:
        text = Path(args.file).read_text(encoding="utf-8") if args.file != "-" else sys.stdin.read()
    elif args.text is not None:
        text = args.text
    else:
        text = sys.stdin.read()
    out = Path(args.output)
    format_name = (args.format or out.suffix.lstrip(".") or "mp3").lower()
    if format_name not in FORMATS:
        _fail(f"unknown output format '{format_name}': use --format with one of {', '.join(FORMATS)}")
    fmt = FORMATS[format_name]
    if args.sample_rate is not None and args.sample_rate not in SAMPLE_RATES:
        _fail(f"--sample-rate {args.sample_rate} is not offered: use one of {', '.join(map(str, SAMPLE_RATES))}")
    if not MIN_VOLUME <= args.volume <= MAX_VOLUME:
        _fail(f"--volume must be between {MIN_VOLUME:g} and {MAX_VOLUME:g}")
    captions = Path(args.subtitles) if args.subtitles else None
    caption_format = captions.suffix.lstrip(".").lower() if captions else None
    if captions is not None and caption_format not in ("vtt", "srt"):
        _fail(f"--subtitles {captions}: the file name must end in .vtt (WebVTT) or .srt (SubRip)")
    engine = Engine.load(settings)

    async def run() -> None:
        from tqdm import tqdm

        from kokoro_speech.audio.subtitles import subtitles

        aliases = dict(alias.split("=", 1) for alias in args.alias or [])
        synthesis = await engine.open(text, args.voice, args.speed, voice_tags=args.voice_tags or None,
                                      aliases=aliases, timestamps=captions is not None, timestamps_param="--subtitles")
        words = []
        encoder = Encoder(fmt, sample_rate=args.sample_rate, volume=args.volume)
        stats = synthesis.stats
        with out.open("wb") as f, tqdm(total=stats.input_characters, unit="char", disable=args.quiet) as progress:
            async for samples in synthesis:
                f.write(encoder.encode(samples))
                words += synthesis.take_words()
                progress.update(stats.characters_done - progress.n)
                progress.set_postfix(audio=f"{stats.audio_seconds:.1f}s")
            for tail in encoder.finish():
                f.write(tail)
            progress.update(stats.input_characters - progress.n)
        if captions is not None:
            captions.write_text(subtitles(words + synthesis.take_words(), caption_format), encoding="utf-8")

    try:
        asyncio.run(run())
    except ApiError as exc:
        _fail(exc.message)
    finally:
        engine.close()


def book(settings: Settings, args: argparse.Namespace) -> None:
    """A book or long document → an audiobook (docs/books.md); resumable: the same command continues."""
    import os

    from tqdm import tqdm

    from kokoro_speech.jobs.book import BookOptions, prepare, produce
    from kokoro_speech.jobs.speakers import EngineSpeaker, ServerSpeaker, SpeakerFailed

    source = Path(args.file)
    output = Path(args.output) if args.output else source.with_suffix(".m4b")
    try:
        narration = Narration(title_pause=args.title_pause, paragraph_pause=args.paragraph_pause,
                              chapter_pause=args.chapter_pause, read_titles=args.read_titles)
        options = BookOptions(voice=args.voice, speed=args.speed, lang_code=args.lang_code, chapters=args.chapters,
                              narration=narration, subtitles=Path(args.subtitles) if args.subtitles else None,
                              manifest=Path(args.manifest) if args.manifest else None,
                              split_chapters=args.split_chapters)
        prepared = prepare(source, output, options)
    except ApiError as exc:
        _fail(exc.message)
    if args.list:
        for chapter in prepared.chapters:
            print(f"{chapter.number:>4}  {chapter.characters:>8,} chars  {chapter.label}")
        return
    engine = None
    words = options.subtitles is not None
    if args.server:
        api_key = args.api_key or os.environ.get("KOKORO_API_KEY") or os.environ.get("OPENAI_API_KEY")
        speaker = ServerSpeaker(args.server, prepared.voice, args.lang_code, words=words, api_key=api_key)
    else:
        from kokoro_speech.pipeline.engine import Engine

        engine = Engine.load(settings)
        try:
            engine.resolve_voice(prepared.voice, prepared.language)
        except ApiError as exc:
            engine.close()
            _fail(exc.message)
        speaker = EngineSpeaker(engine, prepared.voice, prepared.language, words=words)
    total = sum(c.characters for c in prepared.chapters)
    bar = tqdm(total=total, unit="char", unit_scale=True, disable=args.quiet, dynamic_ncols=True)

    first_report = [True]

    def show(progress) -> None:
        if first_report.pop() if first_report else False:  # before reading: what a resumed run had done
            bar.reset(total)  # is not this run's rate (the ETA counts from here)
            bar.initial = bar.n = progress.characters_done
            bar.refresh()
        bar.update(progress.characters_done - bar.n)
        bar.set_postfix_str(f"chapters {progress.chapters_done}/{progress.chapters}, "
                            f"{progress.audio_seconds / 3600:.2f} h audio")

    async def run() -> dict:
        try:
            return await produce(prepared, speaker, parallel=args.parallel, on_progress=show,
                                 keep_work=args.keep_work)
        finally:
            if isinstance(speaker, ServerSpeaker):
                await speaker.aclose()

    try:
        content = asyncio.run(run())
    except KeyboardInterrupt:
        bar.close()
        print(f"\nkokoro-speech: interrupted; run the same command again to continue (work kept in "
              f"{prepared.folder})", file=sys.stderr)
        raise SystemExit(130) from None
    except SpeakerFailed as exc:
        bar.close()
        print(f"kokoro-speech: error: {exc} (finished pieces are kept: run again to continue)", file=sys.stderr)
        raise SystemExit(2 if exc.status is not None and 400 <= exc.status < 500 else 1) from None
    except ApiError as exc:
        bar.close()
        _fail(exc.message)
    finally:
        if engine is not None:
            engine.close()
    bar.close()
    hours = content["duration"] / 3600
    if not args.quiet:
        print(f"wrote {', '.join(content['files'])}: {len(content['chapters'])} chapters, {hours:.2f} h")


def voices(settings: Settings, args: argparse.Namespace) -> None:
    from kokoro_speech.model.voices import load_voices

    registry = load_voices(settings)
    try:
        if args.save is not None:
            if args.blend is None:
                _fail("--save NAME needs --blend VOICE, e.g. --blend 'af_heart(2)+bm_george(1)'")
            info = registry.save(args.save, args.blend)
            print(f"saved voice '{info['name']}' ({info['voice']}) in {settings.saved_voices_folder()}")
            return
        if args.delete is not None:
            registry.delete(args.delete)
            print(f"deleted voice '{args.delete}'")
            return
    except ApiError as exc:
        _fail(exc.message)
    for voice in registry.describe():
        aliases = ", ".join(voice["openai_aliases"])
        extra = f"saved: {voice['blend']}" if voice["saved"] else aliases
        print(f"{voice['id']:<16} {voice['language_name']:<22} {voice['gender']:<7} {extra}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="kokoro-speech", description="OpenAI-compatible Kokoro-82M speech server.")
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="run the HTTP server")
    say_parser = commands.add_parser("say", help="speak text into an audio file, without a server")
    say_parser.add_argument("text", nargs="?", help="the text (default: --file, else standard input)")
    say_parser.add_argument("-f", "--file", help="read the text from this file ('-' for standard input)")
    say_parser.add_argument("-o", "--output", default="speech.mp3", help="output file (default: speech.mp3)")
    say_parser.add_argument("--voice", default="af_heart", help="voice id, OpenAI name or blend")
    say_parser.add_argument("--speed", type=float, default=1.0, help="0.25 to 4.0")
    say_parser.add_argument("--voice-tags", action="store_true",
                            help="read [voice:NAME] and [rate:1.2] tags in the text (several speakers in one file)")
    say_parser.add_argument("--alias", action="append", metavar="NAME=VOICE", type=_alias,
                            help="a name for a voice or blend, usable in tags and --voice (repeatable)")
    say_parser.add_argument("--format", help=f"{', '.join(FORMATS)} (default: from the file name)")
    say_parser.add_argument("--volume", type=float, default=1.0, help="volume multiplier, 0.1 to 4.0 (soft-limited)")
    say_parser.add_argument("--sample-rate", type=int, help="8000, 16000, 22050, 24000 (default), 32000, 44100 or "
                            "48000")
    say_parser.add_argument("--subtitles", metavar="FILE",
                            help="also write subtitles of the words as spoken: FILE.vtt (WebVTT) or FILE.srt")
    say_parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    voices_parser = commands.add_parser("voices", help="list the voices, or save or delete one of your own")
    voices_parser.add_argument("--save", metavar="NAME", help="save --blend under this name (a voice id from then on)")
    voices_parser.add_argument("--blend", metavar="VOICE", help="the voice or blend to save: af_heart(2)+bm_george(1)")
    voices_parser.add_argument("--delete", metavar="NAME", help="delete a saved voice")
    book_parser = commands.add_parser("book", help="read a book or long document into an audiobook (resumable)")
    book_parser.add_argument("file", help="EPUB, Markdown, text, PDF (with a text layer), SRT or WebVTT")
    book_parser.add_argument("-o", "--output", help="the audiobook: .m4b (default, FILE.m4b), .m4a, .mp3, .opus, "
                             ".flac or .wav")
    book_parser.add_argument("--voice", help="voice id, OpenAI name or blend (default: one for the book's language)")
    book_parser.add_argument("--speed", type=float, default=1.0, help="0.25 to 4.0")
    book_parser.add_argument("--lang-code", help="reading language, if not the voice's (e.g. en-gb, fr, j)")
    book_parser.add_argument("--chapters", help="only these chapters, numbered as --list shows them: 1-3,7")
    book_parser.add_argument("--list", action="store_true", help="list the chapters and stop")
    book_parser.add_argument("--server", metavar="URL", help="send the pieces to this speech server (or a fleet's "
                             "balanced URL) instead of loading the model here")
    book_parser.add_argument("--api-key", help="the server's API key (default: $KOKORO_API_KEY or $OPENAI_API_KEY)")
    book_parser.add_argument("--parallel", type=int, default=1, help="pieces read at once (for --server: about "
                             "two per replica)")
    book_parser.add_argument("--subtitles", metavar="FILE", help="also write the whole book's subtitles: FILE.vtt "
                             "or FILE.srt")
    book_parser.add_argument("--manifest", metavar="FILE", help="also write FILE.json: chapters with start, end, "
                             "title and characters")
    book_parser.add_argument("--split-chapters", action="store_true", help="one file per chapter, in a folder "
                             "named as the output without its suffix")
    book_parser.add_argument("--title-pause", type=float, default=Narration.title_pause,
                             help="seconds of silence after a chapter's title")
    book_parser.add_argument("--paragraph-pause", type=float, default=Narration.paragraph_pause,
                             help="seconds between paragraphs")
    book_parser.add_argument("--chapter-pause", type=float, default=Narration.chapter_pause,
                             help="seconds at the end of each chapter")
    book_parser.add_argument("--read-titles", action=argparse.BooleanOptionalAction, default=True,
                             help="read each chapter's title at its start")
    book_parser.add_argument("--keep-work", action="store_true", help="keep the work folder after finishing")
    book_parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    for sub in (serve_parser, say_parser, voices_parser, book_parser):
        _add_settings_flags(sub)
    args = parser.parse_args(argv)
    settings = _settings(args)
    setup_logging(settings.log_level, settings.log_format)
    try:
        if args.command == "serve":
            serve(settings)
        elif args.command == "say":
            say(settings, args)
        elif args.command == "book":
            book(settings, args)
        else:
            voices(settings, args)
    except SetupError as exc:
        _fail(str(exc))
