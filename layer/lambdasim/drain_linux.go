package lambdasim

import (
	"os"
	"syscall"
	"unsafe"
)

// pendingBytes returns how many bytes wait unread in the pipe f, or -1.
func pendingBytes(f *os.File) int {
	rc, err := f.SyscallConn()
	if err != nil {
		return -1
	}
	n := -1
	_ = rc.Control(func(fd uintptr) { // an error means the pipe is closed: nothing pending
		var v int32
		if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&v))); errno == 0 {
			n = int(v)
		}
	})
	return n
}
