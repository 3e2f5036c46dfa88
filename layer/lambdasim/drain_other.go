//go:build !linux

package lambdasim

import "os"

// pendingBytes is not available on this platform; log lines may then trail
// the platform events that follow them.
func pendingBytes(*os.File) int { return -1 }
