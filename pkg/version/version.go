// Package version holds the build version, stamped at link time with
// -ldflags "-X github.com/newswatch/newswatch/pkg/version.Version=v1.2.3".
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version is the release version; "dev" for builds without -ldflags.
var Version = "dev"

// String returns the version line every binary prints for --version.
func String(binary string) string {
	rev := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				rev = " (" + s.Value[:12] + ")"
			}
		}
	}
	return fmt.Sprintf("%s %s%s %s", binary, Version, rev, runtime.Version())
}
