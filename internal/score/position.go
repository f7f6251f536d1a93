package score

import (
	"fmt"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// positions finds where in the YAML source a spec path was written.
type positions struct {
	file string
	root string
	ast  *ast.File
}

func newPositions(sp Spec) *positions {
	p := &positions{file: sp.File, root: sp.Path}
	if p.file == "" {
		p.file = "rules"
	}
	if p.root == "" {
		p.root = "$"
	}
	if len(sp.Source) > 0 {
		p.ast, _ = parser.ParseBytes(sp.Source, 0) // the source was already decoded; a parse failure only costs the line
	}
	return p
}

// errorf formats a problem at path (e.g. "signals[2].window"), prefixed with
// the file, line and column where that key or its closest parent was written.
func (p *positions) errorf(path, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	where := p.file
	if line, col := p.find(path); line > 0 {
		where = fmt.Sprintf("%s:%d:%d", p.file, line, col)
	}
	return fmt.Errorf("%s: %s: %s", where, strings.TrimPrefix(p.root+"."+path, "$."), msg)
}

func (p *positions) find(path string) (int, int) {
	if p.ast == nil {
		return 0, 0
	}
	for path != "" {
		yp, err := yaml.PathString(p.root + "." + path)
		if err == nil {
			if n, err := yp.FilterFile(p.ast); err == nil && n != nil {
				tk := n.GetToken()
				return tk.Position.Line, tk.Position.Column
			}
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0, 0
}
