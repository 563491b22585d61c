package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestBinaryLinksNoTestCode: the binary runs its in-process stack (soak,
// bench) from package stack, not from the test helpers. No payflow package
// in its dependencies imports testing or is a test helper package.
//
// Package testing itself is still linked, by third-party code payflow cannot
// drop: the Temporal SDK's internal package (its workflow test suite lives
// there), fiber's utils (assertion helpers) and the embedded Temporal server.
func TestBinaryLinksNoTestCode(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", `{{.ImportPath}} {{join .Imports " "}}`, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	const module = "github.com/payflow/payflow/"
	seen := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := fields[0]
		if !strings.HasPrefix(pkg, module) {
			continue
		}
		seen++
		if strings.HasSuffix(pkg, "test") || strings.HasSuffix(pkg, "testenv") {
			t.Errorf("the binary links the test helper package %s", pkg)
		}
		for _, imp := range fields[1:] {
			if imp == "testing" || strings.HasPrefix(imp, "testing/") {
				t.Errorf("%s imports %s, so the binary links test code", pkg, imp)
			}
		}
	}
	if seen < 10 {
		t.Fatalf("go list saw only %d payflow packages: the check is not looking at the binary", seen)
	}
}
