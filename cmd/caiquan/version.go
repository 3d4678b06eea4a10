package main

import (
	"fmt"
	"io"
	"runtime/debug"
)

// version and commit are stamped at build time by the Makefile's static
// target (-ldflags "-X main.version=v1.2.3 -X main.commit=…"). A plain
// `go build` leaves version "dev" and takes the commit from the VCS
// information Go records in the binary.
var (
	version = "dev"
	commit  = ""
)

// buildInfo is what -version prints and what a release is known by.
type buildInfo struct {
	Version  string
	Commit   string // "" when unknown (built outside a checkout)
	Modified bool   // built from a checkout with uncommitted changes
	Go       string
}

func readBuildInfo() buildInfo {
	b := buildInfo{Version: version, Commit: commit, Go: "unknown"}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	b.Go = bi.GoVersion
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			if b.Commit == "" {
				b.Commit = s.Value
			}
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

func (b buildInfo) String() string {
	return fmt.Sprintf("caiquan %s (commit %s, %s)", b.Version, b.commitLabel(), b.Go)
}

// commitLabel is the commit as -version and caiquan_build_info show it.
func (b buildInfo) commitLabel() string {
	c := b.Commit
	if c == "" {
		c = "unknown"
	}
	if b.Modified {
		c += "+modified"
	}
	return c
}

func printVersion(w io.Writer) {
	fmt.Fprintln(w, readBuildInfo())
}

// wantsVersion reports -version (or --version) among the flags.
func wantsVersion(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-version", "--version", "-version=true", "--version=true":
			return true
		}
	}
	return false
}
