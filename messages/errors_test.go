package messages

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestCodesListsEveryCode reads errors.go: a code added there but not to
// Codes would have no zero series in caiquan_messages_rejected_total.
func TestCodesListsEveryCode(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !strings.HasPrefix(name.Name, "Code") || !ok || lit.Kind != token.STRING {
					continue
				}
				n++
				v, _ := strconv.Unquote(lit.Value)
				if !slices.Contains(Codes, v) {
					t.Errorf("%s (%q) is not in Codes", name.Name, v)
				}
			}
		}
	}
	if n != len(Codes) {
		t.Errorf("errors.go declares %d codes, Codes lists %d", n, len(Codes))
	}
}
