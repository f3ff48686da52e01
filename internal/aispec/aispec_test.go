package aispec

import (
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	cases := []struct {
		name string
		spec interface{ Validate() error }
		want string
	}{
		{"audit ok", &AuditSpec{Lists: []string{"a"}, Technical: AuditTechnical{Suggestion: "block"}}, ""},
		{"audit empty list name", &AuditSpec{Lists: []string{" "}}, "lists[0]: empty list name"},
		{"audit suggestion", &AuditSpec{Technical: AuditTechnical{Suggestion: "ban"}}, "must be review or block"},
		{"audit loudness", &AuditSpec{Technical: AuditTechnical{LoudnessMin: -5, LoudnessMax: -20}}, "loudness_min -5 must be below"},
		{"audit negative", &AuditSpec{Technical: AuditTechnical{FreezeSeconds: -1}}, "freeze_seconds must not be negative"},
		{"quality ok", &QualitySpec{Checks: map[string]float64{"psnr_min": 40}, Disable: []string{"fps_min"}}, ""},
		{"quality unknown", &QualitySpec{Checks: map[string]float64{"psnr": 40}}, "unknown quality check psnr"},
		{"quality unknown disable", &QualitySpec{Disable: []string{"vmaf_min"}}, "unknown quality check vmaf_min"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.spec.Validate()
			if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
	if n := len(QualityChecks); n < 20 {
		t.Fatalf("%d quality checks", n)
	}
	if d := (AuditTechnical{}).WithDefaults(); d.BlackSeconds != 1 || d.Suggestion != SuggestReview || d.LoudnessMax != -8 {
		t.Fatalf("defaults %+v", d)
	}
}
