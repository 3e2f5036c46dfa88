//go:build linux && (amd64 || arm64)

package rasp

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// oPath is O_PATH on linux/amd64 and linux/arm64 (the syscall package
// leaves it out on amd64).
const oPath = 0x200000

// fdPaths reports that fdPath can name an open file.
const fdPaths = true

// realPath returns the path the kernel resolves abs to, symlinks
// followed: it opens abs with O_PATH, which does no I/O and has no side
// effect even on FIFOs and devices, and reads the descriptor's link in
// /proc/self/fd. Three system calls, whatever the depth of abs. Without
// /proc it walks the path instead.
func realPath(abs string) (string, error) {
	fd, err := syscall.Open(abs, oPath|syscall.O_CLOEXEC, 0)
	if err != nil {
		return "", err
	}
	defer syscall.Close(fd)
	p, err := fdLink(fd)
	if err != nil {
		return filepath.EvalSymlinks(abs) // no /proc
	}
	return p, nil
}

// fdPath returns the path of the file f has open, from /proc/self/fd.
func fdPath(f *os.File) (string, error) {
	rc, err := f.SyscallConn() // unlike f.Fd, keeps the file's I/O mode
	if err != nil {
		return "", err
	}
	var p string
	cerr := rc.Control(func(fd uintptr) { p, err = fdLink(int(fd)) })
	if cerr != nil {
		return "", cerr
	}
	return p, err
}

// fdLink reads /proc/self/fd/<fd>: the absolute path of the open file.
func fdLink(fd int) (string, error) {
	var buf [4096]byte
	n, err := syscall.Readlink("/proc/self/fd/"+strconv.Itoa(fd), buf[:])
	if err != nil {
		return "", err
	}
	if n == len(buf) || n == 0 || buf[0] != '/' {
		return "", errors.New("unexpected /proc/self/fd link")
	}
	return string(buf[:n]), nil
}
