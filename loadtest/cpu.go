package loadtest

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuTime returns the CPU time (user + system) this process has used, so a
// report can say how much of the shared machine the generator itself took.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// userHZ is the unit of the CPU times in /proc (USER_HZ), 100 on every Linux
// architecture Go runs on in practice.
const userHZ = 100

// CPUUsage is where the machine's CPU went during a run: the processes
// watched (by name), and the whole machine from /proc/stat. Seconds of CPU.
type CPUUsage struct {
	Wall      float64            `json:"wall_s"`
	Cores     float64            `json:"cores"`     // CPU-seconds available per second
	Busy      float64            `json:"busy_s"`    // the whole machine, every process
	Processes map[string]float64 `json:"processes"` // watched processes, and "generator" (this one)
}

// cpuSnapshot is one reading of the counters CPUUsage subtracts.
type cpuSnapshot struct {
	at          time.Time
	busy, total float64
	procs       map[string]float64
	self        time.Duration
}

// takeCPUSnapshot reads /proc for the watched processes. Processes that
// cannot be read (gone, or no /proc) are left out.
func takeCPUSnapshot(watch map[string]int) cpuSnapshot {
	s := cpuSnapshot{at: time.Now(), procs: map[string]float64{}, self: cpuTime()}
	s.busy, s.total, _ = machineCPU()
	for name, pid := range watch {
		if v, err := processCPU(pid); err == nil {
			s.procs[name] = v
		}
	}
	return s
}

// usageSince returns the CPU used between two snapshots.
func usageSince(a, b cpuSnapshot) *CPUUsage {
	u := &CPUUsage{Wall: b.at.Sub(a.at).Seconds(), Busy: b.busy - a.busy, Processes: map[string]float64{}}
	if u.Wall > 0 {
		u.Cores = (b.total - a.total) / u.Wall
	}
	for name, v := range b.procs {
		if v0, ok := a.procs[name]; ok {
			u.Processes[name] = v - v0
		}
	}
	u.Processes["generator"] = (b.self - a.self).Seconds()
	return u
}

// processCPU returns the user + system CPU seconds of a process.
func processCPU(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces: count fields after its ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("loadtest: /proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state): utime is field 14, stime 15
	if len(f) < 13 {
		return 0, fmt.Errorf("loadtest: /proc/%d/stat: too few fields", pid)
	}
	ut, err1 := strconv.ParseFloat(f[11], 64)
	st, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("loadtest: /proc/%d/stat: bad times", pid)
	}
	return (ut + st) / userHZ, nil
}

// machineCPU returns the busy and total CPU seconds of the whole machine
// since boot (first line of /proc/stat; idle and iowait are not busy).
func machineCPU() (busy, total float64, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, 0, fmt.Errorf("loadtest: /proc/stat: unexpected format")
	}
	for i, v := range f[1:] {
		if i >= 8 { // guest times are already counted in user
			break
		}
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, 0, err
		}
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy / userHZ, total / userHZ, nil
}
