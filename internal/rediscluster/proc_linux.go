//go:build linux

package rediscluster

import (
	"os"
	"syscall"
)

// sysProcAttr puts the server in its own process group (so a terminal's
// Ctrl-C does not reach it before Stop does, and Kill can signal the group)
// and asks the kernel to SIGKILL it when the thread that started it dies,
// so a crashed test binary does not leave servers behind. Processes are
// started from one locked OS thread that never exits (see spawn), which is
// what makes Pdeathsig mean "when this process dies".
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func killProcess(p *os.Process) error {
	if err := syscall.Kill(-p.Pid, syscall.SIGKILL); err != nil {
		return p.Kill()
	}
	return nil
}
