package audit

import (
	"regexp"
	"strings"
	"unicode"

	"mps/internal/config"
)

// matcher is one blocklist compiled.
type matcher struct {
	label      string
	suggestion string
	words      map[string]bool
	res        []*regexp.Regexp
}

// compile prepares the lists named in names (all when empty). The config
// validated the expressions; one that fails here is skipped.
func compile(lists []config.AuditList, names []string) []matcher {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out []matcher
	for _, l := range lists {
		if len(want) > 0 && !want[l.Label] {
			continue
		}
		m := matcher{label: l.Label, suggestion: l.Suggestion, words: map[string]bool{}}
		for _, w := range l.Words {
			m.words[normWord(w)] = true
		}
		for _, e := range l.Regexps {
			if re, err := regexp.Compile(e); err == nil {
				m.res = append(m.res, re)
			}
		}
		out = append(out, m)
	}
	return out
}

// normWord lower-cases w and strips the punctuation around it, so "Money,"
// matches the listed "money".
func normWord(w string) string {
	return strings.ToLower(strings.TrimFunc(w, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }))
}

// matchWord reports whether one word is on the list.
func (m *matcher) matchWord(w string) bool {
	if m.words[normWord(w)] {
		return true
	}
	for _, re := range m.res {
		if re.MatchString(w) {
			return true
		}
	}
	return false
}

// matchLine reports whether a line of text holds a listed word or matches
// an expression.
func (m *matcher) matchLine(line string) bool {
	for _, w := range strings.Fields(line) {
		if m.words[normWord(w)] {
			return true
		}
	}
	for _, re := range m.res {
		if re.MatchString(line) {
			return true
		}
	}
	return false
}
