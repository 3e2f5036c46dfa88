//go:build linux && (amd64 || arm64)

package rasp

import (
	"errors"
	"strconv"
	"syscall"
)

// oPath is O_PATH on linux/amd64 and linux/arm64 (the syscall package
// leaves it out on amd64).
const oPath = 0x200000

// realPath returns the path the kernel resolves abs to, symlinks
// followed: it opens abs with O_PATH, which does no I/O and has no side
// effect even on FIFOs and devices, and reads the descriptor's link in
// /proc/self/fd. Three system calls, whatever the depth of abs.
func realPath(abs string) (string, error) {
	fd, err := syscall.Open(abs, oPath|syscall.O_CLOEXEC, 0)
	if err != nil {
		return "", err
	}
	defer syscall.Close(fd)
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
