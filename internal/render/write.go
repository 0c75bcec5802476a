package render

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// WriteYAML prints objs as a multi-document YAML stream, each document
// preceded by "---" and a "# Source: FILE" comment, as `cruise build`
// shows them. Keys are sorted, so the output is stable.
func WriteYAML(w io.Writer, objs []Object) error {
	bw := bufio.NewWriter(w)
	for _, o := range objs {
		b, err := yaml.Marshal(o.Object)
		if err != nil {
			return fmt.Errorf("render: write %s from %s: %w", objectID(o), o.Source, err)
		}
		source := o.Source
		if strings.ContainsAny(source, "\r\n") {
			// A newline in a file name would end the comment and inject
			// YAML into the stream.
			source = strconv.Quote(source)
		}
		fmt.Fprintf(bw, "---\n# Source: %s\n", source)
		bw.Write(b)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("render: write: %w", err)
	}
	return nil
}
