//go:build unix && !linux

package rediscluster

import (
	"os"
	"syscall"
)

// sysProcAttr puts the server in its own process group. There is no
// parent-death signal outside Linux: a crashed test binary can leave servers
// behind there.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

func killProcess(p *os.Process) error {
	if err := syscall.Kill(-p.Pid, syscall.SIGKILL); err != nil {
		return p.Kill()
	}
	return nil
}
