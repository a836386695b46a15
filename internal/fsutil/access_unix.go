//go:build unix

package fsutil

import "golang.org/x/sys/unix"

// writable reports whether this process may write path (access(2), W_OK).
func writable(path string) error { return unix.Access(path, unix.W_OK) }
