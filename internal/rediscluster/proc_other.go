//go:build !unix

package rediscluster

import (
	"os"
	"syscall"
)

func sysProcAttr() *syscall.SysProcAttr { return nil }

func killProcess(p *os.Process) error { return p.Kill() }
