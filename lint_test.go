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
// may import only packages listed before it (ARCHITECTURE.md, "Import
// rules").
var libraryLayers = []string{"raftpb", "tracker", "confchange", "readonly", "core", "."}

// allowedImports lists, for each layer, the module packages it may import.
var allowedImports = map[string][]string{
	"raftpb":     {},
	"tracker":    {"raftpb"},
	"confchange": {"tracker", "raftpb"},
	"readonly":   {"tracker", "raftpb"},
	"core":       {"confchange", "readonly", "tracker", "raftpb"},
	".":          {"core", "raftpb", "tracker"},
}

// forbiddenStdlib are imports that would give the pure core I/O, threads,
// wall time or global randomness.
// An entry also forbids the packages below it (net forbids net/http).
var forbiddenStdlib = []string{"time", "math/rand", "crypto/rand", "sync", "os", "net", "log", "io/ioutil", "syscall", "unsafe", "runtime"}

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
	for _, bad := range forbiddenStdlib {
		if imp == bad || strings.HasPrefix(imp, bad+"/") {
			t.Errorf("%s imports %q: the library core does no I/O, starts no goroutines, reads no clock and draws no global randomness", file, imp)
		}
	}
	if !strings.Contains(imp, ".") {
		return
	}
	t.Errorf("%s imports %q: runtime dependencies are the standard library only", file, imp)
}

func TestLibraryPackagesPrintNothingAndStartNoGoroutines(t *testing.T) {
	for _, dir := range libraryLayers {
		forEachLibraryFile(t, dir, func(path string, f *ast.File, fset *token.FileSet) {
			fmtName := importName(f, "fmt")
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.GoStmt:
					t.Errorf("%s: go statement: the library starts no goroutines", fset.Position(n.Pos()))
				case *ast.SelectorExpr:
					if x, ok := n.X.(*ast.Ident); ok && x.Name == fmtName && strings.HasPrefix(n.Sel.Name, "Print") {
						t.Errorf("%s: fmt.%s: the library writes through its Logger only", fset.Position(n.Pos()), n.Sel.Name)
					}
				case *ast.CallExpr:
					if id, ok := n.Fun.(*ast.Ident); ok && (id.Name == "print" || id.Name == "println") {
						t.Errorf("%s: %s: the library writes through its Logger only", fset.Position(n.Pos()), id.Name)
					}
				}
				return true
			})
		})
	}
}

// importName returns the name path is imported under in f ("" if it is
// not imported).
func importName(f *ast.File, path string) string {
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == path {
			if imp.Name != nil {
				return imp.Name.Name
			}
			return path[strings.LastIndex(path, "/")+1:]
		}
	}
	return ""
}

// TestLibraryPanicsNameTheirInvariant: a panic is for a broken internal
// invariant only, and says which (ARCHITECTURE.md, "Errors, not panics, at the edges").
// The one other panic is the checked mode's, which the application turns
// on (Config.CheckContract): a *ContractError built by contractMisuse.
func TestLibraryPanicsNameTheirInvariant(t *testing.T) {
	for _, dir := range libraryLayers {
		forEachLibraryFile(t, dir, func(path string, f *ast.File, fset *token.FileSet) {
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || len(call.Args) != 1 {
					return true
				}
				if id, ok := call.Fun.(*ast.Ident); !ok || id.Name != "panic" {
					return true
				}
				if !namesInvariant(call.Args[0]) {
					t.Errorf("%s: panic without a message starting \"invariant\"", fset.Position(call.Pos()))
				}
				return true
			})
		})
	}
}

// namesInvariant reports whether a panic's argument is a string starting
// "invariant", directly, as a concatenation, through fmt.Sprintf, or through
// a helper whose name says so (brokenStorage builds such a message).
func namesInvariant(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.BasicLit:
		s, _ := strconv.Unquote(e.Value)
		return strings.HasPrefix(s, "invariant")
	case *ast.BinaryExpr:
		return namesInvariant(e.X)
	case *ast.CallExpr:
		if sel, ok := e.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Sprintf" && len(e.Args) > 0 {
			return namesInvariant(e.Args[0])
		}
		if id, ok := e.Fun.(*ast.Ident); ok && (id.Name == "brokenStorage" || id.Name == "contractMisuse") {
			return true
		}
	}
	return false
}

// TestEveryLibraryPackageIsInTheLayerList: a new package outside tools/
// must be placed in the layers, or the rules above would skip it.
func TestEveryLibraryPackageIsInTheLayerList(t *testing.T) {
	listed := map[string]bool{}
	for _, dir := range libraryLayers {
		listed[dir] = true
		if _, err := os.Stat(dir); err != nil {
			t.Errorf("layer %q: %v", dir, err)
		}
	}
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() && path != "." && (name == "tools" || name == "testdata" || strings.HasPrefix(name, ".")) {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") && !listed[filepath.Dir(path)] {
			t.Errorf("%s: package %q is not in libraryLayers", path, filepath.Dir(path))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
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
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		path := filepath.Join(dir, name)
		file, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		f(path, file, fset)
	}
}

// subStateOwners maps each sub-state field of core.Raft (and the outbox's
// record of its kept arrays) to the one file that may assign its fields:
// the state's rules live with it (core's package doc, "Who touches what").
var subStateOwners = map[string]string{
	"uncommitted": "core/uncommitted.go",
	"storage":     "core/storage_stall.go",
	"contract":    "core/checked.go",
	"ready":       "core/ready.go",
	"fetch":       "core/chunks_receiver.go",
	"serving":     "core/chunks_source.go",
	"clock":       "core/election_clock.go",
	"leader":      "core/leader.go",
	"out":         "core/outbox.go",
	"kept":        "core/outbox.go",
	"quiesce":     "core/quiesce.go",
	"heartbeat":   "core/election_clock.go",
	"settings":    "core/settings.go",
}

// TestSubStateFieldsAreAssignedOnlyByTheirOwner: no file assigns a field
// of a sub-state (r.uncommitted.size = ..., r.ready.lastEntry++) but the
// sub-state's own file.
func TestSubStateFieldsAreAssignedOnlyByTheirOwner(t *testing.T) {
	forEachLibraryFile(t, "core", func(path string, f *ast.File, fset *token.FileSet) {
		check := func(lhs ast.Expr) {
			sel, ok := lhs.(*ast.SelectorExpr)
			if !ok {
				return
			}
			inner, ok := sel.X.(*ast.SelectorExpr)
			if !ok {
				return
			}
			owner, ok := subStateOwners[inner.Sel.Name]
			if ok && filepath.ToSlash(path) != owner {
				t.Errorf("%s: assigns %s.%s, which only %s may", fset.Position(lhs.Pos()), inner.Sel.Name, sel.Sel.Name, owner)
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.AssignStmt:
				for _, lhs := range n.Lhs {
					check(lhs)
				}
			case *ast.IncDecStmt:
				check(n.X)
			}
			return true
		})
	})
}

// chunkMessageNames are the names whose use marks a function as handling
// the chunked snapshot transfer's messages.
var chunkMessageNames = map[string]bool{
	"MsgSnapOffer": true, "MsgSnapChunkReq": true, "MsgSnapChunk": true, "MsgSnapChunkSaved": true, "LocalSnapshotThread": true,
}

// reusedChunkFields are the Message fields the chunk messages reuse with
// meanings of their own (raftpb/chunk_messages.go): the snapshot index and
// term, the chunk number, the chunk size or refusal, the bytes or sources.
var reusedChunkFields = map[string]bool{"Index": true, "LogTerm": true, "Commit": true, "RejectHint": true, "Context": true}

// TestOnlyTheChunkComponentReadsChunkMessageFields: a function outside
// raftpb and core's chunked-transfer component (core/chunks*.go) that
// handles chunk messages (it names a chunk message type or
// LocalSnapshotThread) reads and writes them through raftpb's typed views
// (ParseChunk, ChunkRequest{...}.Message(), ...), never through the
// fields they reuse: no m.Commit as a chunk number, no m.Context as chunk
// bytes. Every non-test Go file of the module is checked, tools included.
func TestOnlyTheChunkComponentReadsChunkMessageFields(t *testing.T) {
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch {
			case path == ".":
			case path == "raftpb", d.Name() == "testdata", strings.HasPrefix(d.Name(), "."), path == filepath.Join("tools", "benchcmp"):
				return filepath.SkipDir
			}
			return nil
		}
		name := filepath.Base(path)
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") ||
			(filepath.Dir(path) == "core" && strings.HasPrefix(name, "chunks")) {
			return nil
		}
		checkChunkFieldReads(t, path)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// checkChunkFieldReads fails on each reused field a chunk-handling
// function of the file at path selects.
func checkChunkFieldReads(t *testing.T, path string) {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	for _, decl := range f.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Body == nil || !namesChunkMessages(fn.Body) {
			continue
		}
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok && reusedChunkFields[sel.Sel.Name] && !isMetadataField(sel) {
				t.Errorf("%s: %s handles chunk messages and selects .%s: use raftpb's typed views (ParseChunk, ...)",
					fset.Position(sel.Pos()), fn.Name.Name, sel.Sel.Name)
			}
			return true
		})
	}
}

// namesChunkMessages reports whether body names a chunk message type or
// the snapshot worker.
func namesChunkMessages(body *ast.BlockStmt) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && chunkMessageNames[id.Name] {
			found = true
		}
		return !found
	})
	return found
}

// isMetadataField reports whether sel reads a field of something other
// than a message: x.Metadata.Index, x.ID.Index (a typed view's) or a
// status's.
func isMetadataField(sel *ast.SelectorExpr) bool {
	inner, ok := sel.X.(*ast.SelectorExpr)
	return ok && (inner.Sel.Name == "Metadata" || inner.Sel.Name == "ID")
}
