package raft

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The root re-exports core's and tracker's types as aliases, and a Go
// type alias shows neither fields nor methods in go doc or on
// pkg.go.dev. So the files types_*.go give each alias a doc comment that
// carries the declaration it names: the type's own doc, every exported
// field or interface method with its doc, and the methods a user calls.
// The files are written by this test from the declarations themselves, so
// the two cannot drift: TestTypeDocsMatchTheirDefinitions fails when they
// differ, and TICKRAFT_REWRITE=1 rewrites them. One file holds one
// concern: configuration, storage, the Ready batch, status, logging,
// errors.

// documentedAlias is one alias of a types_*.go file.
type documentedAlias struct {
	file string // the generated file that declares it
	name string // the root's name
	dir  string // the defining package's directory
	typ  string // the name there
	// methods are the methods shown; nil shows every exported one.
	methods []string
}

// documentedAliases are the types a user of the root meets, in the order
// their files declare them.
var documentedAliases = []documentedAlias{
	{file: "types_config.go", name: "Config", dir: "core", typ: "Config"},
	{file: "types_config.go", name: "ConfigError", dir: "core", typ: "ConfigError"},
	{file: "types_config.go", name: "GroupCache", dir: "core", typ: "GroupCache"},
	{file: "types_storage.go", name: "Storage", dir: "core", typ: "Storage"},
	{file: "types_storage.go", name: "MemoryStorage", dir: "core", typ: "MemoryStorage"},
	{file: "types_storage.go", name: "SnapshotSizer", dir: "core", typ: "SnapshotSizer"},
	{file: "types_storage.go", name: "SavedChunks", dir: "core", typ: "SavedChunks"},
	{file: "types_ready.go", name: "Ready", dir: "core", typ: "Ready"},
	{file: "types_ready.go", name: "SoftState", dir: "core", typ: "SoftState"},
	{file: "types_ready.go", name: "StateType", dir: "core", typ: "StateType"},
	{file: "types_ready.go", name: "ReadState", dir: "core", typ: "ReadState"},
	{file: "types_status.go", name: "BasicStatus", dir: "core", typ: "BasicStatus"},
	{file: "types_status.go", name: "Status", dir: "core", typ: "Status"},
	{file: "types_status.go", name: "SnapshotFetch", dir: "core", typ: "SnapshotFetch"},
	{file: "types_status.go", name: "Membership", dir: "tracker", typ: "Config", methods: []string{"String", "Clone"}},
	{file: "types_status.go", name: "Progress", dir: "tracker", typ: "Progress", methods: []string{"IsPaused", "String"}},
	{file: "types_status.go", name: "ProgressState", dir: "tracker", typ: "StateType", methods: []string{"String"}},
	{file: "types_status.go", name: "Inflights", dir: "tracker", typ: "Inflights", methods: []string{"Count", "Bytes", "Full", "RoomBytes"}},
	{file: "types_errors.go", name: "LaggingError", dir: "core", typ: "LaggingError"},
	{file: "types_errors.go", name: "LostLogError", dir: "core", typ: "LostLogError"},
	{file: "types_errors.go", name: "ContractError", dir: "core", typ: "ContractError"},
	{file: "types_logging.go", name: "Logger", dir: "core", typ: "Logger"},
	{file: "types_logging.go", name: "Level", dir: "core", typ: "Level"},
	{file: "types_logging.go", name: "Attr", dir: "core", typ: "Attr"},
}

func TestTypeDocsMatchTheirDefinitions(t *testing.T) {
	want, err := renderTypesFiles()
	if err != nil {
		t.Fatal(err)
	}
	rewrite := os.Getenv("TICKRAFT_REWRITE") != ""
	for _, name := range slices.Sorted(maps.Keys(want)) {
		if rewrite {
			if err := os.WriteFile(name, want[name], 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want[name]) {
			t.Errorf("%s does not match the declarations it documents; rewrite it with\n\tTICKRAFT_REWRITE=1 go test -run TestTypeDocsMatchTheirDefinitions .", name)
		}
	}
	// No generated file of an earlier layout may linger beside them.
	found, _ := filepath.Glob("types*.go")
	for _, name := range found {
		if _, ok := want[name]; !ok {
			t.Errorf("%s is no generated file of documentedAliases: delete it", name)
		}
	}
}

// TestTheRenderedDocsCarryEveryExportedField: the rendering covers every
// exported field; a field added to core.Config shows in the root's docs.
func TestTheRenderedDocsCarryEveryExportedField(t *testing.T) {
	files, err := renderTypesFiles()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range documentedAliases {
		src := files[a.file]
		d, err := loadDecls(a.dir)
		if err != nil {
			t.Fatal(err)
		}
		spec := d.types[a.typ]
		if spec == nil {
			t.Fatalf("%s.%s not found", a.dir, a.typ)
		}
		if st, ok := spec.Type.(*ast.StructType); ok {
			for _, f := range st.Fields.List {
				for _, n := range fieldNames(f) {
					if ast.IsExported(n) && !regexp.MustCompile(`(?m)^//\t.*\b`+n+`\b`).Match(src) {
						t.Errorf("%s: field %s missing from the rendered docs", a.name, n)
					}
				}
			}
		}
	}
}

// renderTypesFiles returns each types_*.go file as it must read.
func renderTypesFiles() (map[string][]byte, error) {
	var order []string
	bodies := map[string]*strings.Builder{}
	imports := map[string]map[string]bool{}
	for _, a := range documentedAliases {
		b := bodies[a.file]
		if b == nil {
			b = &strings.Builder{}
			bodies[a.file], imports[a.file] = b, map[string]bool{}
			order = append(order, a.file)
		}
		imports[a.file][a.dir] = true
		d, err := loadDecls(a.dir)
		if err != nil {
			return nil, err
		}
		text, err := d.aliasDoc(a)
		if err != nil {
			return nil, err
		}
		b.WriteString("\n")
		for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
			if line == "" {
				b.WriteString("//\n")
				continue
			}
			b.WriteString("// " + line + "\n")
		}
		fmt.Fprintf(b, "type %s = %s.%s\n", a.name, filepath.Base(a.dir), a.typ)
	}
	out := map[string][]byte{}
	for _, name := range order {
		var f strings.Builder
		f.WriteString("// Code generated by TestTypeDocsMatchTheirDefinitions (typedocs_test.go)\n")
		f.WriteString("// from the declarations in core and tracker. DO NOT EDIT: rewrite it with\n")
		f.WriteString("// TICKRAFT_REWRITE=1 go test -run TestTypeDocsMatchTheirDefinitions .\n\n")
		f.WriteString("package raft\n\nimport (\n")
		for _, dir := range slices.Sorted(maps.Keys(imports[name])) {
			fmt.Fprintf(&f, "\t\"github.com/tickraft/raft/%s\"\n", dir)
		}
		f.WriteString(")\n")
		f.WriteString(bodies[name].String())
		src, err := format.Source([]byte(f.String()))
		if err != nil {
			return nil, err
		}
		out[name] = src
	}
	return out, nil
}

// pkgDecls are the type and method declarations of one package, with the
// source they were parsed from.
type pkgDecls struct {
	fset    *token.FileSet
	src     map[string][]byte // by file name
	types   map[string]*ast.TypeSpec
	typeDoc map[string]*ast.CommentGroup
	methods map[string][]*ast.FuncDecl // by receiver type
}

var declCache = map[string]*pkgDecls{}

// loadDecls parses the non-test files of dir.
func loadDecls(dir string) (*pkgDecls, error) {
	if d := declCache[dir]; d != nil {
		return d, nil
	}
	d := &pkgDecls{fset: token.NewFileSet(), src: map[string][]byte{}, types: map[string]*ast.TypeSpec{},
		typeDoc: map[string]*ast.CommentGroup{}, methods: map[string][]*ast.FuncDecl{}}
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		f, err := parser.ParseFile(d.fset, name, src, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		d.src[d.fset.File(f.Pos()).Name()] = src
		d.collect(f)
	}
	declCache[dir] = d
	return d, nil
}

// collect records f's type specs and methods.
func (d *pkgDecls) collect(f *ast.File) {
	for _, decl := range f.Decls {
		switch decl := decl.(type) {
		case *ast.GenDecl:
			for _, s := range decl.Specs {
				ts, ok := s.(*ast.TypeSpec)
				if !ok {
					continue
				}
				d.types[ts.Name.Name] = ts
				d.typeDoc[ts.Name.Name] = cmpOrDoc(ts.Doc, decl.Doc)
			}
		case *ast.FuncDecl:
			if decl.Recv == nil || len(decl.Recv.List) != 1 || !decl.Name.IsExported() {
				continue
			}
			recv := decl.Recv.List[0].Type
			if star, ok := recv.(*ast.StarExpr); ok {
				recv = star.X
			}
			if id, ok := recv.(*ast.Ident); ok {
				d.methods[id.Name] = append(d.methods[id.Name], decl)
			}
		}
	}
}

func cmpOrDoc(a, b *ast.CommentGroup) *ast.CommentGroup {
	if a != nil {
		return a
	}
	return b
}

// text returns the source of n, from its start to its end.
func (d *pkgDecls) text(from, to token.Pos) string {
	p := d.fset.Position(from)
	return string(d.src[p.Filename][p.Offset:d.fset.Position(to).Offset])
}

// aliasDoc is the doc comment of a's alias, as plain text lines.
func (d *pkgDecls) aliasDoc(a documentedAlias) (string, error) {
	spec := d.types[a.typ]
	if spec == nil {
		return "", fmt.Errorf("%s.%s: no such type", a.dir, a.typ)
	}
	var b strings.Builder
	doc := strings.TrimSpace(d.typeDoc[a.typ].Text())
	if a.name != a.typ || doc == "" {
		fmt.Fprintf(&b, "%s is %s.%s.\n\n", a.name, filepath.Base(a.dir), a.typ)
	}
	b.WriteString(doc + "\n")
	switch t := spec.Type.(type) {
	case *ast.StructType:
		d.writeFields(&b, "Its fields:", t.Fields)
	case *ast.InterfaceType:
		d.writeFields(&b, "Its methods:", t.Methods)
	default:
		fmt.Fprintf(&b, "\nIts definition:\n\n\ttype %s %s\n", a.typ, d.text(spec.Type.Pos(), spec.Type.End()))
	}
	d.writeMethods(&b, a)
	return b.String(), nil
}

// writeFields writes the exported entries of a field list: each one's doc
// comment and declaration, as a code block.
func (d *pkgDecls) writeFields(b *strings.Builder, title string, fields *ast.FieldList) {
	var blocks []string
	for _, f := range fields.List {
		if !slices.ContainsFunc(fieldNames(f), ast.IsExported) {
			continue
		}
		var fb strings.Builder
		for _, line := range docLines(f.Doc) {
			fb.WriteString("// " + line + "\n")
		}
		fb.WriteString(d.text(f.Pos(), f.End()))
		if f.Comment != nil {
			fb.WriteString(" // " + strings.TrimSpace(f.Comment.Text()))
		}
		blocks = append(blocks, fb.String())
	}
	if len(blocks) == 0 {
		return
	}
	fmt.Fprintf(b, "\n%s\n\n", title)
	for i, block := range blocks {
		if i > 0 && strings.HasPrefix(block, "//") {
			b.WriteString("\n")
		}
		for _, line := range strings.Split(block, "\n") {
			b.WriteString("\t" + strings.TrimSpace(line) + "\n")
		}
	}
}

// writeMethods writes the signature and doc of the methods a shows.
func (d *pkgDecls) writeMethods(b *strings.Builder, a documentedAlias) {
	var shown []*ast.FuncDecl
	for _, fn := range d.methods[a.typ] {
		if a.methods == nil || slices.Contains(a.methods, fn.Name.Name) {
			shown = append(shown, fn)
		}
	}
	if len(shown) == 0 {
		return
	}
	slices.SortFunc(shown, func(x, y *ast.FuncDecl) int { return strings.Compare(x.Name.Name, y.Name.Name) })
	b.WriteString("\nIts methods:\n")
	for _, fn := range shown {
		end := fn.Type.End()
		fmt.Fprintf(b, "\n\t%s\n", strings.TrimSpace(d.text(fn.Pos(), end)))
		for _, line := range docLines(fn.Doc) {
			b.WriteString(strings.TrimRight("\t    "+line, " ") + "\n")
		}
	}
}

// fieldNames are the names a field entry declares; an embedded field is
// named by its type.
func fieldNames(f *ast.Field) []string {
	if len(f.Names) == 0 {
		t := f.Type
		if star, ok := t.(*ast.StarExpr); ok {
			t = star.X
		}
		switch t := t.(type) {
		case *ast.Ident:
			return []string{t.Name}
		case *ast.SelectorExpr:
			return []string{t.Sel.Name}
		}
		return nil
	}
	var names []string
	for _, n := range f.Names {
		names = append(names, n.Name)
	}
	return names
}

// docLines are the lines of a doc comment, without comment markers.
func docLines(g *ast.CommentGroup) []string {
	text := strings.TrimRight(g.Text(), "\n")
	if text == "" {
		return nil
	}
	return strings.Split(text, "\n")
}
