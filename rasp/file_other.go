//go:build !(linux && (amd64 || arm64))

package rasp

import "path/filepath"

// realPath returns abs with symlinks followed.
func realPath(abs string) (string, error) { return filepath.EvalSymlinks(abs) }
