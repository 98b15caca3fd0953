from kokoro_speech.cli import main

main()
