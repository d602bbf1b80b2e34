package main

import (
	"runtime/debug"
	"testing"
)

func TestBuildVersion(t *testing.T) {
	t.Parallel()
	vcs := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "75ead9e0c0ffee1234567890"}, {Key: "vcs.modified", Value: "true"}, {Key: "vcs.time", Value: "2026-12-01T20:00:00Z"}}}
	for _, c := range []struct {
		v    string
		info *debug.BuildInfo
		ok   bool
		want string
	}{
		{"v1.2.3", vcs, true, "v1.2.3"}, // -ldflags wins
		{"dev", vcs, true, "dev+75ead9e0c0ff-dirty"},
		{"dev", &debug.BuildInfo{Main: debug.Module{Version: "v0.4.0"}}, true, "v0.4.0"}, // go install …@v0.4.0
		{"dev", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, true, "dev"},
		{"dev", nil, false, "dev"},
	} {
		if got := buildVersion(c.v, c.info, c.ok); got != c.want {
			t.Errorf("buildVersion(%q) = %q, want %q", c.v, got, c.want)
		}
	}
	if buildTime(vcs, true) != "2026-12-01T20:00:00Z" {
		t.Error("no commit time")
	}
}
