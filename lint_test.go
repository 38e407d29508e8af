package raft

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// libraryLayers lists the library's packages from the bottom up; a package
// may import only packages listed before it (DESIGN.md, "Imports point down
// this list only").
var libraryLayers = []string{"raftpb", "tracker", "confchange", "readonly", "core", "."}

// allowedImports lists, for each layer, the module packages it may import.
var allowedImports = map[string][]string{
	"raftpb":     {},
	"tracker":    {"raftpb"},
	"confchange": {"tracker", "raftpb"},
	"readonly":   {"tracker", "raftpb"},
	"core":       {"confchange", "readonly", "tracker", "raftpb"},
	".":          {"core", "raftpb", "tracker", "confchange", "readonly"},
}

// forbiddenStdlib are imports that would give the pure core I/O, threads,
// wall time or global randomness.
var forbiddenStdlib = []string{"time", "math/rand", "math/rand/v2", "crypto/rand", "sync", "sync/atomic", "os", "net", "log", "io/ioutil"}

// maxFuncLines is the hard limit on a library function's length: a handler
// longer than this is holding two rules.
const maxFuncLines = 100

const modulePath = "github.com/tickraft/raft"

func TestLibraryPackagesImportOnlyDownTheLayers(t *testing.T) {
	for _, dir := range libraryLayers {
		forEachLibraryFile(t, dir, func(path string, f *ast.File, _ *token.FileSet) {
			for _, imp := range f.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				checkImport(t, dir, path, p)
			}
		})
	}
}

func checkImport(t *testing.T, dir, file, imp string) {
	t.Helper()
	if rest, ok := strings.CutPrefix(imp, modulePath); ok {
		target := strings.TrimPrefix(rest, "/")
		if target == "" {
			target = "."
		}
		for _, ok := range allowedImports[dir] {
			if target == ok {
				return
			}
		}
		t.Errorf("%s imports %s: package %q may import only %v", file, imp, dir, allowedImports[dir])
		return
	}
	if dir == "." {
		return // the root package may use fmt and friends; it still does no I/O
	}
	for _, bad := range forbiddenStdlib {
		if imp == bad {
			t.Errorf("%s imports %q: the library core does no I/O, starts no goroutines, reads no clock and draws no global randomness", file, imp)
		}
	}
	if !strings.Contains(imp, ".") {
		return
	}
	t.Errorf("%s imports %q: runtime dependencies are the standard library only", file, imp)
}

func TestLibraryPackagesPrintNothing(t *testing.T) {
	for _, dir := range libraryLayers {
		forEachLibraryFile(t, dir, func(path string, f *ast.File, fset *token.FileSet) {
			ast.Inspect(f, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == "fmt" && strings.HasPrefix(sel.Sel.Name, "Print") {
					t.Errorf("%s: fmt.%s: the library writes through its Logger only", fset.Position(sel.Pos()), sel.Sel.Name)
				}
				return true
			})
		})
	}
}

func TestLibraryFunctionsStayShort(t *testing.T) {
	for _, dir := range libraryLayers {
		forEachLibraryFile(t, dir, func(path string, f *ast.File, fset *token.FileSet) {
			for _, d := range f.Decls {
				fn, ok := d.(*ast.FuncDecl)
				if !ok || fn.Body == nil {
					continue
				}
				start := fset.Position(fn.Pos()).Line
				end := fset.Position(fn.End()).Line
				if n := end - start + 1; n > maxFuncLines {
					t.Errorf("%s: %s is %d lines long; the limit is %d", fset.Position(fn.Pos()), fn.Name.Name, n, maxFuncLines)
				}
			}
		})
	}
}

// forEachLibraryFile parses every non-test Go file of dir.
func forEachLibraryFile(t *testing.T, dir string, f func(path string, file *ast.File, fset *token.FileSet)) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return
		}
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		path := filepath.Join(dir, name)
		file, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly|parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		if file, err = parser.ParseFile(fset, path, nil, parser.SkipObjectResolution); err != nil {
			t.Fatal(err)
		}
		f(path, file, fset)
	}
}
