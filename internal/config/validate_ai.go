package config

import (
	"fmt"
	"regexp"
	"strings"

	"mps/internal/aispec"
)

// Checks of the ai section and the live QC rule: a blocklist with a bad
// regular expression or suggestion fails at load, not when a file is
// audited.

func (v *validator) aiAudit(a AIAudit) error {
	seen := map[string]bool{}
	for i, l := range a.Lists {
		p := fmt.Sprintf("ai.audit.lists[%d]", i)
		if strings.TrimSpace(l.Label) == "" {
			return v.errorf(p+".label", "must not be empty")
		}
		if seen[l.Label] {
			return v.errorf(p+".label", "duplicate label %q", l.Label)
		}
		seen[l.Label] = true
		if len(l.Words) == 0 && len(l.Regexps) == 0 {
			return v.errorf(p, "list %q has no words and no regexps", l.Label)
		}
		for j, re := range l.Regexps {
			if _, err := regexp.Compile(re); err != nil {
				return v.errorf(fmt.Sprintf("%s.regexps[%d]", p, j), "bad regular expression: %v", err)
			}
		}
		if err := v.oneOf(p+".suggestion", l.Suggestion, "review", "block"); err != nil {
			return err
		}
	}
	return nil
}

// auditRefs checks that an audit operation names only lists that exist.
func (v *validator) auditRefs(c *Config, prefix string, a *aispec.AuditSpec) error {
	if a == nil {
		return nil
	}
	for i, name := range a.Lists {
		found := false
		for _, l := range c.AI.Audit.Lists {
			found = found || l.Label == name
		}
		if !found {
			return v.errorf(fmt.Sprintf("%s.audit.lists[%d]", prefix, i), "unknown audit list %q (want a label of ai.audit.lists)", name)
		}
	}
	return nil
}

func (v *validator) qc(p string, q *QC) error {
	if q == nil {
		return nil
	}
	if q.Decode != "" {
		if err := v.oneOf(p+".decode", q.Decode, QCDecodeKeyframes, QCDecodeAll); err != nil {
			return err
		}
	}
	for k, d := range map[string]Duration{"black": q.Black, "freeze": q.Freeze, "silence": q.Silence,
		"keyframe_interval": q.KeyframeInterval, "pts_jump": q.PTSJump} {
		if d < 0 {
			return v.errorf(p+"."+k, "must not be negative")
		}
	}
	for k, f := range map[string]float64{"fps_drop": q.FPSDrop, "bitrate_collapse": q.BitrateCollapse} {
		if f < 0 || f >= 1 {
			return v.errorf(p+"."+k, "must be a share between 0 and 1, got %g", f)
		}
	}
	return nil
}

// liveSubtitles checks a rule's subtitles section.
func (v *validator) liveSubtitles(prefix string, s *LiveSubtitles) error {
	if s == nil || s.Language == "" {
		return nil
	}
	if err := (&aispec.Subtitles{Language: s.Language}).Validate(); err != nil {
		return v.wrap(prefix+".language", err)
	}
	return nil
}
