package helm

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"helm.sh/helm/v4/pkg/chart/loader/archive"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/ignore"
)

// Default limits of a chart, far above real charts (the largest public
// ones are a few MiB unpacked) and low enough that a hostile chart cannot
// exhaust the controller's memory.
const (
	DefaultMaxFileBytes  int64 = 5 << 20
	DefaultMaxChartBytes int64 = 50 << 20
)

// Limits bound what loading a chart reads.
type Limits struct {
	// MaxFileBytes caps one file; zero means DefaultMaxFileBytes.
	MaxFileBytes int64
	// MaxChartBytes caps the chart unpacked, dependencies included; zero
	// means DefaultMaxChartBytes.
	MaxChartBytes int64
}

func (l Limits) withDefaults() Limits {
	if l.MaxFileBytes <= 0 {
		l.MaxFileBytes = DefaultMaxFileBytes
	}
	if l.MaxChartBytes <= 0 {
		l.MaxChartBytes = DefaultMaxChartBytes
	}
	return l
}

// Errors of loading, matched with errors.Is.
var (
	// ErrPathEscape: a symlink, or a path in an archive, leads outside the
	// repository (or archive) the chart is in.
	ErrPathEscape = errors.New("escapes the chart's root")
	// ErrTooLarge: a file or the whole chart is over its limit.
	ErrTooLarge = errors.New("over the size limit")
	// ErrInvalidChart: not a chart Helm can load.
	ErrInvalidChart = errors.New("invalid chart")
)

// IsChartDir says whether dir holds a Chart.yaml (a regular file, or a
// symlink to one).
func IsChartDir(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, "Chart.yaml"))
	return err == nil && st.Mode().IsRegular()
}

// LoadDir loads the chart in the directory rel of the checked-out
// repository root. Unlike Helm's own directory loader, it never follows a
// symlink out of root: a chart in Git may link to a library chart
// elsewhere in the repository, never to the controller's files. It
// returns the chart and the repository-relative paths of the files read.
func LoadDir(root, rel string, limits Limits) (*chart.Chart, []string, error) {
	limits = limits.withDefaults()
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, nil, fmt.Errorf("repository root: %w", err)
	}
	rel = path.Clean(filepath.ToSlash(rel))
	if path.IsAbs(rel) || rel == ".." || strings.HasPrefix(rel, "../") {
		return nil, nil, fmt.Errorf("chart path %s: %w", rel, ErrPathEscape)
	}
	l := &dirLoader{root: realRoot, limits: limits, visiting: map[string]bool{}}
	dir, err := l.inside(filepath.Join(realRoot, filepath.FromSlash(rel)), rel)
	if err != nil {
		return nil, nil, err
	}
	rules, err := l.ignoreRules(dir, rel)
	if err != nil {
		return nil, nil, err
	}
	if err := l.walk(dir, rel, "", rules); err != nil {
		return nil, nil, err
	}
	ch, err := loader.LoadFiles(l.files)
	if err != nil {
		return nil, nil, fmt.Errorf("chart %s: %w: %w", rel, ErrInvalidChart, err)
	}
	return ch, l.read, nil
}

type dirLoader struct {
	root     string
	limits   Limits
	total    int64
	files    []*archive.BufferedFile
	read     []string
	visiting map[string]bool // real directories on the current walk path
}

// inside resolves p's symlinks and checks the result lies inside root;
// shown names it in errors.
func (l *dirLoader) inside(p, shown string) (string, error) {
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return "", fmt.Errorf("%s: %w", shown, err)
	}
	if real != l.root && !strings.HasPrefix(real, l.root+string(filepath.Separator)) {
		return "", fmt.Errorf("%s: %w (it resolves outside the repository)", shown, ErrPathEscape)
	}
	return real, nil
}

func (l *dirLoader) ignoreRules(dir, rel string) (*ignore.Rules, error) {
	rules := ignore.Empty()
	p := filepath.Join(dir, ignore.HelmIgnore)
	if _, err := os.Lstat(p); err == nil {
		data, err := l.readFile(p, path.Join(rel, ignore.HelmIgnore))
		if err != nil {
			return nil, err
		}
		if rules, err = ignore.Parse(bytes.NewReader(data)); err != nil {
			return nil, fmt.Errorf("%s: %w", path.Join(rel, ignore.HelmIgnore), err)
		}
	}
	rules.AddDefaults()
	return rules, nil
}

// walk adds the files under the real directory dir, named rel in the
// repository and prefix in the chart.
func (l *dirLoader) walk(dir, rel, prefix string, rules *ignore.Rules) error {
	if l.visiting[dir] {
		return fmt.Errorf("%s: a symlink loop", rel)
	}
	l.visiting[dir] = true
	defer delete(l.visiting, dir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	for _, e := range entries {
		name := path.Join(prefix, e.Name())
		shown := path.Join(rel, e.Name())
		p := filepath.Join(dir, e.Name())
		if e.Type()&fs.ModeSymlink != 0 {
			if p, err = l.inside(p, shown); err != nil {
				return err
			}
		}
		info, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("%s: %w", shown, err)
		}
		if rules.Ignore(name, info) {
			continue
		}
		switch {
		case info.IsDir():
			if err := l.walk(p, shown, name, rules); err != nil {
				return err
			}
		case info.Mode().IsRegular():
			data, err := l.readFile(p, shown)
			if err != nil {
				return err
			}
			l.files = append(l.files, &archive.BufferedFile{Name: name, ModTime: info.ModTime(), Data: bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))})
		default:
			return fmt.Errorf("%s: not a regular file (%s)", shown, info.Mode().Type())
		}
	}
	return nil
}

func (l *dirLoader) readFile(p, shown string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", shown, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, l.limits.MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", shown, err)
	}
	if int64(len(data)) > l.limits.MaxFileBytes {
		return nil, fmt.Errorf("%s: %w: larger than %d bytes", shown, ErrTooLarge, l.limits.MaxFileBytes)
	}
	l.total += int64(len(data))
	if l.total > l.limits.MaxChartBytes {
		return nil, fmt.Errorf("%s: %w: the chart is larger than %d bytes", shown, ErrTooLarge, l.limits.MaxChartBytes)
	}
	l.read = append(l.read, shown)
	return data, nil
}

// LoadArchive loads a packaged chart (.tgz); name says where it came
// from, for errors. The archive must come from chartrepo, whose Fetch
// inspects every entry (no links, nothing outside the chart's directory,
// a bounded size) before anything here reads it; Helm's loader checks
// paths again.
func LoadArchive(name string, data []byte) (*chart.Chart, error) {
	ch, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("chart archive %s: %w: %w", name, ErrInvalidChart, err)
	}
	return ch, nil
}
