package summary

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// topic is one generated topic of the test transcript.
type topic struct {
	noun      string
	sentences []string
	start     float64
}

// threeTopics are three topics of six sentences each, each repeating its
// key noun; the pauses between topics are no longer than within them, so
// only the change of words marks the topic change.
func threeTopics() []topic {
	return []topic{
		{noun: "volcano", sentences: []string{
			"the volcano on the island erupted last spring after a long quiet period",
			"hot lava from the volcano flowed down toward the fishing villages",
			"scientists measured the gas and ash rising from the volcano crater",
			"the ash cloud closed the airport for three days",
			"villagers watched the glowing lava reach the coast at night",
			"the volcano still shakes the ground every few hours",
		}},
		{noun: "guitar", sentences: []string{
			"my grandfather built his first guitar from spruce and maple wood",
			"a guitar needs six strings tuned carefully before every concert",
			"the neck of the guitar holds frets made of nickel silver",
			"he practiced chords and scales on the guitar every evening",
			"good strings and a solid bridge give the guitar a warm tone",
			"later he sold each handmade guitar to musicians across the country",
		}},
		{noun: "satellite", sentences: []string{
			"the new weather satellite launched on a rocket from the coast",
			"the satellite circles the planet in a low polar orbit",
			"solar panels on the satellite charge batteries during the orbit",
			"engineers send commands to the satellite from a ground station",
			"its cameras photograph storms and clouds over the oceans",
			"data from the satellite improves forecasts for farmers and pilots",
		}},
	}
}

// writeTopics writes the topics as a transcript: 0.35 s per word, 0.8 s
// between sentences. It fills each topic's start and returns the file.
func writeTopics(t testing.TB, dir string, topics []topic) string {
	t.Helper()
	var words []Word
	now := 0.5
	for i := range topics {
		topics[i].start = now
		for _, s := range topics[i].sentences {
			for _, w := range strings.Fields(s) {
				words = append(words, Word{Word: w, Start: now, End: now + 0.3})
				now += 0.35
			}
			now += 0.8
		}
	}
	b, _ := json.Marshal(words)
	path := filepath.Join(dir, "transcript.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
