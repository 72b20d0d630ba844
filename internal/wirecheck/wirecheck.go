// Package wirecheck keeps the module's citations of docs/wire honest: every
// fact recorded there has an id, unique across the records, and Go sources
// cite facts as "docs/wire/<record>.md <ID>[, <ID>...]" (a range such as
// "K2-K13" names every id between). Its test fails when a cited record or
// id does not exist or an id is defined twice, so a record can be reorganised
// without leaving a test pointing at nothing.
package wirecheck

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// wireDir is where the records live, relative to the module root.
const wireDir = "docs/wire"

// An id is defined by a table row that starts with it ("| K6 | ...") or by
// a heading that does ("## S2. Create").
var (
	rowDef     = regexp.MustCompile(`(?m)^\| ([A-Z]{1,2}[0-9]+) \|`)
	headingDef = regexp.MustCompile(`(?m)^#{2,6} ([A-Z]{1,2}[0-9]+)\. `)
)

// A comment wrapped across lines is joined first, so that a citation split
// by gofmt's line breaks still reads as one.
var (
	commentBreak = regexp.MustCompile(`\n[ \t]*//[ \t]*`)
	citation     = regexp.MustCompile(`docs/wire/([A-Za-z0-9_.-]+\.md)((?:(?:,| and)? [A-Z]{1,2}[0-9]+(?:-[A-Z]{1,2}[0-9]+)?\b)*)`)
	citedID      = regexp.MustCompile(`([A-Z]{1,2})([0-9]+)(?:-([A-Z]{1,2})([0-9]+))?`)
)

// cite is one citation: a record and the ids it names (none for the whole
// record).
type cite struct {
	record string
	ids    []string
}

// citations finds the citations in a Go source's text. A malformed range
// (other prefixes, or backwards) is returned as its text, which no record
// defines, so the check reports it.
func citations(src string) []cite {
	var out []cite
	for _, m := range citation.FindAllStringSubmatch(commentBreak.ReplaceAllString(src, " "), -1) {
		c := cite{record: m[1]}
		for _, r := range citedID.FindAllStringSubmatch(m[2], -1) {
			if r[3] == "" {
				c.ids = append(c.ids, r[0])
				continue
			}
			lo, _ := strconv.Atoi(r[2])
			hi, _ := strconv.Atoi(r[4])
			if r[1] != r[3] || lo > hi {
				c.ids = append(c.ids, r[0])
				continue
			}
			for n := lo; n <= hi; n++ {
				c.ids = append(c.ids, r[1]+strconv.Itoa(n))
			}
		}
		out = append(out, c)
	}
	return out
}

// definitions reads every record under root's docs/wire: the ids each
// defines, and a problem for each id defined more than once anywhere.
func definitions(root string) (map[string]map[string]bool, []string, error) {
	files, err := filepath.Glob(filepath.Join(root, wireDir, "*.md"))
	if err != nil {
		return nil, nil, err
	}
	sort.Strings(files)
	defs := map[string]map[string]bool{}
	where := map[string]string{}
	var problems []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, err
		}
		name := filepath.Base(f)
		defs[name] = map[string]bool{}
		for _, re := range []*regexp.Regexp{rowDef, headingDef} {
			for _, m := range re.FindAllStringSubmatch(string(b), -1) {
				if prev, ok := where[m[1]]; ok {
					problems = append(problems, fmt.Sprintf("%s is defined twice: in %s and in %s", m[1], prev, name))
					continue
				}
				where[m[1]] = name
				defs[name][m[1]] = true
			}
		}
	}
	return defs, problems, nil
}

// check lists every problem with the citations in root's Go files: records
// that do not exist, ids a record does not define, ids defined twice.
func check(root string) ([]string, error) {
	defs, problems, err := definitions(root)
	if err != nil {
		return nil, err
	}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		for _, c := range citations(string(b)) {
			ids, ok := defs[c.record]
			if !ok {
				problems = append(problems, fmt.Sprintf("%s cites %s/%s, which does not exist", rel, wireDir, c.record))
				continue
			}
			for _, id := range c.ids {
				if !ids[id] {
					problems = append(problems, fmt.Sprintf("%s cites %s/%s %s, which that record does not define", rel, wireDir, c.record, id))
				}
			}
		}
		return nil
	})
	return problems, err
}
