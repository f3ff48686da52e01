package config

import (
	"testing"
	"time"
)

func TestAIAuditAndQCErrors(t *testing.T) {
	runParseErrorCases(t, []parseErrorCase{
		{"bad regexp", "ai:\n  audit:\n    lists:\n      - label: x\n        regexps: [\"(\"]\n        suggestion: block\n",
			5, "ai.audit.lists[0].regexps[0]", "bad regular expression"},
		{"bad suggestion", "ai:\n  audit:\n    lists:\n      - label: x\n        words: [a]\n        suggestion: ban\n",
			6, "ai.audit.lists[0].suggestion", "want one of: review, block"},
		{"empty list", "ai:\n  audit:\n    lists:\n      - label: x\n        suggestion: review\n",
			4, "ai.audit.lists[0]", "no words and no regexps"},
		{"unknown list", "templates:\n  a:\n    type: audit\n    audit:\n      lists: [nope]\n",
			5, "templates.a.audit.lists[0]", "unknown audit list \"nope\""},
		{"qc decode", "paths:\n  - name: live/a\n    qc:\n      enabled: true\n      decode: some\n",
			5, "paths[0].qc.decode", "want one of: keyframes, all"},
		{"qc share", "paths:\n  - name: live/a\n    qc:\n      fps_drop: 1.5\n",
			4, "paths[0].qc.fps_drop", "share between 0 and 1"},
	})
}

func TestQCRuleResolves(t *testing.T) {
	cfg, err := Parse("t.yaml", []byte("ai:\n  audit:\n    lists:\n      - label: brand\n        words: [acme]\n        suggestion: block\n"+
		"paths:\n  - pattern: live/*\n    qc:\n      enabled: true\n      black: 2s\n"))
	if err != nil {
		t.Fatal(err)
	}
	if r := cfg.Rule("live/x"); !r.QC.Enabled || r.QC.Black.D() != 2*time.Second {
		t.Fatalf("qc = %+v", r.QC)
	}
	if r := cfg.Rule("other"); r.QC.Enabled {
		t.Fatal("qc on for a path without a qc rule")
	}
	if l := cfg.AI.Audit.Lists; len(l) != 1 || l[0].Suggestion != "block" || l[0].Words[0] != "acme" {
		t.Fatalf("lists = %+v", l)
	}
}
