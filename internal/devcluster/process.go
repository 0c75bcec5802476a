package devcluster

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ProcessState records one started component so that a later process (cruise
// dev down) can find and stop it.
type ProcessState struct {
	Name string `json:"name"`
	PID  int    `json:"pid"`
	// Binary is the absolute path of the executable with symlinks
	// resolved, as /proc/PID/exe shows it. With StartTime it guards
	// against signalling an unrelated process that reused the PID.
	Binary string `json:"binary"`
	// StartTime is the process's start time in clock ticks since boot
	// (/proc/PID/stat field 22); a PID and its start time name one
	// process. Zero in state written by older versions.
	StartTime uint64 `json:"startTime,omitempty"`
	Log       string `json:"log"`
}

// process is a component started by this process.
type process struct {
	ProcessState
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited (attached only)
	err  error         // exit error; valid after done is closed
}

// startProcess runs bin with args, logging to dir/logs/name.log. Attached
// processes die with the caller (Pdeathsig); detached ones start a session of
// their own and outlive it.
func startProcess(dir, name, bin string, args []string, detach bool) (*process, error) {
	logDir := filepath.Join(dir, "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, fmt.Errorf("create log dir: %w", err)
	}
	logPath := filepath.Join(logDir, name+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open %s log: %w", name, err)
	}
	defer logFile.Close() // the child holds its own descriptor

	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if detach {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	} else {
		// Own process group so a terminal's Ctrl-C reaches only the test
		// binary, which then stops us in order; SIGKILL if it dies first.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (%s): %w", name, bin, err)
	}
	// Record the path /proc/PID/exe will show: a binary directory of
	// symlinks (or a symlinked bin/k8s) would otherwise never match, and
	// dev down would take the running components for gone ones.
	resolved, err := filepath.EvalSymlinks(cmd.Path)
	if err != nil {
		resolved = cmd.Path
	}
	if resolved, err = filepath.Abs(resolved); err != nil {
		resolved = cmd.Path
	}
	started, _ := startTime(cmd.Process.Pid) // 0 if it already exited; then it is gone anyway
	p := &process{
		ProcessState: ProcessState{Name: name, PID: cmd.Process.Pid, Binary: resolved, StartTime: started, Log: logPath},
		cmd:          cmd,
		done:         make(chan struct{}),
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether an attached process has already exited.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// exitErr describes why a component exited early, with the end of its log.
func (p *process) exitErr() error {
	return fmt.Errorf("%s exited: %v; last log lines:\n%s", p.Name, p.err, tail(p.Log, 15))
}

// stopTimeout is how long a component gets to shut down after SIGTERM
// before it is killed.
const stopTimeout = 15 * time.Second

// stop terminates the process group of p and waits until it is gone.
func (p *process) stop() error {
	if p.exited() {
		return nil
	}
	_ = syscall.Kill(-p.PID, syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(stopTimeout):
	}
	_ = syscall.Kill(-p.PID, syscall.SIGKILL)
	<-p.done
	return nil
}

// stopRecorded stops a process this process did not start, found through
// its recorded state. It returns once the process is gone.
func stopRecorded(ps ProcessState) error {
	if !ps.Alive() {
		return nil
	}
	_ = syscall.Kill(-ps.PID, syscall.SIGTERM)
	_ = syscall.Kill(ps.PID, syscall.SIGTERM)
	if waitGone(ps, stopTimeout) {
		return nil
	}
	_ = syscall.Kill(-ps.PID, syscall.SIGKILL)
	_ = syscall.Kill(ps.PID, syscall.SIGKILL)
	if waitGone(ps, 5*time.Second) {
		return nil
	}
	return fmt.Errorf("%s (pid %d) did not stop", ps.Name, ps.PID)
}

func waitGone(ps ProcessState, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if !ps.Alive() {
			return true
		}
		time.Sleep(50 * time.Millisecond) // polling a PID has no event to wait on
	}
	return !ps.Alive()
}

// Alive reports whether the recorded process still runs: the PID exists,
// has the recorded start time and runs the recorded binary. A zombie
// (exited, not yet reaped by its parent) counts as gone.
func (ps ProcessState) Alive() bool {
	if ps.PID <= 0 {
		return false
	}
	st, err := readStat(ps.PID)
	if err != nil || st.state == 'Z' || st.state == 'X' {
		return false
	}
	if ps.StartTime != 0 && st.startTime != ps.StartTime {
		return false
	}
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", ps.PID))
	if err != nil {
		return false
	}
	exe = strings.TrimSuffix(exe, " (deleted)")
	return exe == ps.Binary || exe == resolvePath(ps.Binary)
}

// resolvePath is path with symlinks resolved, or path itself when that
// fails (the binary may have been removed since). State files of older
// versions recorded unresolved paths; resolving them here keeps them
// comparable with /proc/PID/exe.
func resolvePath(path string) string {
	if r, err := filepath.EvalSymlinks(path); err == nil {
		return r
	}
	return path
}

// procStat is what alive needs from /proc/PID/stat.
type procStat struct {
	state     byte
	startTime uint64
}

// readStat parses /proc/PID/stat. The command name (field 2) is in
// parentheses and may itself contain spaces and parentheses, so fields
// are counted from the last ')'.
func readStat(pid int) (procStat, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	// After ')' come field 3 (state) onwards; starttime is field 22.
	fields := strings.Fields(string(data[i+1:]))
	if len(fields) < 20 || len(fields[0]) != 1 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: %d fields after the command name", pid, len(fields))
	}
	start, err := strconv.ParseUint(fields[19], 10, 64)
	if err != nil {
		return procStat{}, fmt.Errorf("/proc/%d/stat: start time: %w", pid, err)
	}
	return procStat{state: fields[0][0], startTime: start}, nil
}

// startTime is the start time of the process pid in clock ticks since
// boot.
func startTime(pid int) (uint64, error) {
	st, err := readStat(pid)
	return st.startTime, err
}

// tail returns up to n last lines of the file at path.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// itoa keeps flag building readable.
func itoa(n int) string { return strconv.Itoa(n) }
