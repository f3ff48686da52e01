// Package speech turns the audio of a file or a live stream into words
// with times. Two engines answer the same question: Local runs
// pocketsphinx (Debian's pocketsphinx and pocketsphinx-en-us packages),
// fed 16 kHz mono PCM by ffmpeg, and works out of the box on a CPU;
// External sends the audio to an OpenAI-compatible transcription endpoint
// (whisper.cpp's server, faster-whisper servers, hosted APIs) configured in
// ai.providers.transcription. Both give a Transcript whose times are
// seconds from the start of the media, the unit every subtitle and search
// feature above builds on.
package speech
