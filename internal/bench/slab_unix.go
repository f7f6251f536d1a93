//go:build unix

package bench

import "syscall"

func mapRoom(n int) ([]byte, error) {
	return syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
}

func unmapRoom(b []byte) { _ = syscall.Munmap(b) }
