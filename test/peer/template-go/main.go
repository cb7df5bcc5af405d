// Command templatego renders Go text/template cases for the template engine's
// differential test: it reads a JSON array of cases on stdin and writes a JSON
// array of results (output or error text) on stdout.
package main

import (
	"encoding/json"
	"os"
	"strings"
	"text/template"
)

type tcase struct {
	Text       string         `json:"text"`
	Defs       []string       `json:"defs"`
	Data       any            `json:"data"`
	MissingKey string         `json:"missingKey"`
}

type result struct {
	Out      string `json:"out"`
	ParseErr string `json:"parseErr,omitempty"`
	ExecErr  string `json:"execErr,omitempty"`
}

func main() {
	var cases []tcase
	if err := json.NewDecoder(os.Stdin).Decode(&cases); err != nil {
		panic(err)
	}
	funcs := template.FuncMap{
		"upper": strings.ToUpper,
		"join":  func(sep string, s []any) string { parts := make([]string, len(s)); for i, v := range s { parts[i] = v.(string) }; return strings.Join(parts, sep) },
		"fail":  func() (string, error) { return "", os.ErrNotExist },
	}
	results := make([]result, len(cases))
	for i, c := range cases {
		t := template.New("t").Funcs(funcs)
		if c.MissingKey != "" {
			t = t.Option("missingkey=" + c.MissingKey)
		}
		var err error
		for j, d := range c.Defs {
			if _, err = t.New("def" + string(rune('a'+j))).Parse(d); err != nil {
				break
			}
		}
		if err == nil {
			_, err = t.Parse(c.Text)
		}
		if err != nil {
			results[i] = result{ParseErr: err.Error()}
			continue
		}
		var sb strings.Builder
		if err := t.ExecuteTemplate(&sb, "t", c.Data); err != nil {
			results[i] = result{Out: sb.String(), ExecErr: err.Error()}
			continue
		}
		results[i] = result{Out: sb.String()}
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(results); err != nil {
		panic(err)
	}
}
