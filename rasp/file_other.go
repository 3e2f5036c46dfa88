//go:build !(linux && (amd64 || arm64))

package rasp

import (
	"errors"
	"os"
	"path/filepath"
)

// realPath returns abs with symlinks followed.
func realPath(abs string) (string, error) { return filepath.EvalSymlinks(abs) }

// fdPaths reports that fdPath can name an open file: not here.
const fdPaths = false

func fdPath(*os.File) (string, error) { return "", errors.ErrUnsupported }
