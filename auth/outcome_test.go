package auth

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"slices"
	"strconv"
	"testing"
)

// TestOutcomesListEveryRefusal reads the handlers' sources: a refusal
// that is missing from LoginOutcomes or GuestOutcomes would have no zero
// series in caiquan_logins_total.
func TestOutcomesListEveryRefusal(t *testing.T) {
	values := map[string]string{}
	for _, file := range []string{"login.go", "guest.go"} {
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if vs, ok := n.(*ast.ValueSpec); ok {
				for i, name := range vs.Names {
					if i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							values[name.Name], _ = strconv.Unquote(lit.Value)
						}
					}
				}
			}
			return true
		})
	}
	refusal := regexp.MustCompile(`Refusal\{(Code\w+)`)
	for file, outcomes := range map[string][]string{"login.go": LoginOutcomes, "guest.go": GuestOutcomes} {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		found := refusal.FindAllSubmatch(src, -1)
		if len(found) < 5 {
			t.Fatalf("%s: found only %d refusals; has the code changed shape?", file, len(found))
		}
		for _, m := range found {
			code, ok := values[string(m[1])]
			if !ok {
				t.Errorf("%s: %s is not a string constant", file, m[1])
				continue
			}
			if !slices.Contains(outcomes, code) {
				t.Errorf("%s answers %s (%q), which its outcomes list lacks", file, m[1], code)
			}
		}
	}
}
