package raft

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// errorPackages are the implementation layers whose errors can reach a
// caller of the root's functions and methods.
var errorPackages = []string{"core", "confchange", "readonly", "tracker"}

// notThroughRawNode lists the errors of those packages that nothing the
// root offers returns, each with the reason; every other one must be
// re-exported from the root so that a user can test for it with
// errors.Is without importing an implementation layer.
var notThroughRawNode = map[string]string{
	"confchange.ErrSyntax": "only confchange.ParseConfChanges returns it, a test notation the root does not offer",
}

// TestEveryErrorIsReachableFromTheRoot reads, with go/parser, every
// exported error value (Err...) and error type (a type with an Error
// method) of the implementation layers, and requires each to be
// re-exported by the root (a var or type alias naming it, directly or
// through core's own re-export) or listed in notThroughRawNode.
func TestEveryErrorIsReachableFromTheRoot(t *testing.T) {
	reexported := rootReexports(t)
	for _, dir := range errorPackages {
		for _, name := range exportedErrors(t, dir) {
			q := dir + "." + name
			if _, ok := notThroughRawNode[q]; ok {
				continue
			}
			if !reexported[q] {
				t.Errorf("%s is not reachable from the root: re-export it in aliases.go (or a types_*.go file), or list it in notThroughRawNode with the reason", q)
			}
		}
	}
}

// exportedErrors returns the exported Err... values and error types that
// dir declares.
func exportedErrors(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	errorTypes := map[string]bool{}
	forEachSourceFile(t, dir, func(f *ast.File) {
		for _, decl := range f.Decls {
			switch decl := decl.(type) {
			case *ast.GenDecl:
				if decl.Tok != token.VAR {
					continue
				}
				for _, s := range decl.Specs {
					for _, n := range s.(*ast.ValueSpec).Names {
						if n.IsExported() && strings.HasPrefix(n.Name, "Err") {
							names = append(names, n.Name)
						}
					}
				}
			case *ast.FuncDecl:
				if decl.Recv == nil || decl.Name.Name != "Error" || len(decl.Recv.List) != 1 {
					continue
				}
				recv := decl.Recv.List[0].Type
				if star, ok := recv.(*ast.StarExpr); ok {
					recv = star.X
				}
				if id, ok := recv.(*ast.Ident); ok && id.IsExported() {
					errorTypes[id.Name] = true
				}
			}
		}
	})
	for name := range errorTypes {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// rootReexports returns the qualified names (core.ErrX, confchange.ErrY)
// the root's non-test files re-export, following core's own re-exports of
// the lower layers' errors.
func rootReexports(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	coreAliases := selectorsByName(t, "core")
	for _, sel := range selectorsByName(t, ".") {
		out[sel] = true
		if pkg, name, ok := strings.Cut(sel, "."); ok && pkg == "core" {
			if lower, ok := coreAliases[name]; ok {
				out[lower] = true
			}
		}
	}
	return out
}

// selectorsByName maps each package-level var or type of dir declared as
// another package's name (X = pkg.Y, type X = pkg.Y) to "pkg.Y".
func selectorsByName(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	forEachSourceFile(t, dir, func(f *ast.File) {
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok {
				continue
			}
			for _, s := range gd.Specs {
				switch s := s.(type) {
				case *ast.ValueSpec:
					for i, n := range s.Names {
						if i < len(s.Values) {
							if sel := selectorText(s.Values[i]); sel != "" {
								out[n.Name] = sel
							}
						}
					}
				case *ast.TypeSpec:
					if s.Assign.IsValid() {
						if sel := selectorText(s.Type); sel != "" {
							out[s.Name.Name] = sel
						}
					}
				}
			}
		}
	})
	return out
}

// selectorText returns "pkg.Name" for a qualified identifier, else "".
func selectorText(e ast.Expr) string {
	sel, ok := e.(*ast.SelectorExpr)
	if !ok {
		return ""
	}
	pkg, ok := sel.X.(*ast.Ident)
	if !ok {
		return ""
	}
	return pkg.Name + "." + sel.Sel.Name
}

// forEachSourceFile parses every non-test Go file of dir.
func forEachSourceFile(t *testing.T, dir string, fn func(*ast.File)) {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		fn(f)
	}
}
